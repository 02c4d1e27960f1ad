#!/usr/bin/env python3
"""Deterministic rendered images as .npy model inputs, for calibration
tests and benches on a machine without photos: each a smooth scene (two
colour gradients), a few filled disks and rectangles with soft edges,
stripes and mild noise, so that activations have the spatial structure and
channel correlation of pictures rather than of white noise.

  make_images.py OUT_DIR N SIZE [--norm unit|imagenet] [--seed S]

writes OUT_DIR/img_00.npy ... float32 [1, 3, SIZE, SIZE] (NCHW):
  unit:      x - 0.5 for x in [0, 1] (ISNet's normalisation)
  imagenet:  (x - mean) / std with ImageNet's mean and std (PaddleOCR's)
"""
import argparse
import os

import numpy as np


def render(rng, size):
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    c0, c1 = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    ang = rng.uniform(0, np.pi)
    t = (np.cos(ang) * xx + np.sin(ang) * yy + 1) / 2
    img = c0[:, None, None] * (1 - t) + c1[:, None, None] * t
    for _ in range(rng.integers(3, 7)):
        col = rng.uniform(0, 1, 3)[:, None, None]
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
        if rng.uniform() < 0.5:
            d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) - r
        else:
            d = np.maximum(np.abs(xx - cx), np.abs(yy - cy)) - r
        alpha = 1 / (1 + np.exp(d * size / 2.0))  # soft edge, ~2 px
        img = img * (1 - alpha) + col * alpha
    period = rng.uniform(0.02, 0.1)
    stripes = 0.5 + 0.5 * np.sin(2 * np.pi * (xx + 0.3 * yy) / period)
    mask = (yy > rng.uniform(0.6, 0.9))
    img = np.where(mask, img * (0.7 + 0.3 * stripes), img)
    img += rng.normal(0, 0.02, img.shape)
    return np.clip(img, 0, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("n", type=int)
    ap.add_argument("size", type=int)
    ap.add_argument("--norm", choices=["unit", "imagenet"], default="unit")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    mean = np.array([0.485, 0.456, 0.406])[:, None, None]
    std = np.array([0.229, 0.224, 0.225])[:, None, None]
    for i in range(a.n):
        x = render(rng, a.size)
        x = x - 0.5 if a.norm == "unit" else (x - mean) / std
        np.save(os.path.join(a.out, "img_%02d.npy" % i),
                x[None].astype(np.float32))


if __name__ == "__main__":
    main()
