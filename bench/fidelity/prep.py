#!/usr/bin/env python3
"""Real inputs for the fidelity bench, written as raw little-endian float32
files plus a manifest (JSON) per model family.

  prep.py --photos DIR --out DIR

ISNet:  RGB photo resized (bilinear) to 1024x1024, x/255 - 0.5 (std 1.0),
        NCHW [1,3,1024,1024].
det:    text rendered with PIL (DejaVu fonts) on plain and photo
        backgrounds, 640x640, BGR channel order, (x/255 - mean)/std with
        mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225) applied to
        channels in that (BGR) order, as PaddleOCR's det preprocessing does.
cls:    text-line crops (half of them rotated 180 degrees), resized to
        height 48 keeping the aspect, width capped at 192, right-padded
        with zeros, (x/255 - 0.5)/0.5, one batch [N,3,48,192].
"""
import argparse
import glob
import json
import os
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ISNET_PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png",
                "motorcycle_left.png", "rocket.jpg", "horse.png"]
BG_PHOTOS = ["coffee.png", "chelsea.png", "rocket.jpg"]

WORDS = ("onnx tensor ring decomposition invoice total amount due date "
         "receipt number 2024 street avenue phone 555 0199 hello world "
         "quick brown fox jumps over the lazy dog price 12.50 EUR order "
         "shipping address customer name reference code batch model "
         "compress layer rank error speed latency memory").split()


def font_files():
    fs = sorted(glob.glob("/usr/share/fonts/truetype/dejavu/*.ttf"))
    if not fs:
        raise SystemExit("prep.py: no TrueType fonts under /usr/share/fonts")
    return fs


def save(out_dir, name, arr, entries, extra=None):
    arr = np.ascontiguousarray(arr, dtype="<f4")
    path = os.path.join(out_dir, name + ".f32")
    arr.tofile(path)
    e = {"name": name, "file": os.path.abspath(path), "dims": list(arr.shape)}
    if extra:
        e.update(extra)
    entries.append(e)


def load_rgb(path):
    im = Image.open(path)
    return im.convert("RGB")


def isnet_norm(im):
    """An RGB image as ISNet's input: 1024 x 1024, x/255 - 0.5, NCHW."""
    im = im.resize((1024, 1024), Image.BILINEAR)
    x = np.asarray(im, dtype=np.float32) / 255.0 - 0.5
    return x.transpose(2, 0, 1)[None]


def isnet_inputs(photos, out_dir):
    entries = []
    for p in ISNET_PHOTOS:
        save(out_dir, "isnet_" + os.path.splitext(p)[0],
             isnet_norm(load_rgb(os.path.join(photos, p))), entries)
    return entries


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def render_page(rng, fonts, bg, size=640):
    im = bg.copy()
    d = ImageDraw.Draw(im)
    y = rng.randint(10, 40)
    while y < size - 40:
        fs = rng.choice([16, 20, 24, 28, 36, 48])
        font = ImageFont.truetype(rng.choice(fonts), fs)
        text = sentence(rng, rng.randint(2, 6))
        x = rng.randint(5, 120)
        dark = rng.random() < 0.8
        col = tuple(rng.randint(0, 60) for _ in range(3)) if dark else (250, 250, 250)
        d.text((x, y), text, fill=col, font=font)
        y += int(fs * rng.uniform(1.3, 2.2))
    return im


def det_norm(im):
    x = np.asarray(im.convert("RGB"), dtype=np.float32)[:, :, ::-1] / 255.0  # BGR
    mean = np.array([0.485, 0.456, 0.406], np.float32)
    std = np.array([0.229, 0.224, 0.225], np.float32)
    return ((x - mean) / std).transpose(2, 0, 1)[None]


def det_inputs(photos, out_dir, fonts):
    rng = random.Random(7)
    entries = []
    for i in range(3):
        shade = [255, 235, 210][i]
        bg = Image.new("RGB", (640, 640), (shade, shade, max(shade - 15, 0)))
        save(out_dir, "det_plain%d" % i, det_norm(render_page(rng, fonts, bg)), entries)
    for p in BG_PHOTOS:
        bg = load_rgb(os.path.join(photos, p)).resize((640, 640), Image.BILINEAR)
        # lighten the photo so dark text stays readable, as on a poster
        bg = Image.blend(bg, Image.new("RGB", bg.size, (255, 255, 255)), 0.45)
        save(out_dir, "det_on_" + os.path.splitext(p)[0],
             det_norm(render_page(rng, fonts, bg)), entries)
    for p in ["page.png", "text.png"]:
        path = os.path.join(photos, p)
        if os.path.exists(path):
            im = load_rgb(path).resize((640, 640), Image.BILINEAR)
            save(out_dir, "det_skimage_" + os.path.splitext(p)[0], det_norm(im), entries)
    return entries


def cls_inputs(out_dir, fonts, n=32, seed=11, name="cls_batch"):
    rng = random.Random(seed)
    batch, labels = [], []
    for i in range(n):
        font = ImageFont.truetype(rng.choice(fonts), rng.choice([22, 26, 30, 34]))
        text = sentence(rng, rng.randint(1, 4))
        l, t, r, b = font.getbbox(text)
        im = Image.new("RGB", (r - l + 12, b - t + 10),
                       tuple(rng.randint(200, 255) for _ in range(3)))
        ImageDraw.Draw(im).text((6 - l, 5 - t), text,
                                fill=tuple(rng.randint(0, 70) for _ in range(3)), font=font)
        flip = i % 2 == 1
        if flip:
            im = im.rotate(180)
        w = min(192, max(1, int(round(48 * im.width / im.height))))
        im = im.resize((w, 48), Image.BILINEAR)
        x = (np.asarray(im, dtype=np.float32) / 255.0 - 0.5) / 0.5
        pad = np.zeros((48, 192, 3), np.float32)
        pad[:, :w] = x
        batch.append(pad.transpose(2, 0, 1))
        labels.append(1 if flip else 0)
    entries = []
    save(out_dir, name, np.stack(batch), entries, {"labels": labels})
    return entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", required=True, help="directory with skimage's data images")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    fonts = font_files()
    man = {
        "isnet": {"input": "input", "output": "output", "inputs": isnet_inputs(a.photos, a.out)},
        "det": {"input": "x", "output": "sigmoid_0.tmp_0", "inputs": det_inputs(a.photos, a.out, fonts)},
        "cls": {"input": "x", "output": "softmax_0.tmp_0", "inputs": cls_inputs(a.out, fonts)},
    }
    for k, v in man.items():
        with open(os.path.join(a.out, k + ".json"), "w") as f:
            json.dump(v, f, indent=1)
        print(k, len(v["inputs"]), "inputs")


if __name__ == "__main__":
    main()
