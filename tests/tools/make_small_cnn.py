"""Writes the small CNN bundled as tests/onnx_models/small_cnn.onnx: four
3x3 convs with BatchNormalization and ReLU, a 1x1 conv, pooling and a Gemm
classifier, input [1, 3, 64, 64]. Its conv weights have low multilinear rank
plus 3 % noise, as trained conv kernels roughly do, so that compressing it
shows the trade-off rather than noise.

usage: make_small_cnn.py OUT.onnx"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(2024)


def lowrank(cout, cin, k, r_out, r_in):
    core = rng.standard_normal((r_out, r_in, k, k))
    u = np.linalg.qr(rng.standard_normal((cout, r_out)))[0]
    v = np.linalg.qr(rng.standard_normal((cin, r_in)))[0]
    w = np.einsum("abhw,oa,ib->oihw", core, u, v)
    w += 0.03 * np.linalg.norm(w) / np.sqrt(w.size) * rng.standard_normal(w.shape)
    return (w / np.sqrt(cin * k * k)).astype(np.float32)


nodes, inits = [], []
x = "input"
chans = [3, 16, 32, 64, 64]
for i in range(4):
    cin, cout = chans[i], chans[i + 1]
    w = lowrank(cout, cin, 3, max(2, cout // 4), max(2, min(cin, cin // 4 or 3)))
    inits += [numpy_helper.from_array(w, f"conv{i}.weight"),
              numpy_helper.from_array((0.1 * rng.standard_normal(cout)).astype(np.float32), f"conv{i}.bias")]
    for p, v in [("gamma", 1 + 0.1 * rng.standard_normal(cout)), ("beta", 0.1 * rng.standard_normal(cout)),
                 ("mean", 0.1 * rng.standard_normal(cout)), ("var", 1 + 0.2 * rng.random(cout))]:
        inits.append(numpy_helper.from_array(v.astype(np.float32), f"bn{i}.{p}"))
    nodes += [
        helper.make_node("Conv", [x, f"conv{i}.weight", f"conv{i}.bias"], [f"c{i}"], name=f"conv{i}",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2] if i in (1, 3) else [1, 1]),
        helper.make_node("BatchNormalization", [f"c{i}", f"bn{i}.gamma", f"bn{i}.beta", f"bn{i}.mean",
                                                f"bn{i}.var"], [f"b{i}"], name=f"bn{i}"),
        helper.make_node("Relu", [f"b{i}"], [f"r{i}"], name=f"relu{i}"),
    ]
    x = f"r{i}"
w = lowrank(96, 64, 1, 16, 16)
inits += [numpy_helper.from_array(w, "proj.weight")]
nodes += [helper.make_node("Conv", [x, "proj.weight"], ["p"], name="proj", kernel_shape=[1, 1]),
          helper.make_node("Relu", ["p"], ["pr"], name="relu_proj"),
          helper.make_node("GlobalAveragePool", ["pr"], ["g"], name="gap"),
          helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
          helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1)]
inits += [numpy_helper.from_array(lowrank(10, 96, 1, 4, 4).reshape(10, 96), "fc.weight"),
          numpy_helper.from_array(np.zeros(10, np.float32), "fc.bias")]
g = helper.make_graph(nodes, "small_cnn",
                      [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 64, 64])],
                      [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="onnxtd-tests")
m.ir_version = 7
onnx.checker.check_model(m)
onnx.save(m, sys.argv[1])
