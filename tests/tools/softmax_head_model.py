#!/usr/bin/env python3
"""A small model whose head feeds a softmax, and numpy's factoring of that
head in the softmax's metric (tests/scripts/softmax_metric.sh).

  softmax_head_model.py make DIR    # DIR/head.onnx, head_gemm.onnx, cal/*.npy
  softmax_head_model.py expect DIR MODEL RANK MU
      # the head of MODEL (compressed, its chain "head" -> two MatMuls or
      # Gemms)
      # against numpy's rank-RANK factoring of the original head from the
      # calibration inputs, in the softmax metric with share MU (or the
      # plain output error for MU = off); prints the relative difference

The model: x [1, 20, 16] -> MatMul W1 (16 x 24) -> Relu -> h -> MatMul
"head" W2 (24 x 60) -> Add b -> Softmax(-1). Eight classes are the ones
the inputs use; the other 52 have large weights and a bias of -200, so they
never come near winning: their logits carry most of the head's plain
output energy and none of the probabilities'. head_gemm.onnx is the same
network as a PyTorch Linear exports it (Gemm, transB = 1, opset 11).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

T, D_IN, D_H, C, ACTIVE = 20, 16, 24, 60, 8


def weights():
    r = np.random.default_rng(4)
    w1 = r.normal(0, 0.5, (D_IN, D_H))
    w2 = r.normal(0, 1.0, (D_H, C))
    w2[:, ACTIVE:] *= 3.0
    b = np.zeros(C)
    b[ACTIVE:] = -200.0
    return w1.astype(np.float32), w2.astype(np.float32), b.astype(np.float32)


def make(d):
    w1, w2, b = weights()
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"], name="first"),
        helper.make_node("Relu", ["h0"], ["h"], name="relu"),
        helper.make_node("MatMul", ["h", "w2"], ["z"], name="head"),
        helper.make_node("Add", ["z", "b"], ["zb"], name="bias"),
        helper.make_node("Softmax", ["zb"], ["p"], name="softmax", axis=-1),
    ]
    g = helper.make_graph(
        nodes, "softmax_head",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, T, D_IN])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, T, C])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
         numpy_helper.from_array(b, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="onnxtd-tests")
    m.ir_version = 8
    onnx.checker.check_model(m)
    os.makedirs(os.path.join(d, "cal"), exist_ok=True)
    onnx.save(m, os.path.join(d, "head.onnx"))
    # the same as PyTorch exports a Linear at opset 11: 2-D rows, a Gemm
    # with the weight transposed (transB) and its bias as C, Softmax(1)
    nodes = [
        helper.make_node("Reshape", ["x", "rows"], ["x2"], name="rows"),
        helper.make_node("MatMul", ["x2", "w1"], ["h0"], name="first"),
        helper.make_node("Relu", ["h0"], ["h"], name="relu"),
        helper.make_node("Gemm", ["h", "w2t", "b"], ["z"], name="head", transB=1),
        helper.make_node("Softmax", ["z"], ["p2"], name="softmax", axis=1),
        helper.make_node("Reshape", ["p2", "back"], ["p"], name="back"),
    ]
    g = helper.make_graph(
        nodes, "softmax_head_gemm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, T, D_IN])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, T, C])],
        [numpy_helper.from_array(w1, "w1"),
         numpy_helper.from_array(np.ascontiguousarray(w2.T), "w2t"),
         numpy_helper.from_array(b, "b"),
         numpy_helper.from_array(np.array([T, D_IN], np.int64), "rows"),
         numpy_helper.from_array(np.array([1, T, C], np.int64), "back")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)],
                          producer_name="onnxtd-tests")
    m.ir_version = 6
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(d, "head_gemm.onnx"))
    r = np.random.default_rng(7)
    for i in range(16):
        np.save(os.path.join(d, "cal", "x_%02d.npy" % i),
                r.normal(0, 1, (1, T, D_IN)).astype(np.float32))


def softmax(z):
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def sym_sqrt(a):
    w, v = np.linalg.eigh(a)
    w = np.clip(w, 0, None)
    return (v * np.sqrt(w)) @ v.T, (v / np.sqrt(w)) @ v.T


def expected(d, rank, mu):
    """numpy's factored head (24 x 60) from every calibration input."""
    w1, w2, b = (a.astype(np.float64) for a in weights())
    cal = sorted(f for f in os.listdir(os.path.join(d, "cal")) if f.endswith(".npy"))
    h = np.concatenate([np.maximum(np.load(os.path.join(d, "cal", f))[0] @ w1, 0)
                        for f in cal])
    m = h.T @ h / len(h)
    # more positions than channels: the chain's bias takes the mean shift
    # and the factors fit the covariance (README, "Calibration")
    if len(h) > D_H:
        mean = h.mean(0)
        m = m - np.outer(mean, mean)
    s, s_inv = sym_sqrt(m + 0.1 * np.trace(m) / D_H * np.eye(D_H))
    ww = w2.T @ s                       # the layer's layout: C x 24, whitened
    if mu == "off":
        k = ww.T @ ww
    else:
        p = softmax(h @ w2 + b)
        u = p @ w2.T
        kraw = (w2 * p.mean(0)) @ w2.T - u.T @ u / len(h)
        kw = s @ kraw @ s
        pw = ww.T @ ww
        k = kw + float(mu) * np.trace(kw) / np.trace(pw) * pw
    _, v = np.linalg.eigh(k)
    vr = v[:, ::-1][:, :rank]
    return (ww @ vr @ vr.T @ s_inv).T   # back to the MatMul's 24 x 60


def written_head(path):
    """The product of the head chain's two weights (MatMul or Gemm)."""
    m = onnx.load(path)
    init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}
    mats = [n for n in m.graph.node
            if n.op_type in ("MatMul", "Gemm") and n.input[1] != "w1"]
    assert len(mats) == 2, [n.name for n in m.graph.node]
    ws = []
    for n in mats:
        w = init[n.input[1]]
        tb = [a.i for a in n.attribute if a.name == "transB"]
        ws.append(w.T if tb and tb[0] else w)
    return ws[0] @ ws[1]


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "expect":
        d, model, rank, mu = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
        want = expected(d, rank, mu)
        got = written_head(model)
        print("%.3e" % (np.linalg.norm(got - want) / np.linalg.norm(want)))
    else:
        raise SystemExit("usage: softmax_head_model.py make DIR | expect DIR MODEL RANK MU")


if __name__ == "__main__":
    main()
