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
       input's square), from textures no evaluation input uses;
       det_hand.json: those 8 and 4 pages of formulas as notes written
       by hand on ruled paper and photographed close (slanted fonts
       warped by a smooth random field, strong perspective, the far side
       out of focus, a wide photo stretched to the square);
       det_aug.json: det_photo's 8 pages, each also at 0.45 of its
       contrast, blurred (sigma 1.8 px) and at half the resolution with
       noise: generic photometric augmentation, nothing made like any
       evaluation input;
       det_real.json (with --opencv): det's 4 rendered pages and 10 real
       photographs of text from Debian's opencv-doc examples (street
       signs, a shop front, a sudoku page, a license plate, two printed
       pages of formulas photographed out of focus and in motion), each
       stretched to the input's square; OpenCV's 5 segmented-word
       photos are kept out of it, as further evaluation inputs
       (det_real_eval.json).
isnet_cv_eval.json (with --opencv): 10 of OpenCV's sample photos of
       objects (apple, orange, butterfly, fish, a footballer, a squirrel,
       a chick, a rendered head, a baboon, sweets), preprocessed as
       prep.py does ISNet's: evaluation inputs no calibration set uses.
isnet_real.json (with --opencv): 8 other OpenCV sample photos of objects
       and scenes (fruit, a room, a plane, basketball players, a box on a
       table, a desk, toys, a plant): ISNet calibrated on photographs like
       its task's, where isnet.json's skimage images are mostly not.
cls:   16 text crops with another seed (half rotated 180 degrees).
"""
import argparse
import json
import os
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

import prep

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
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
            prep.save(out_dir, "calib_isnet_" + os.path.splitext(p)[0] + suffix,
                      prep.isnet_norm(im), entries)
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


def det_paper_inputs(photos, out_dir, fonts, make, name, seed):
    """One page made by make(rng, nrng, fonts, texture) per paper texture."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    entries = []
    for i, p in enumerate(PAPER_TEXTURES):
        tex = Image.open(os.path.join(photos, p))
        prep.save(out_dir, "calib_det_%s%d" % (name, i),
                  prep.det_norm(make(rng, nrng, fonts, tex)), entries)
    return entries


# formula tokens every hand font has a glyph for (ExtraLight lacks most
# of the mathematical signs)
SYMBOLS = ["f(x)", "g(s)", "x", "t", "s", "n", "e", "dt", "ds", "-1", "2", "1/2",
           "+", "-", "=", "(", ")", "/", "x\u00b2", "y'", "a_n"]
HAND_FONTS = ["DejaVuSans-Oblique.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSans-ExtraLight.ttf",
              "DejaVuSansCondensed-Oblique.ttf", "DejaVuSansMono-Oblique.ttf"]


def wobble(im, rng, amp):
    """A hand's unsteadiness: the image warped by a smooth random field
    (a 12 x 6 mesh of quads, each corner moved by up to amp pixels)."""
    w, h = im.size
    nx, ny = 12, 6
    off = {(i, j): (rng.uniform(-amp, amp), rng.uniform(-amp, amp))
           for i in range(nx + 1) for j in range(ny + 1)}
    mesh = []
    for i in range(nx):
        for j in range(ny):
            x0, x1 = w * i // nx, w * (i + 1) // nx
            y0, y1 = h * j // ny, h * (j + 1) // ny
            c = [(x0, y0, off[i, j]), (x0, y1, off[i, j + 1]),
                 (x1, y1, off[i + 1, j + 1]), (x1, y0, off[i + 1, j])]
            mesh.append(((x0, y0, x1, y1),
                         tuple(v for x, y, (dx, dy) in c for v in (x + dx, y + dy))))
    return im.transform(im.size, Image.MESH, mesh, resample=Image.BILINEAR,
                        fillcolor=255)


