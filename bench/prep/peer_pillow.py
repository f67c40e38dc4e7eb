#!/usr/bin/env python3
"""peer_pillow.py: the usual Python way to prepare ImageNet, as the peer of
alexnet-prep in bench/prep: Pillow decodes, resizes the shorter side to 256
with its antialiased bilinear filter and crops the centre; one worker process
per core; the parent writes every image into an h5py dataset [N,256,256,3].
Usage: peer_pillow.py INPUT_DIR OUTPUT.h5 PROCESSES   (prints images/s)
"""
import multiprocessing
import os
import sys
import time

import h5py
import numpy as np
from PIL import Image


def load(path):
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = 256.0 / min(w, h)
        nw, nh = max(256, round(w * s)), max(256, round(h * s))
        im = im.resize((nw, nh), Image.BILINEAR)
        left, top = (nw - 256) // 2, (nh - 256) // 2
        return np.asarray(im.crop((left, top, left + 256, top + 256)), dtype=np.uint8)


def main():
    root, out, procs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".JPEG"))
    start = time.monotonic()
    with h5py.File(out, "w") as f, multiprocessing.Pool(procs) as pool:
        images = f.create_dataset("images", (len(paths), 256, 256, 3), np.uint8, chunks=(1, 256, 256, 3))
        for i, image in enumerate(pool.imap(load, paths, chunksize=16)):
            images[i] = image
    seconds = time.monotonic() - start
    print("%d %.3f" % (len(paths), seconds))


if __name__ == "__main__":
    main()
