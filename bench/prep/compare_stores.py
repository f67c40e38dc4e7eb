#!/usr/bin/env python3
"""compare_stores.py: a raw-store dataset against JPEG-store datasets made
from the same inputs with the same options (bench/prep/run.sh STORE=jpeg):
bytes per image and the ratio to raw, and the mean absolute difference of
the decoded pixels from the raw ones (0..255 units, every pixel of every
training image). Reads the shards with h5py and decodes with Pillow, as
docs/FORMAT.md §1.1 shows. Not a test.
Usage: compare_stores.py RAW_DIR JPEG_DIR [JPEG_DIR...]
"""
import glob
import io
import os
import sys

import h5py
import numpy as np
from PIL import Image


def shards(directory):
    return sorted(glob.glob(os.path.join(directory, "train-*.h5")))


def main():
    raw_dir, jpeg_dirs = sys.argv[1], sys.argv[2:]
    raw = {}
    for path in shards(raw_dir):
        with h5py.File(path, "r") as f:
            for image_id, image in zip(f["image_ids"][:], f["images"][:]):
                raw[int(image_id)] = image
    print("%-28s %8s %14s %10s %14s" % ("store", "images", "bytes/image", "vs raw", "mean |diff|"))
    print("%-28s %8d %14d %10s %14s" % ("raw", len(raw), 256 * 256 * 3, "1.00x", "0"))
    for directory in jpeg_dirs:
        total_bytes, total_diff, count, label = 0, 0.0, 0, ""
        for path in shards(directory):
            with h5py.File(path, "r") as f:
                label = "jpeg q%d %s" % (f.attrs["jpeg_quality"], f.attrs["jpeg_subsampling"].decode()
                                         if isinstance(f.attrs["jpeg_subsampling"], bytes)
                                         else f.attrs["jpeg_subsampling"])
                blob = f["jpeg"][:]
                for image_id, offset, length in zip(f["image_ids"][:], f["jpeg_offsets"][:], f["jpeg_lengths"][:]):
                    stream = blob[offset:offset + length].tobytes()
                    image = np.asarray(Image.open(io.BytesIO(stream)).convert("RGB"))
                    total_diff += np.abs(image.astype(np.int32) - raw[int(image_id)].astype(np.int32)).mean()
                    total_bytes += int(length)
                    count += 1
        per = total_bytes / count
        print("%-28s %8d %14.0f %9.2fx %14.3f" % (label, count, per, 256 * 256 * 3 / per, total_diff / count))


if __name__ == "__main__":
    main()