def hand_page(rng, nrng, _fonts, texture):
    """Notes written by hand on ruled paper, photographed close and at a
    slant: formulas in large slanted strokes that wobble, the paper's
    lines across, the far side out of focus; a wide photo stretched to
    640 x 640 as det's input is."""
    w, h = 1000, rng.choice([360, 420, 500])
    shade = rng.randint(150, 205)
    grain = texture.convert("L").resize((w, h), Image.BILINEAR)
    paper = Image.blend(Image.new("L", (w, h), shade), grain, rng.uniform(0.1, 0.2))
    d = ImageDraw.Draw(paper)
    gap = rng.randint(45, 80)
    for y in range(rng.randint(0, gap), h + w // 4, gap):
        d.line((0, y, w, y - rng.randint(0, w // 4)), fill=shade - rng.randint(25, 50),
               width=rng.choice([1, 2]))
    ink = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(ink)
    y = rng.randint(0, 30)
    while y < h - 40:
        fs = rng.randint(38, 72)
        font = ImageFont.truetype(os.path.join(FONT_DIR, rng.choice(HAND_FONTS)), fs)
        x = rng.randint(0, 200)
        while x < w - 100:
            tok = " ".join(rng.choice(SYMBOLS) for _ in range(rng.randint(1, 4)))
            d.text((x, y + rng.randint(-6, 6)), tok, fill=rng.randint(10, 70), font=font)
            x += int(d.textlength(tok, font=font)) + rng.randint(20, 120)
        y += int(fs * rng.uniform(1.1, 1.7))
    ink = wobble(ink, rng, rng.uniform(2, 5))
    im = Image.fromarray(np.minimum(np.asarray(paper), np.asarray(ink)))
    im = im.rotate(rng.uniform(-20, 20), resample=Image.BILINEAR, fillcolor=shade)
    k = rng.uniform(0.1, 0.35) * w
    im = im.transform((w, h), Image.QUAD, (k, 0, 0, h, w, h, w - k, 0),
                      resample=Image.BILINEAR, fillcolor=shade)
    # depth of field: sharp along one band, blurred away from it
    far = np.asarray(im.filter(ImageFilter.GaussianBlur(rng.uniform(2, 4))), np.float32)
    near = np.asarray(im.filter(ImageFilter.GaussianBlur(0.8)), np.float32)
    yy = np.mgrid[0:h, 0:w][0] / h
    m = np.clip(np.abs(yy - rng.uniform(0.3, 0.7)) * rng.uniform(1.5, 3), 0, 1)
    a = near * (1 - m) + far * m + nrng.normal(0, rng.uniform(2, 6), (h, w))
    im = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).convert("RGB")
    return im.resize((640, 640), Image.BILINEAR)


def gauss_blur(a, sigma):
    """a [C, H, W] blurred along H and W (edges repeated)."""
    r = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    for ax in (-1, -2):
        a = np.apply_along_axis(lambda v: np.convolve(np.pad(v, r, mode="edge"), k, "valid"), ax, a)
    return a


def augmented(entries, out_dir, seed):
    """Each entry (a det input [1, 3, 640, 640]) and three variants of it:
    contrast at 0.45 about each channel's mean, blurred, and at half the
    resolution with noise."""
    nrng = np.random.default_rng(seed)
    out = []
    for e in entries:
        out.append(e)
        a = np.fromfile(e["file"], dtype="<f4").reshape(e["dims"])
        m = a.mean(axis=(2, 3), keepdims=True)
        half = np.stack([np.asarray(Image.fromarray(c).resize((320, 320), Image.BILINEAR)
                                    .resize((640, 640), Image.BILINEAR)) for c in a[0]])[None]
        for kind, v in (("lowc", m + 0.45 * (a - m)), ("blur", gauss_blur(a[0], 1.8)[None]),
                        ("lowres", half + nrng.normal(0, 0.15, half.shape))):
            prep.save(out_dir, e["name"] + "_" + kind, v, out)
    return out


# OpenCV's sample photographs of text (opencv-doc examples, relative to
# its examples folder): calibration, and held out for evaluation.
CV_CALIB = ["text/scenetext0%d.jpg" % i for i in range(1, 7)] + \
    ["data/text_motion.jpg", "data/text_defocus.jpg", "data/sudoku.png",
     "data/licenseplate_motion.jpg"]
CV_EVAL = ["text/scenetext_segmented_word0%d.jpg" % i for i in range(1, 6)]
# ISNet calibrated on photographs of objects and scenes, as its users'
# would (isnet_real), none of them in CV_ISNET; Blender_Suzanne2, a second
# render of the held-out head, is left out of both.
CV_ISNET_CALIB = ["data/fruits.jpg", "data/home.jpg", "data/aero1.jpg", "data/basketball1.png",
                  "data/box_in_scene.png", "data/stuff.jpg", "data/rubberwhale1.png",
                  "data/aloeL.jpg"]
CV_ISNET = ["data/apple.jpg", "data/orange.jpg", "data/butterfly.jpg", "data/HappyFish.jpg",
            "data/messi5.jpg", "data/squirrel_cls.jpg", "data/chicky_512.png",
            "data/Blender_Suzanne1.jpg", "data/baboon.jpg", "data/smarties.png"]


assert not set(CV_ISNET_CALIB) & set(CV_ISNET)


def det_cv_norm(im):
    """det's input from a photo of any aspect: stretched to 640 x 640."""
    return prep.det_norm(im.resize((640, 640), Image.BILINEAR))


def cv_inputs(cv_dir, names, out_dir, prefix, norm):
    """OpenCV's photos names as inputs made by norm(RGB image)."""
    entries = []
    for n in names:
        stem = os.path.splitext(os.path.basename(n))[0]
        prep.save(out_dir, prefix + stem, norm(prep.load_rgb(os.path.join(cv_dir, n))), entries)
    return entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", required=True, help="directory with skimage's data images")
    ap.add_argument("--out", required=True)
    ap.add_argument("--zoom", action="store_true",
                    help="ISNet: also the central 2/3 of each photo (16 inputs)")
    ap.add_argument("--opencv", help="opencv-doc's examples folder: det_real.json")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    fonts = prep.font_files()
    cls = prep.cls_inputs(a.out, fonts, n=16, seed=99, name="calib_cls_batch")
    man = {
        "isnet": {"input": "input", "output": "output", "inputs": isnet_inputs(a.photos, a.out, a.zoom)},
        "det": {"input": "x", "output": "sigmoid_0.tmp_0", "inputs": det_inputs(a.photos, a.out, fonts)},
        "det_photo": {"input": "x", "output": "sigmoid_0.tmp_0", "inputs": det_paper_inputs(a.photos, a.out, fonts, photo_page, "photo", 4321)},
        "det_hand": {"input": "x", "output": "sigmoid_0.tmp_0", "inputs": det_paper_inputs(a.photos, a.out, fonts, hand_page, "hand", 2468)},
        "cls": {"input": "x", "output": "softmax_0.tmp_0", "inputs": cls},
    }
    man["det_photo"]["inputs"] = man["det"]["inputs"] + man["det_photo"]["inputs"]
    man["det_hand"]["inputs"] = man["det_photo"]["inputs"] + man["det_hand"]["inputs"]
    man["det_aug"] = dict(man["det_photo"], inputs=augmented(man["det_photo"]["inputs"], a.out, 77))
    if a.opencv:
        man["det_real"] = dict(man["det"], inputs=man["det"]["inputs"] +
                               cv_inputs(a.opencv, CV_CALIB, a.out, "calib_det_cv_", det_cv_norm))
        man["det_real_eval"] = dict(man["det"], inputs=cv_inputs(a.opencv, CV_EVAL, a.out,
                                                                 "eval_det_cv_", det_cv_norm))
        man["isnet_cv_eval"] = dict(man["isnet"], inputs=cv_inputs(a.opencv, CV_ISNET, a.out,
                                                                   "eval_isnet_cv_", prep.isnet_norm))
        man["isnet_real"] = dict(man["isnet"], inputs=cv_inputs(a.opencv, CV_ISNET_CALIB, a.out,
                                                                "calib_isnet_cv_", prep.isnet_norm))
    for k, v in man.items():
        with open(os.path.join(a.out, k + ".json"), "w") as f:
            json.dump(v, f, indent=1)
        print(k, len(v["inputs"]), "calibration inputs")


if __name__ == "__main__":
    main()
