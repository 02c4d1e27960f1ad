#!/usr/bin/env python3
"""Real inputs for the held-out models (bench/heldout.sh, tests/scripts/vad_bound.sh).

  prep.py audio OUT_DIR [--clips N] [--seed S] [--pool eval|calib]  # speech clips for Silero VAD
  prep.py rec OUT_DIR [--lines N] [--seed S]     # text lines for PP-OCRv4 rec
  prep.py face OUT_DIR --photos DIR [--scenes N] [--seed S] [--pool eval|calib]  # for RetinaFace

audio: sentences spoken by espeak-ng (several voices and speeds), resampled
to 16 kHz, laid out with silences between them and mixed with white or
brown noise at a random SNR; OUT_DIR/clips.json lists each clip (a float32
.npy of samples, under OUT_DIR/npy/) with its espeak voice and SNR. Seeds choose sentences,
voices and noise; the evaluation and calibration sets use different seeds
and different sentence pools (--pool), so they share no utterance.

rec: one line of text rendered with PIL in a DejaVu font on a light
background, height 48, scaled to at most 320 wide and right-padded (as
PaddleOCR's recogniser preprocessing), normalised (x/255-0.5)/0.5, BGR;
OUT_DIR/lines.json lists each .npy [1,3,48,320] (under OUT_DIR/npy/,
so that folder is a --calib / eval --inputs source) with its label.

face: 640 x 640 RGB scenes, pixel values 0-255 as RetinaFace takes them
(NCHW float32 .npy under OUT_DIR/npy/, listed in OUT_DIR/faces.json): one
whole photo with a person (skimage's astronaut for the evaluation pool,
camera for calibration), then scenes made of a skimage photo as the
background with 3-8 real faces pasted on it (the 100 faces of skimage's
lfw_subset, 25 x 25 gray, scaled to 40-150 px, their brightness and
contrast varied). The pools share no face and no background.
"""
import argparse
import glob
import json
import os
import subprocess
import tempfile
import wave

import numpy as np

RATE = 16000  # Silero VAD's native rate

SENTENCES = {
    "eval": [
        "The quick brown fox jumps over the lazy dog.",
        "Please call me back when you get this message.",
        "The train to the city leaves at seven thirty tomorrow morning.",
        "I would like a cup of coffee with milk and no sugar.",
        "Turn left at the second traffic light and keep going.",
        "Our meeting has been moved to Thursday afternoon.",
        "She sells sea shells by the sea shore.",
        "Remember to bring your umbrella, it might rain later.",
    ],
    "calib": [
        "Numbers one two three four five six seven eight nine ten.",
        "The weather today is cloudy with a chance of light showers.",
        "Can you hear me clearly now, or should I speak louder?",
        "A journey of a thousand miles begins with a single step.",
        "Open the window and let some fresh air into the room.",
        "He reads the newspaper every morning before breakfast.",
    ],
}
VOICES = ["en-us", "en", "en-us+f3", "en+m3", "de", "fr", "en-us+f4", "es"]

WORDS = ("invoice total amount due date receipt number street avenue phone "
         "hello world model tensor layer chain budget error bound speech "
         "window coffee morning account balance payment station ticket "
         "Monday Tuesday April October Berlin Paris London 2024 1999 42 "
         "0815 3.14 100% A-12 B7 #5 (x) e-mail www test ONNX").split()


def speak(text, voice, speed, tmp):
    path = os.path.join(tmp, "s.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", path, text],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with wave.open(path) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
    return resample(x, rate, RATE)


def resample(x, src, dst):
    """Band-limited resampling by truncating (or zero-padding) the spectrum."""
    n = int(round(len(x) * dst / src))
    spec = np.fft.rfft(x)
    keep = n // 2 + 1
    out = np.zeros(keep, dtype=complex)
    m = min(keep, len(spec))
    out[:m] = spec[:m]
    return np.fft.irfft(out, n) * (n / len(x))


def noise(rng, n, kind):
    w = rng.standard_normal(n)
    if kind == "brown":  # integrated white noise, high-passed by removing the drift
        w = np.cumsum(w)
        w -= np.convolve(w, np.ones(801) / 801, mode="same")
    return w / (np.sqrt(np.mean(w ** 2)) + 1e-12)


