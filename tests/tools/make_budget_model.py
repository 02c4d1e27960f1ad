"""Writes a small model whose layers have different structure, for the
compression budget tests:
  tucker_low  32x32x3x3 Conv, multilinear ranks (4, 4) plus 1e-3 noise
  cp_low      32x32x3x3 Conv, CP rank 5 plus 1e-3 noise
  full        32x32x3x3 Conv, random (no low-rank structure)
  pw          64x32 1x1 Conv, matrix rank 8 plus noise
  fc          Gemm 64 -> 10
Input [1, 32, H, W] with symbolic H and W (give them with --dim).

usage: make_budget_model.py OUT.onnx"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)


def noise(w, level):
    return w + level * np.linalg.norm(w) / np.sqrt(w.size) * rng.standard_normal(w.shape)


def tucker_low(cout, cin, k, r):
    core = rng.standard_normal((r, r, k, k))
    u = np.linalg.qr(rng.standard_normal((cout, r)))[0]
    v = np.linalg.qr(rng.standard_normal((cin, r)))[0]
    return noise(np.einsum("abhw,oa,ib->oihw", core, u, v), 1e-3)


def cp_low(cout, cin, k, r):
    a, b = rng.standard_normal((cout, r)), rng.standard_normal((cin, r))
    c, d = rng.standard_normal((k, r)), rng.standard_normal((k, r))
    return noise(np.einsum("or,ir,hr,wr->oihw", a, b, c, d), 1e-3)


layers = [
    ("tucker_low", tucker_low(32, 32, 3, 4)),
    ("cp_low", cp_low(32, 32, 3, 5)),
    ("full", rng.standard_normal((32, 32, 3, 3))),
    ("pw", noise((rng.standard_normal((64, 8)) @ rng.standard_normal((8, 32))
                  ).reshape(64, 32, 1, 1), 1e-3)),
]
nodes, inits, x = [], [], "input"
for name, w in layers:
    w = (w / np.linalg.norm(w) * np.sqrt(w.shape[0])).astype(np.float32)
    inits.append(numpy_helper.from_array(w, name + ".w"))
    inits.append(numpy_helper.from_array(
        (0.1 * rng.standard_normal(w.shape[0])).astype(np.float32), name + ".b"))
    k = w.shape[2]
    nodes.append(helper.make_node("Conv", [x, name + ".w", name + ".b"],
                                  [name + ".y"], name=name,
                                  pads=[k // 2] * 4, kernel_shape=[k, k]))
    nodes.append(helper.make_node("Relu", [name + ".y"], [name + ".r"],
                                  name=name + ".relu"))
    x = name + ".r"
nodes.append(helper.make_node("GlobalAveragePool", [x], ["pool"], name="pool"))
nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], name="flat"))
inits.append(numpy_helper.from_array(
    rng.standard_normal((64, 10)).astype(np.float32) / 8, "fc.w"))
nodes.append(helper.make_node("Gemm", ["flat", "fc.w"], ["output"], name="fc"))
g = helper.make_graph(
    nodes, "budget", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                    [1, 32, "H", "W"])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, sys.argv[1])
