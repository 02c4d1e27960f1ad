#!/usr/bin/env python3
"""Low-rank factoring of a softmax head in the softmax's own metric.

  head_fisher.py MODEL XCAL XEVAL LINES_JSON KEYS [--rank R ...]

PP-OCRv4 rec ends in logits z = x W + b (W: 120 x 6625) and a softmax.
Only the head is factored here (x: the head's input as the original model
gives it, dumped by dump_tap.js for the calibration and evaluation lines);
each rank-r factoring replaces W, and the evaluation lines' logits are
decoded (greedy CTC) for char accuracy, strict and without spaces, and
compared with the original's per-step top-1 and probabilities.

Two metrics for the factoring, both from the calibration inputs:
- whitened SVD (what compress --calib does today): the logits' error
  E||dz||^2 = tr(dW^T M dW), M = E[x x^T] (+ 0.1 mean(diag M) I, as
  --act-lambda), every one of the 6625 logits weighted alike;
- the softmax's Fisher metric: KL(p || p') ~ 1/2 dz^T F dz with
  F = diag(p) - p p^T, so the error that matters is tr(G dW^T M dW) with
  G = E[F] (inputs and outputs taken as independent, as K-FAC does), plus
  mu x the plain metric (scaled to the same trace) for classes the
  calibration never shows. For min ||S dW G^(1/2)||, S = M^(1/2), the
  optimum is W' = S^-1 U_r U_r^T S W with U_r the top eigenvectors of
  S W G W^T S (120 x 120): W G W^T = W diag(E p) W^T - E[(W p)(W p)^T]
  needs only E p and W p, never the 6625 x 6625 G. The chain's shapes and
  parameters are those of the SVD's.
"""
import argparse
import json

import numpy as np
import onnx
from onnx import numpy_helper


def head_weights(model, w_name, b_name):
    m = onnx.load(model)
    t = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    for n in m.graph.node:   # paddle2onnx keeps weights in Constant nodes
        if n.op_type == "Constant" and n.attribute and n.attribute[0].t.dims:
            t[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    return t[w_name].astype(np.float64), t[b_name].astype(np.float64)


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def edit(a, b):
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            t = d[j]
            d[j] = min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
            prev = t
    return d[len(b)]


def decode(z, steps, keys):
    out = []
    for row in z.argmax(1).reshape(-1, steps):
        s, last = "", -1
        for c in row:
            if c != last and c != 0:
                s += keys[c - 1] if c - 1 < len(keys) else " "
            last = c
        out.append(s)
    return out


def char_acc(texts, labels):
    ns = lambda s: s.replace(" ", "")
    strict = 1 - sum(edit(t, l) for t, l in zip(texts, labels)) / sum(map(len, labels))
    nosp = 1 - (sum(edit(ns(t), ns(l)) for t, l in zip(texts, labels))
                / sum(len(ns(l)) for l in labels))
    return strict, nosp


def sym_sqrt(a):
    w, v = np.linalg.eigh(a)
    w = np.clip(w, 0, None)
    return (v * np.sqrt(w)) @ v.T, (v / np.sqrt(np.maximum(w, 1e-30))) @ v.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("xcal")
    ap.add_argument("xeval")
    ap.add_argument("lines")
    ap.add_argument("keys")
    ap.add_argument("--weight", default="linear_85.w_0")
    ap.add_argument("--bias", default="linear_85.b_0")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--rank", type=int, nargs="+", default=[20, 30, 40, 55])
    ap.add_argument("--mu", type=float, nargs="+", default=[0.0, 0.1, 1.0])
    a = ap.parse_args()

    w, b = head_weights(a.model, a.weight, a.bias)
    n_in = w.shape[0]
    xc = np.fromfile(a.xcal, dtype=np.float32).reshape(-1, n_in).astype(np.float64)
    xe = np.fromfile(a.xeval, dtype=np.float32).reshape(-1, n_in).astype(np.float64)
    keys = open(a.keys, encoding="utf8").read().split("\n")
    if keys[-1] == "":
        keys.pop()
    labels = [e["label"] for e in json.load(open(a.lines))["lines"]]

    z0 = xe @ w + b
    p0 = softmax(z0)
    top0 = z0.argmax(1)
    print("original: char acc %.4f, without spaces %.4f" % char_acc(decode(z0, a.steps, keys), labels))

    m = xc.T @ xc / len(xc)
    s, s_inv = sym_sqrt(m + 0.1 * np.mean(np.diag(m)) * np.eye(n_in))
    p = softmax(xc @ w + b)
    u = p @ w.T                                   # W p per step
    wgw = (w * p.mean(0)) @ w.T - u.T @ u / len(xc)
    ww = w @ w.T
    metrics = [("whitened SVD", ww)]
    metrics += [("Fisher, mu %g" % mu, wgw + mu * np.trace(wgw) / np.trace(ww) * ww) for mu in a.mu]
    print("| metric | rank | params | top-1 agreement | probabilities rel. L2 | char acc | without spaces |")
    print("|---|---|---|---|---|---|---|")
    for name, k in metrics:
        _, v = np.linalg.eigh(s @ k @ s)
        v = v[:, ::-1]
        for r in a.rank:
            vr = v[:, :r]
            z = xe @ (s_inv @ vr @ vr.T @ s @ w) + b
            rel = np.linalg.norm(softmax(z) - p0) / np.linalg.norm(p0)
            c1, c2 = char_acc(decode(z, a.steps, keys), labels)
            print("| %s | %d | %d | %.4f | %.4f | %.4f | %.4f |" % (
                name, r, r * (w.shape[0] + w.shape[1]), (z.argmax(1) == top0).mean(), rel, c1, c2))


if __name__ == "__main__":
    main()
