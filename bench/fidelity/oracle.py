#!/usr/bin/env python3
"""A ceiling for per-layer rank allocation, measured on the evaluation
inputs themselves (bench/layer_oracle.sh runs it):

  oracle.py --bin ONNXTD --model M.onnx --manifest EVAL.json
            --stats STATS.onnx --work DIR [--ratios 0.9,0.75,...]
            [--budgets 0.03,0.05,...] [--cache DIR]

1. Each layer alone (every Conv/Gemm/MatMul the tool can replace; the
   ones it leaves as they are, as depthwise convs, save nothing and drop
   out) is compressed at each ratio with the statistics given, and the
   task metric of the whole model is measured on every evaluation input:
   the layer's loss is 1 - the lowest per-input IoU (a mask's IoU moves
   with every layer; a top-1 agreement on a few dozen inputs does not,
   so classifiers are left out).
2. For each loss budget B, a greedy choice: per layer at most one ratio,
   taken in order of parameters saved per unit of loss while the sum of
   the chosen losses stays within B.
3. Each choice is built (one compress per ratio, restricted to its
   layers) and measured as a whole.

Every choice looks at the evaluation inputs, so no bound judged on other
inputs can do better than about this with the same factors: it says what
an allocation could reach, not what the tool does. Rows as JSON lines on
stdout.
"""
import argparse
import json
import os
import re
import subprocess

import onnx


def layers(model):
    """Names of the nodes whose weight is a constant (initializer or
    Constant node), as onnxtd's --include matches them."""
    g = onnx.load(model).graph
    const = {t.name for t in g.initializer}
    const |= {n.output[0] for n in g.node if n.op_type == "Constant"}
    return [n.name for n in g.node
            if n.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul")
            and len(n.input) > 1 and n.input[1] in const]


