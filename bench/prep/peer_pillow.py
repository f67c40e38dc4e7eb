#!/usr/bin/env python3
"""peer_pillow.py: the usual Python way to prepare ImageNet, as the peer of
alexnet-prep in bench/prep: Pillow decodes, resizes the shorter side to 256
with its antialiased bilinear filter and crops the centre; one worker process
per core; the parent writes every image into an h5py dataset [N,256,256,3].
With QUALITY (the peer of alexnet-prep --store jpeg, as FFCV stores JPEG),
each worker re-encodes the 256x256 image with Pillow at that quality (4:2:0,
optimised Huffman tables, as alexnet-prep) and the parent writes the streams
back to back into one uint8 dataset with their offsets and lengths.
Usage: peer_pillow.py INPUT_DIR OUTPUT.h5 PROCESSES [QUALITY]   (prints images/s)
"""
import io
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


def load_jpeg(args):
    path, quality = args
    buffer = io.BytesIO()
    Image.fromarray(load(path)).save(buffer, "JPEG", quality=quality, subsampling="4:2:0", optimize=True)
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8)


def main():
    root, out, procs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    quality = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".JPEG"))
    start = time.monotonic()
    with h5py.File(out, "w") as f, multiprocessing.Pool(procs) as pool:
        if quality:
            streams = list(pool.imap(load_jpeg, [(p, quality) for p in paths], chunksize=16))
            lengths = np.array([len(s) for s in streams], dtype=np.uint32)
            f["jpeg"] = np.concatenate(streams)
            f["jpeg_offsets"] = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.uint64)
            f["jpeg_lengths"] = lengths
        else:
            images = f.create_dataset("images", (len(paths), 256, 256, 3), np.uint8, chunks=(1, 256, 256, 3))
            for i, image in enumerate(pool.imap(load, paths, chunksize=16)):
                images[i] = image
    seconds = time.monotonic() - start
    print("%d %.3f" % (len(paths), seconds))


if __name__ == "__main__":
    main()
