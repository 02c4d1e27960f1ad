#!/usr/bin/env python3
"""Rendered text lines for PP-OCRv4 rec in the fidelity bench (eval.js
--task rec): black-ish text on light backgrounds, DejaVu fonts, resized to
height 48 keeping the aspect, width capped at 320 and right-padded with
zeros, (x/255 - 0.5)/0.5 as PaddleOCR's rec preprocessing; one batch
[N,3,48,320] and its manifest rec.json.

  rec_prep.py --out DIR [--n 24]
"""
import argparse
import json
import os
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import prep

WIDTH = 320   # PP-OCRv4 rec's usual input width (3 x 48 x 320)


def rec_batch(fonts, n, seed):
    rng = random.Random(seed)
    batch, texts = [], []
    for _ in range(n):
        font = ImageFont.truetype(rng.choice(fonts), rng.choice([24, 28, 32]))
        text = prep.sentence(rng, rng.randint(2, 4))
        l, t, r, b = font.getbbox(text)
        im = Image.new("RGB", (r - l + 12, b - t + 10),
                       tuple(rng.randint(200, 255) for _ in range(3)))
        ImageDraw.Draw(im).text((6 - l, 5 - t), text,
                                fill=tuple(rng.randint(0, 70) for _ in range(3)), font=font)
        w = min(WIDTH, max(1, int(round(48 * im.width / im.height))))
        im = im.resize((w, 48), Image.BILINEAR)
        x = (np.asarray(im, dtype=np.float32) / 255.0 - 0.5) / 0.5
        pad = np.zeros((48, WIDTH, 3), np.float32)
        pad[:, :w] = x
        batch.append(pad.transpose(2, 0, 1))
        texts.append(text)
    return np.stack(batch), texts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=24)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    x, texts = rec_batch(prep.font_files(), a.n, 13)
    entries = []
    prep.save(a.out, "rec_batch", x, entries, {"texts": texts})
    man = {"input": "x", "output": "softmax_11.tmp_0", "inputs": entries}
    with open(os.path.join(a.out, "rec.json"), "w") as f:
        json.dump(man, f, indent=1)
    print("rec", len(texts), "lines")


if __name__ == "__main__":
    main()
