#!/usr/bin/env python3
"""How much of a factored layer's output error is the shift of its input's
mean, and how well generated inputs estimate that mean ("Data-free
defaults" in bench/README.md). Reads layer_means.js's JSON.

  mean_shift.py layers ORIG.onnx COMP.onnx MEANS.json [CORRECTED.onnx]
      per SVD chain of a 1x1 conv in COMP (X_td1 -> X_td2): its weight
      rel. error, its output rel. error on MEANS' inputs, the share of
      that error which is the mean shift (W - W~) mu, and the share of the
      input's energy which is its mean; with CORRECTED, writes COMP with
      each chain's bias plus (W - W~) mu (mu from MEANS).
  mean_shift.py compare REAL.json GEN.json
      over the layers whose mean carries more than 0.3 of their input's
      energy on the real inputs: how far GEN's means are from REAL's,
      |mu_gen - mu| / |mu| (median, max, share above 1).
"""
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def consts(m):
    d = {t.name: t for t in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "Constant":
            d[n.output[0]] = n.attribute[0].t
    return d


def arr(t):
    return numpy_helper.to_array(t).astype(np.float64)


def layers(orig_path, comp_path, means_path, corrected=None):
    orig, comp = onnx.load(orig_path), onnx.load(comp_path)
    oc, cc = consts(orig), consts(comp)
    onode = {n.name: n for n in orig.graph.node}
    cnode = {n.name: n for n in comp.graph.node}
    means = json.load(open(means_path))
    print("| conv | weight rel. error | output rel. error | share of the output error "
          "that is the mean shift | share of the input's energy that is its mean |")
    print("|---|---|---|---|---|")
    for name in sorted(n[:-4] for n in cnode if n.endswith("_td1")):
        n1, n2, n = cnode[name + "_td1"], cnode.get(name + "_td2"), onode.get(name)
        if n2 is None or n is None or n.input[0] not in means:
            continue
        st = means[n.input[0]]
        c = st["c"]
        mu, M = np.array(st["mu"]), np.array(st["m"]).reshape(c, c)
        W = arr(oc[n.input[1]])
        if W.ndim != 4 or W.shape[2:] != (1, 1) or len(n2.input) < 3:
            continue
        W = W.reshape(W.shape[0], -1)
        D = W - arr(cc[n2.input[1]]).reshape(W.shape[0], -1) @ arr(cc[n1.input[1]]).reshape(-1, c)
        err = np.trace(D @ M @ D.T)
        print("| `%s` | %.3f | %.3f | %.2f | %.2f |" % (
            name, np.linalg.norm(D) / np.linalg.norm(W), np.sqrt(err / np.trace(W @ M @ W.T)),
            np.linalg.norm(D @ mu) ** 2 / err, mu @ mu / np.trace(M)))
        b = cc[n2.input[2]]
        b.CopyFrom(numpy_helper.from_array((arr(b) + D @ mu).astype(np.float32), b.name))
    if corrected:
        onnx.save(comp, corrected)


def compare(real_path, gen_path):
    real, gen = json.load(open(real_path)), json.load(open(gen_path))
    rel = []
    for x, r in real.items():
        mu = np.array(r["mu"])
        c = r["c"]
        if mu @ mu / np.trace(np.array(r["m"]).reshape(c, c)) > 0.3:
            rel.append(np.linalg.norm(np.array(gen[x]["mu"]) - mu) / np.linalg.norm(mu))
    rel = np.array(rel)
    print("%d of %d layers with the mean over 0.3 of the energy: |mu_gen - mu| / |mu| "
          "median %.2f, max %.2f, above 1 in %.0f %%" % (
              len(rel), len(real), np.median(rel), rel.max(), 100 * (rel > 1).mean()))


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "layers":
        layers(*sys.argv[2:6])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        compare(*sys.argv[2:4])
    else:
        sys.exit(__doc__)
