"""torch_loader.py: the peer of bench_loader.c, a PyTorch DataLoader over the
same dataset directory: an h5py Dataset that reads one image per item and
applies the same augmentation (random 224 crop, flip p=0.5, PCA lighting with
alpha ~ N(0, 0.1), mean image subtracted at the source pixel), returning float32
[3,224,224]; the same number of workers and batch size. Over a JPEG-store
dataset (alexnet-prep --store jpeg) each item reads its stream's bytes and
decodes them with Pillow first, as alexnet's loader decodes with libjpeg-turbo.

    python3 torch_loader.py DATA_DIR [WORKERS] [BATCHES] [BATCH]
"""
import glob
import io
import os
import sys
import time

import h5py
import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset


class ShardDataset(Dataset):
    def __init__(self, data_dir):
        meta = h5py.File(os.path.join(data_dir, "dataset.h5"), "r")
        self.mean = meta["mean_image"][...].astype(np.float32)  # [256,256,3]
        self.eigval = meta["eigenvalues"][...]
        self.eigvec = meta["eigenvectors"][...]
        self.paths = sorted(glob.glob(os.path.join(data_dir, "train-*-of-*.h5")))
        self.index = []
        for s, path in enumerate(self.paths):
            with h5py.File(path, "r") as f:
                self.jpeg = "jpeg" in f
                self.index += [(s, i) for i in range(f["labels"].shape[0])]
        self.files = None

    def __len__(self):
        return len(self.index)

    def __getitem__(self, k):
        if self.files is None:  # opened per worker process
            self.files = [h5py.File(p, "r") for p in self.paths]
        s, i = self.index[k]
        f = self.files[s]
        if self.jpeg:
            offset, length = int(f["jpeg_offsets"][i]), int(f["jpeg_lengths"][i])
            stream = f["jpeg"][offset:offset + length].tobytes()
            image = np.asarray(Image.open(io.BytesIO(stream)).convert("RGB"), dtype=np.float32)
        else:
            image = f["images"][i].astype(np.float32)  # [256,256,3]
        label = int(f["labels"][i])
        rng = np.random.default_rng()
        x, y = rng.integers(0, 33, size=2)
        alpha = rng.normal(0.0, 0.1, size=3)
        shift = 255.0 * self.eigvec @ (alpha * self.eigval)
        crop = image[y:y + 224, x:x + 224] - self.mean[y:y + 224, x:x + 224] + shift.astype(np.float32)
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        return torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1))), label


def main():
    data_dir = sys.argv[1]
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    batches = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 128
    loader = DataLoader(ShardDataset(data_dir), batch_size=batch, shuffle=True, num_workers=workers,
                        drop_last=True, persistent_workers=True, prefetch_factor=3)
    images, start, done = 0, None, 0
    while done <= batches:
        for images_batch, _ in loader:
            if start is None:
                start = time.monotonic()  # after one warm-up batch
            else:
                images += images_batch.shape[0]
            done += 1
            if done > batches:
                break
    seconds = time.monotonic() - start
    print(f"torch DataLoader: {workers} workers, batch {batch}: {images / seconds:.0f} images/s "
          f"({images / seconds / workers:.0f} images/s per worker) over {images} images")


if __name__ == "__main__":
    main()