def audio_clip(rng, pool, tmp):
    """Silence, a sentence, silence, a sentence, silence; noise at an SNR."""
    parts, voices = [], []
    for k in range(2):
        parts.append(np.zeros(int(RATE * rng.uniform(0.4, 1.2))))
        voice = VOICES[rng.integers(len(VOICES))]
        voices.append(voice)
        s = speak(pool[rng.integers(len(pool))], voice, int(rng.integers(130, 190)), tmp)
        parts.append(0.5 * s / (np.max(np.abs(s)) + 1e-12))
    parts.append(np.zeros(int(RATE * rng.uniform(0.4, 1.0))))
    x = np.concatenate(parts)
    snr_db = float(rng.choice([30.0, 20.0, 10.0, 5.0]))
    kind = "white" if rng.random() < 0.5 else "brown"
    speech_rms = np.sqrt(np.mean(x[np.abs(x) > 1e-4] ** 2))
    x = x + noise(rng, len(x), kind) * speech_rms * 10 ** (-snr_db / 20)
    return x.astype(np.float32), {"voices": voices, "snr_db": snr_db, "noise": kind}


def prep_audio(out, clips, seed, pool):
    rng = np.random.default_rng(seed)
    pool = SENTENCES[pool]
    os.makedirs(os.path.join(out, "npy"), exist_ok=True)
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(clips):
            x, info = audio_clip(rng, pool, tmp)
            name = "clip%02d" % i
            np.save(os.path.join(out, "npy", name + ".npy"), x)
            entries.append(dict(name=name, file="npy/" + name + ".npy", seconds=len(x) / RATE, **info))
    json.dump({"rate": RATE, "clips": entries}, open(os.path.join(out, "clips.json"), "w"), indent=1)
    print("prep.py: %d clips (%.1f s of audio) in %s" % (len(entries), sum(e["seconds"] for e in entries), out))


def rec_line(rng, fonts, keys):
    from PIL import Image, ImageDraw, ImageFont
    while True:
        text = " ".join(WORDS[rng.integers(len(WORDS))] for _ in range(rng.integers(2, 5)))
        if all(c in keys for c in text) and len(text) <= 24:
            break
    font = ImageFont.truetype(fonts[rng.integers(len(fonts))], int(rng.integers(26, 36)))
    box = font.getbbox(text)
    w, h = box[2] - box[0] + 16, box[3] - box[1] + 14
    bg = tuple(int(v) for v in rng.integers(200, 256, 3))
    fg = tuple(int(v) for v in rng.integers(0, 70, 3))
    im = Image.new("RGB", (w, h), bg)
    ImageDraw.Draw(im).text((8 - box[0], 7 - box[1]), text, font=font, fill=fg)
    nw = min(320, int(np.ceil(48 * w / h)))
    im = im.resize((nw, 48), Image.BILINEAR)
    a = np.zeros((48, 320, 3), dtype=np.float32)
    a[:, :nw] = (np.asarray(im, dtype=np.float32)[:, :, ::-1] / 255.0 - 0.5) / 0.5
    return text, a.transpose(2, 0, 1)[None]


def prep_rec(out, lines, seed, keys_file):
    keys = set(open(keys_file, encoding="utf-8").read().splitlines()) | {" "}
    fonts = sorted(f for f in glob.glob("/usr/share/fonts/truetype/dejavu/*.ttf")
                   if "ExtraLight" not in f and "Math" not in f)
    if not fonts:
        raise SystemExit("prep.py: no DejaVu fonts under /usr/share/fonts/truetype/dejavu")
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(out, "npy"), exist_ok=True)
    entries = []
    for i in range(lines):
        text, a = rec_line(rng, fonts, keys)
        name = "line%02d" % i
        np.save(os.path.join(out, "npy", name + ".npy"), np.ascontiguousarray(a))
        entries.append({"name": name, "file": "npy/" + name + ".npy", "label": text})
    json.dump({"lines": entries}, open(os.path.join(out, "lines.json"), "w"), indent=1)
    print("prep.py: %d text lines in %s" % (len(entries), out))


