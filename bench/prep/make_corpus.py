#!/usr/bin/env python3
"""make_corpus.py: a folder collection of ImageNet-like JPEGs for bench/prep.

Photo-like content without downloading photos: each image is a blend of
smooth colour gradients, fractal texture and sensor noise, 500x375 (or
375x500, or 333..1024 wide), saved as baseline JPEG at quality 96, 4:2:0,
which is what most ILSVRC2012 files are. Usage: make_corpus.py DIR COUNT
"""
import os
import random
import sys

from PIL import Image, ImageFilter


def photo(rng, width, height):
    base = Image.linear_gradient("L").resize((width, height))
    channels = []
    for _ in range(3):
        g = base.rotate(rng.uniform(0, 360), resample=Image.BILINEAR, expand=False)
        noise = Image.effect_noise((width, height), rng.uniform(20, 60))
        texture = Image.effect_mandelbrot((width, height), (-2 + rng.random(), -1.2, 0.6 + rng.random(), 1.2), 60)
        layer = Image.blend(Image.blend(g, texture, 0.35), noise, 0.25)
        channels.append(layer.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2))))
    return Image.merge("RGB", channels)


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    rng = random.Random(2012)
    sizes = [(500, 375), (375, 500), (500, 333), (333, 500), (640, 480), (1024, 768)]
    for i in range(count):
        cls = "n%08d" % (i % 10)
        os.makedirs(os.path.join(out, "train", cls), exist_ok=True)
        w, h = sizes[0] if i % 3 else sizes[i % len(sizes)]
        photo(rng, w, h).save(os.path.join(out, "train", cls, "%s_%d.JPEG" % (cls, i)), quality=96, subsampling=2)


if __name__ == "__main__":
    main()
