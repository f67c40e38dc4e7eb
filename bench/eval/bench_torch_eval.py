#!/usr/bin/env python3
"""bench_torch_eval.py: the peer of bench_eval. PyTorch (CPU) runs the same
ten-crop evaluation: the same network (Krizhevsky et al. 2012, Figure 2, with
2-group conv2/4/5, LRN n=5 alpha=1e-4 beta=0.75 k=2, 224 crops with pad 2,
width multiplier), the ten views of 256x256 uint8 images with the mean image
subtracted, softmax averaged over the views. Prints images/s in the same
format as bench_eval."""
import argparse
import time

import torch
import torch.nn as nn


def scaled(c, w, even=True):
    v = round(c * w / 2.0) * 2 if even else round(c * w)
    return max(v, 2)


def alexnet(width, classes):
    c1, c2, c3, c4, c5 = (scaled(c, width) for c in (96, 256, 384, 384, 256))
    f = scaled(4096, width, even=False)
    return nn.Sequential(
        nn.Conv2d(3, c1, 11, 4, 2), nn.ReLU(), nn.LocalResponseNorm(5, 1e-4 * 5, 0.75, 2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(c1, c2, 5, 1, 2, groups=2), nn.ReLU(), nn.LocalResponseNorm(5, 1e-4 * 5, 0.75, 2.0),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(c2, c3, 3, 1, 1), nn.ReLU(),
        nn.Conv2d(c3, c4, 3, 1, 1, groups=2), nn.ReLU(),
        nn.Conv2d(c4, c5, 3, 1, 1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(c5 * 36, f), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(f, f), nn.ReLU(), nn.Dropout(0.5), nn.Linear(f, classes))


def ten_views(images, mean):
    """images [B,256,256,3] uint8, mean [256,256,3] float -> [B*10,3,224,224]."""
    x = images.float() - mean  # mean at the source pixel, before any mirror
    x = x.permute(0, 3, 1, 2)  # [B,3,256,256]
    crops = [x[:, :, y:y + 224, c:c + 224] for (y, c) in ((0, 0), (0, 32), (32, 0), (32, 32), (16, 16))]
    crops += [v.flip(3) for v in crops]
    return torch.stack(crops, 1).reshape(-1, 3, 224, 224)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--images", type=int, default=32)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = alexnet(a.width, a.classes).eval()
    images = torch.randint(0, 256, (a.batch, 256, 256, 3), dtype=torch.uint8)
    mean = torch.full((256, 256, 3), 120.0)
    with torch.no_grad():
        def score(n):
            probs = torch.softmax(net(ten_views(images[:n], mean)), 1).reshape(n, 10, -1).mean(1)
            return probs.topk(min(5, a.classes), 1)
        score(a.batch)  # warm-up
        start = time.perf_counter()
        done = 0
        while done < a.images:
            n = min(a.batch, a.images - done)
            score(n)
            done += n
        seconds = time.perf_counter() - start
    print(f"pytorch ten-crop: {done} images in {seconds:.2f} s = {done / seconds:.2f} images/s "
          f"(width {a.width:g}, {a.classes} classes, batch {a.batch} images, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__})")


if __name__ == "__main__":
    main()