FACE_POOLS = {
    # whole photo, backgrounds, faces of lfw_subset (the first 100 are faces)
    "eval": ("astronaut.png", ["coffee.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg",
                               "retina.jpg", "chelsea.png", "ihc.png"], range(0, 50)),
    "calib": ("camera.png", ["brick.png", "grass.png", "gravel.png", "moon.png", "coins.png", "page.png",
                             "logo.png"], range(50, 100)),
}
FACE_SIZE = 640


def photo_rgb(path, size):
    """A photo as size x size RGB floats 0-255: centre-cropped square, resized."""
    from PIL import Image
    im = Image.open(path).convert("RGB")
    w, h = im.size
    m = min(w, h)
    im = im.crop(((w - m) // 2, (h - m) // 2, (w - m) // 2 + m, (h - m) // 2 + m))
    return np.asarray(im.resize((size, size), Image.BILINEAR), dtype=np.float32)


def face_scene(rng, bg, faces):
    """bg with 3-8 faces pasted where they do not overlap; their boxes."""
    from PIL import Image
    a = bg.copy()
    boxes = []
    for _ in range(int(rng.integers(3, 9))):
        f = faces[int(rng.integers(len(faces)))]
        side = int(rng.integers(40, 151))
        for _try in range(50):
            x, y = (int(v) for v in rng.integers(0, FACE_SIZE - side, 2))
            if all(x + side <= b[0] or b[2] <= x or y + side <= b[1] or b[3] <= y for b in boxes):
                break
        else:
            continue
        g = np.asarray(Image.fromarray((f * 255).astype(np.uint8)).resize((side, side), Image.BICUBIC),
                       dtype=np.float32)
        g = np.clip((g - g.mean()) * rng.uniform(0.7, 1.3) + g.mean() * rng.uniform(0.6, 1.2), 0, 255)
        tint = rng.uniform(0.85, 1.15, 3)
        a[y:y + side, x:x + side] = np.clip(g[:, :, None] * tint, 0, 255)
        boxes.append((x, y, x + side, y + side))
    return a, boxes


def prep_face(out, photos, scenes, seed, pool):
    whole, backgrounds, ids = FACE_POOLS[pool]
    lfw = np.load(os.path.join(photos, "lfw_subset.npy"))
    faces = [lfw[i] for i in ids]
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(out, "npy"), exist_ok=True)
    entries = []

    def save(name, a, info):
        np.save(os.path.join(out, "npy", name + ".npy"),
                np.ascontiguousarray(a.transpose(2, 0, 1)[None].astype(np.float32)))
        entries.append(dict(name=name, file="npy/" + name + ".npy", **info))

    save("photo_" + whole.split(".")[0], photo_rgb(os.path.join(photos, whole), FACE_SIZE), {"faces_pasted": 0})
    for i in range(scenes):
        bg = photo_rgb(os.path.join(photos, backgrounds[i % len(backgrounds)]), FACE_SIZE)
        a, boxes = face_scene(rng, bg, faces)
        save("scene%02d" % i, a, {"background": backgrounds[i % len(backgrounds)], "faces_pasted": len(boxes),
                                     "boxes": [list(b) for b in boxes]})
    json.dump({"size": FACE_SIZE, "images": entries}, open(os.path.join(out, "faces.json"), "w"), indent=1)
    print("prep.py: %d face images in %s" % (len(entries), out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["audio", "rec", "face"])
    ap.add_argument("out")
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--lines", type=int, default=48)
    ap.add_argument("--scenes", type=int, default=7)
    ap.add_argument("--photos", help="face: skimage's data folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pool", choices=sorted(SENTENCES), default="eval",
                    help="audio: which sentences; face: which photos and faces")
    ap.add_argument("--keys", default=os.path.join(os.path.dirname(__file__), "..", "models", "ppocr_keys_v1.txt"))
    a = ap.parse_args()
    if a.kind == "audio":
        prep_audio(a.out, a.clips, a.seed, a.pool)
    elif a.kind == "face":
        if not a.photos:
            raise SystemExit("prep.py face: give --photos (skimage's data folder)")
        prep_face(a.out, a.photos, a.scenes, a.seed, a.pool)
    else:
        prep_rec(a.out, a.lines, a.seed, a.keys)


if __name__ == "__main__":
    main()
