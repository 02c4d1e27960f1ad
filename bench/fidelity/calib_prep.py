#!/usr/bin/env python3
"""Calibration inputs for output-weighted compression (--act-stats), in the
format prep.py writes (raw little-endian float32 files plus a manifest per
model family), and disjoint from the evaluation inputs prep.py makes:

  calib_prep.py --photos DIR --out DIR

ISNet: 8 of skimage's data images that are not among prep.py's six
       evaluation photos (motorcycle_right is left out too: it is the other
       half of motorcycle_left's stereo pair), preprocessed as prep.py does.
det:   4 pages rendered with another seed than prep.py's, on plain and on
       lightened calibration photos; det_photo.json: those and 4 pages
       degraded as a photograph of paper is (gray, grained, rotated,
       in perspective, unevenly lit, blurred, noisy, resized to the
       input's square), from textures no evaluation input uses.
cls:   16 text crops with another seed (half rotated 180 degrees).
"""
import argparse
import json
import os
import random

import numpy as np
from PIL import Image, ImageFilter

import prep

CALIB_PHOTOS = ["camera.png", "coins.png", "moon.png", "hubble_deep_field.jpg",
                "ihc.png", "retina.jpg", "logo.png", "page.png"]
assert not set(CALIB_PHOTOS) & set(prep.ISNET_PHOTOS + prep.BG_PHOTOS)


def isnet_inputs(photos, out_dir, zoom=False):
    entries = []
    for p in CALIB_PHOTOS:
        full = prep.load_rgb(os.path.join(photos, p))
        views = [("", full)]
        if zoom:  # the central 2/3, as a second, closer view of the scene
            w, h = full.size
            views.append(("_zoom", full.crop((w // 6, h // 6, w - w // 6, h - h // 6))))
        for suffix, im in views:
            im = im.resize((1024, 1024), Image.BILINEAR)
            x = np.asarray(im, dtype=np.float32) / 255.0 - 0.5
            prep.save(out_dir, "calib_isnet_" + os.path.splitext(p)[0] + suffix,
                      x.transpose(2, 0, 1)[None], entries)
    return entries


def det_inputs(photos, out_dir, fonts):
    rng = random.Random(1234)
    entries = []
    for i, shade in enumerate([245, 225]):
        bg = Image.new("RGB", (640, 640), (shade, shade - 10, shade - 20))
        prep.save(out_dir, "calib_det_plain%d" % i,
                  prep.det_norm(prep.render_page(rng, fonts, bg)), entries)
    for p in ["camera.png", "retina.jpg"]:
        bg = prep.load_rgb(os.path.join(photos, p)).resize((640, 640), Image.BILINEAR)
        bg = Image.blend(bg, Image.new("RGB", bg.size, (255, 255, 255)), 0.45)
        prep.save(out_dir, "calib_det_on_" + os.path.splitext(p)[0],
                  prep.det_norm(prep.render_page(rng, fonts, bg)), entries)
    return entries


PAPER_TEXTURES = ["gravel.png", "grass.png", "brick.png", "gravel.png"]
assert not set(PAPER_TEXTURES) & set(prep.ISNET_PHOTOS + prep.BG_PHOTOS + CALIB_PHOTOS)


def photo_page(rng, nrng, fonts, texture):
    """A rendered page as a phone photo of it: paper with grain, the page
    turned and seen at a slant, lit from one side, out of focus, noisy,
    then stretched to 640 x 640 as a photo of another aspect is."""
    w, h = 900, rng.choice([420, 560, 700])
    shade = rng.randint(170, 225)
    grain = texture.convert("L").resize((w, h), Image.BILINEAR)
    paper = Image.blend(Image.new("L", (w, h), shade), grain, rng.uniform(0.1, 0.25))
    im = prep.render_page(rng, fonts, paper.convert("RGB"), size=max(w, h)).convert("L")
    im = im.rotate(rng.uniform(-25, 25), resample=Image.BILINEAR, expand=False,
                   fillcolor=shade)
    # a slanted view: the far edge shrunk by up to a fifth
    k = rng.uniform(0.0, 0.2) * w
    quad = (k, 0, 0, h, w, h, w - k, 0)   # upper-left, lower-left, lower-right, upper-right
    im = im.transform((w, h), Image.QUAD, quad, resample=Image.BILINEAR, fillcolor=shade)
    a = np.asarray(im, dtype=np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    t = ((xx / w - 0.5) * np.cos(ang) + (yy / h - 0.5) * np.sin(ang)) + 0.5
    a = a * (rng.uniform(0.55, 0.8) + rng.uniform(0.2, 0.45) * t)
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.6)))
    a = np.asarray(im, dtype=np.float32) + nrng.normal(0, rng.uniform(3, 8), (h, w))
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).convert("RGB")
    return im.resize((640, 640), Image.BILINEAR)


def det_photo_inputs(photos, out_dir, fonts):
    rng = random.Random(4321)
    nrng = np.random.default_rng(4321)
    entries = []
    for i, p in enumerate(PAPER_TEXTURES):
        tex = Image.open(os.path.join(photos, p))
        prep.save(out_dir, "calib_det_photo%d" % i,
                  prep.det_norm(photo_page(rng, nrng, fonts, tex)), entries)
    return entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", required=True, help="directory with skimage's data images")
    ap.add_argument("--out", required=True)
    ap.add_argument("--zoom", action="store_true",
                    help="ISNet: also the central 2/3 of each photo (16 inputs)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    fonts = prep.font_files()
    cls = prep.cls_inputs(a.out, fonts, n=16, seed=99, name="calib_cls_batch")
    man = {
        "isnet": {"input": "input", "output": "output", "inputs": isnet_inputs(a.photos, a.out, a.zoom)},
        "det": {"input": "x", "output": "sigmoid_0.tmp_0", "inputs": det_inputs(a.photos, a.out, fonts)},
        "det_photo": {"input": "x", "output": "sigmoid_0.tmp_0", "inputs": det_photo_inputs(a.photos, a.out, fonts)},
        "cls": {"input": "x", "output": "softmax_0.tmp_0", "inputs": cls},
    }
    man["det_photo"]["inputs"] = man["det"]["inputs"] + man["det_photo"]["inputs"]
    for k, v in man.items():
        with open(os.path.join(a.out, k + ".json"), "w") as f:
            json.dump(v, f, indent=1)
        print(k, len(v["inputs"]), "calibration inputs")


if __name__ == "__main__":
    main()
