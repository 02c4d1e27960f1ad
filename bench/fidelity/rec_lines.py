#!/usr/bin/env python3
"""Text-line inputs for PP-OCRv4 rec (1 x 3 x 48 x 320 float32 .npy files,
normalised as PaddleOCR does: (x / 255 - 0.5) / 0.5), rendered with the
DejaVu fonts from prep.py's word list, no augmentation:

  rec_lines.py OUT_DIR N SEED

Different seeds give different lines (calibration and evaluation sets)."""
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prep  # noqa: E402

H, W = 48, 320


def line(rng, fonts):
    font = ImageFont.truetype(rng.choice(fonts), rng.choice([26, 30, 34]))
    text = prep.sentence(rng, rng.randint(2, 5))
    l, t, r, b = font.getbbox(text)
    im = Image.new("RGB", (r - l + 12, b - t + 10),
                   tuple(rng.randint(200, 255) for _ in range(3)))
    ImageDraw.Draw(im).text((6 - l, 5 - t), text,
                            fill=tuple(rng.randint(0, 70) for _ in range(3)), font=font)
    w = min(W, max(1, int(round(H * im.width / im.height))))
    im = im.resize((w, H), Image.BILINEAR)
    x = (np.asarray(im, dtype=np.float32) / 255.0 - 0.5) / 0.5
    pad = np.zeros((H, W, 3), np.float32)
    pad[:, :w] = x
    return pad.transpose(2, 0, 1)[None]


def main():
    out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    rng = random.Random(seed)
    fonts = prep.font_files()
    for i in range(n):
        np.save(os.path.join(out, "line_%02d.npy" % i), line(rng, fonts))


if __name__ == "__main__":
    main()
