#!/usr/bin/env python3
"""Calibration inputs for output-weighted compression (--act-stats), in the
format prep.py writes (raw little-endian float32 files plus a manifest per
model family), and disjoint from the evaluation inputs prep.py makes:

  calib_prep.py --photos DIR --out DIR

ISNet: 8 of skimage's data images that are not among prep.py's six
       evaluation photos (motorcycle_right is left out too: it is the other
       half of motorcycle_left's stereo pair), preprocessed as prep.py does.
det:   4 pages rendered with another seed than prep.py's, on plain and on
       lightened calibration photos.
cls:   16 text crops with another seed (half rotated 180 degrees).
"""
import argparse
import json
import os
import random

import numpy as np
from PIL import Image

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
        "cls": {"input": "x", "output": "softmax_0.tmp_0", "inputs": cls},
    }
    for k, v in man.items():
        with open(os.path.join(a.out, k + ".json"), "w") as f:
            json.dump(v, f, indent=1)
        print(k, len(v["inputs"]), "calibration inputs")


if __name__ == "__main__":
    main()