def compress(a, src, dst, ratio, names):
    rep = dst + ".report.json"
    inc = "^(" + "|".join(re.escape(n) for n in names) + ")$"
    cmd = [a.bin, "compress", src, "-o", dst, "--act-stats", a.stats, "--no-measure",
           "--allow-slower", "--ratio", str(ratio), "--include", inc, "--report", rep]
    r = subprocess.run(cmd, capture_output=True, text=True,
                       env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    if r.returncode:
        raise SystemExit("oracle.py: %s\n%s" % (" ".join(cmd), r.stderr))
    t = json.load(open(rep))["totals"]
    return t["model_params_before"], t["model_params_after"]


def measure(a, comp, manifest=None):
    cmd = ["node", os.path.join(os.path.dirname(__file__), "eval.js"), a.model, comp,
           "--task", "det", "--manifest", manifest or a.manifest, "--no-time", "--json"]
    if a.cache:
        cmd += ["--cache", a.cache]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit("oracle.py: %s\n%s" % (" ".join(cmd), r.stderr))
    e = json.loads(r.stdout)
    per = {p["input"]: p["iou"] for p in e["per_input"]}
    return 1.0 - min(per.values()), {"iou_mean": e["iou_mean"], "iou_min": e["iou_min"],
                                     "per_input": {k: round(v, 4) for k, v in per.items()}}


def judged(a, comp):
    """(loss on the sweep's inputs, metric on --manifest's): the two are
    the same inputs unless --sweep-manifest is given."""
    loss, metric = measure(a, comp)
    if a.sweep_manifest:
        loss, _ = measure(a, comp, a.sweep_manifest)
        metric["eval_loss"] = round(1.0 - metric["iou_min"], 4)
    return loss, metric


def greedy(sweep, budget):
    """sweep: {layer: [(ratio, loss, saved)]} -> {layer: (ratio, loss, saved)}."""
    cands = sorted(((s / max(l, 1e-4), n, r, l, s)
                    for n, opts in sweep.items() for r, l, s in opts), reverse=True)
    choice, spent = {}, 0.0
    for _, n, r, l, s in cands:
        old = choice.get(n, (None, 0.0, 0))
        if s <= old[2] or spent + l - old[1] > budget:
            continue
        choice[n] = (r, l, s)
        spent += l - old[1]
    return choice, spent


def one_by_one(a):
    """{layer: [(ratio, loss, saved)]}: each layer alone at each ratio."""
    ratios = [float(x) for x in a.ratios.split(",")]
    one = os.path.join(a.work, "one.onnx")
    # the sweep is the slow part: kept, and read again for other budgets
    # of the same model, statistics and ratios
    memo = os.path.join(a.work, "sweep.json")
    key = [os.path.abspath(a.model), os.path.getmtime(a.stats), ratios,
           a.sweep_manifest or a.manifest]
    if os.path.exists(memo):
        m = json.load(open(memo))
        if m["key"] == key:
            return m["sweep"]
    sweep = {}
    for n in layers(a.model):
        for r in ratios:
            before, after = compress(a, a.model, one, r, [n])
            if after >= before:
                continue   # left as it is (not smaller, or not replaceable)
            loss, _ = measure(a, one, a.sweep_manifest)
            sweep.setdefault(n, []).append((r, loss, before - after))
            print(json.dumps({"layer": n, "ratio": r, "saved": before - after,
                              "loss": round(loss, 4)}), flush=True)
    json.dump({"key": key, "sweep": sweep}, open(memo, "w"))
    return sweep


def build(a, choice, tag):
    """choice: {layer: ratio} -> (path, params before, params after)."""
    by = {}
    for n, r in choice.items():
        by.setdefault(r, []).append(n)
    src, total, after = a.model, None, None
    for i, (r, names) in enumerate(sorted(by.items())):
        dst = os.path.join(a.work, "%s%d.onnx" % (tag, i))
        before, after = compress(a, src, dst, r, names)
        total = total or before
        src = dst
    return src, total, after


def row(after, total, loss, metric, **head):
    """One measured choice as a JSON line on stdout."""
    print(json.dumps({**head, "params_kept": round(after / total, 4),
                      "ratio": round(total / after, 3), "loss": round(loss, 4),
                      **metric}), flush=True)


def refine(a, sweep, choice, floor):
    """From choice, one layer's ratio lowered a step at a time: each step
    takes, of the moves whose whole model keeps the loss within floor, the
    one that saves the most, every move measured whole (losses do not
    add). Rows on stdout; ends when no move stays within floor."""
    while True:
        best = None
        for n, opts in sweep.items():
            lower = [r for r, _, _ in opts if r < choice.get(n, 2.0)]
            if not lower:
                continue
            trial = dict(choice, **{n: max(lower)})
            path, total, after = build(a, trial, "trial")
            loss, metric = judged(a, path)
            if loss <= floor and (best is None or after < best[1]):
                best = (trial, after, total, loss, metric)
        if best is None:
            return
        choice, after, total, loss, metric = best
        row(after, total, loss, metric, refine=floor, layers=len(choice))


def main():
    ap = argparse.ArgumentParser()
    for k in ("bin", "model", "manifest", "stats", "work"):
        ap.add_argument("--" + k, required=True)
    ap.add_argument("--cache")
    ap.add_argument("--sweep-manifest",
                    help="measure each layer's loss on these inputs, not on --manifest's: "
                         "the sweep out of sample, the choices still measured on --manifest")
    ap.add_argument("--ratios", default="0.9,0.75,0.5,0.25,0.1")
    ap.add_argument("--budgets", default="0.02,0.05,0.1,0.2,0.3")
    ap.add_argument("--floor", type=float,
                    help="then refine the smallest greedy choice within this loss, "
                         "a step at a time, each step measured whole")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    sweep = {n: [tuple(o) for o in opts] for n, opts in one_by_one(a).items()}
    start = None   # the smallest greedy choice within --floor: refine's start
    for b in (float(x) for x in a.budgets.split(",")):
        choice, spent = greedy(sweep, b)
        if not choice:
            continue
        ratios = {n: c[0] for n, c in choice.items()}
        path, total, after = build(a, ratios, "step")
        loss, metric = judged(a, path)
        row(after, total, loss, metric, budget=b, loss_sum=round(spent, 4),
            layers=len(choice))
        if a.floor is not None and loss <= a.floor and (start is None or after < start[1]):
            start = (ratios, after)
    if a.floor is not None:
        refine(a, sweep, start[0] if start else {}, a.floor)


if __name__ == "__main__":
    main()
