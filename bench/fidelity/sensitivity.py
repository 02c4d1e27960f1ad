#!/usr/bin/env python3
"""Per-layer (or per-group) sensitivity: compress one layer (group) at a
time, everything else untouched, and measure the output fidelity on a few
real inputs with eval.js (no timing).

  sensitivity.py --model M --task isnet --manifest DIR/isnet.json \
      --only 2 --out FILE.jsonl [--groups] [--layers RE] -- COMPRESS_ARGS...

COMPRESS_ARGS (after --) go to `onnxtd compress` (method and budget).
--groups: one run per group of layers sharing the first path component of
the node name (e.g. /stage4/..., /side1/...), instead of one per layer.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import onnx

BIN = "build/onnxtd"


def conv_names(model):
    m = onnx.load(model, load_external_data=False)
    return [n.name for n in m.graph.node if n.op_type == "Conv"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--task", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--only", type=int, default=2)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cache", default="bench/out/fidelity/cache")
    ap.add_argument("--groups", action="store_true")
    ap.add_argument("--layers", default="", help="only layers matching this regex")
    ap.add_argument("compress_args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cargs = [x for x in a.compress_args if x != "--"]
    names = conv_names(a.model)
    if a.layers:
        names = [n for n in names if re.search(a.layers, n)]
    if a.groups:
        units = []
        for n in names:
            g = "/" + n.strip("/").split("/")[0] + "/"
            if g not in units:
                units.append(g)
        units = [(g, "^" + re.escape(g)) for g in units]
    else:
        units = [(n, "^" + re.escape(n) + "$") for n in names]
    tmp = os.path.join(os.path.dirname(a.out) or ".", "sens_tmp.onnx")
    rep = tmp + ".json"
    done = set()
    if os.path.exists(a.out):
        with open(a.out) as f:
            done = {json.loads(l)["unit"] for l in f if l.strip()}
    for unit, regex in units:
        if unit in done:
            continue
        t0 = time.time()
        cmd = [BIN, "compress", a.model, "-o", tmp, "--include", regex,
               "--report", rep, "--quiet"] + cargs
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            print("compress failed for", unit, p.stderr.strip()[:200], file=sys.stderr)
            continue
        r = json.load(open(rep))
        layers = r.get("layers", [])
        if not layers:
            row = {"unit": unit, "replaced": 0}
        else:
            ev = subprocess.run(["node", "bench/fidelity/eval.js", a.model, tmp, "--task", a.task,
                                 "--manifest", a.manifest, "--only", str(a.only), "--no-time",
                                 "--cache", a.cache], capture_output=True, text=True, check=True)
            e = json.loads(ev.stdout)
            saved = sum(l["params_before"] - l["params_after"] for l in layers)
            row = {"unit": unit, "replaced": len(layers), "params_saved": saved,
                   "params_before": sum(l["params_before"] for l in layers),
                   "rel_error_max": max(l["rel_error"] for l in layers),
                   "methods": sorted({l["method"] for l in layers}),
                   "ranks": [l["ranks"] for l in layers] if len(layers) == 1 else None,
                   "iou": [x.get("iou", x.get("agreement")) for x in e["per_input"]],
                   "mean_abs_diff": e["mean_abs_diff"]}
        row["compress_cmd"] = " ".join(cmd)
        row["seconds"] = round(time.time() - t0, 1)
        with open(a.out, "a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps({k: row.get(k) for k in ("unit", "params_saved", "rel_error_max", "iou", "seconds")}),
              file=sys.stderr)
    for f in (tmp, rep):
        if os.path.exists(f):
            os.remove(f)


if __name__ == "__main__":
    main()
