"""Writes small ONNX models, one per layer idiom the compressor must keep
exact: auto_pad modes, asymmetric pads, rectangular kernels, per-axis
strides and dilations, missing kernel_shape, no bias, groups, 1x1 convs
with stride and pads, Gemm/MatMul variants, Constant-node weights,
BatchNormalization after a Conv, fp16/bf16/fp64 weights, IR version 3.

usage: make_idioms.py OUTDIR     (prints one line per model: NAME DTYPE)"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def out(name, rank, dt=TensorProto.FLOAT):
    """A graph output of known rank and unknown sizes."""
    return helper.make_tensor_value_info(name, dt, ["d%d" % i for i in range(rank)])


def save(name, nodes, inputs, outputs, inits, opset=13, ir=7, dtype="float32"):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="onnxtd-tests")
    m.ir_version = ir
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, name + ".onnx"))
    print(name, dtype)


def conv_model(name, x_shape, w_shape, bias=True, **attrs):
    w = numpy_helper.from_array(rand(*w_shape), "W")
    inits = [w]
    ins = ["X", "W"]
    if bias:
        inits.append(numpy_helper.from_array(rand(w_shape[0]), "B"))
        ins.append("B")
    node = helper.make_node("Conv", ins, ["Y"], name=name + "_conv", **attrs)
    save(name, [node],
         [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_shape)],
         [out("Y", len(x_shape))], inits)


conv_model("same_upper", [1, 8, 9, 9], [12, 8, 3, 3], auto_pad="SAME_UPPER",
           strides=[2, 2], kernel_shape=[3, 3])
conv_model("same_lower", [1, 8, 10, 9], [12, 8, 4, 4], auto_pad="SAME_LOWER",
           strides=[2, 3], kernel_shape=[4, 4])
conv_model("valid", [1, 8, 9, 9], [10, 8, 3, 3], auto_pad="VALID")
conv_model("asym_pads", [1, 8, 9, 7], [10, 8, 3, 3], pads=[0, 1, 2, 1])
conv_model("rect_axes", [1, 6, 11, 13], [9, 6, 3, 5], strides=[2, 1],
           dilations=[1, 2], pads=[1, 2, 1, 2], kernel_shape=[3, 5])
conv_model("no_kernel_shape", [1, 8, 9, 9], [12, 8, 3, 3], pads=[1, 1, 1, 1])
conv_model("no_bias", [1, 8, 9, 9], [12, 8, 3, 3], bias=False, strides=[2, 2])
conv_model("pointwise_strided", [1, 16, 9, 9], [24, 16, 1, 1], strides=[2, 2],
           pads=[1, 0, 1, 0])
conv_model("pointwise_groups", [1, 16, 5, 5], [24, 8, 1, 1], group=2)
conv_model("groups3x3", [1, 12, 8, 8], [18, 4, 3, 3], group=3, pads=[1, 1, 1, 1])
conv_model("conv1d_rect", [1, 6, 20], [10, 6, 5], strides=[2], dilations=[2],
           pads=[1, 3])
conv_model("conv3d_rect", [1, 4, 6, 7, 8], [6, 4, 2, 3, 3], strides=[1, 2, 1],
           pads=[0, 1, 1, 1, 0, 1])

# Gemm / MatMul with constant weights.
for name, ta, tb, alpha, beta, with_c in [("gemm_transB", 0, 1, 0.5, 2.0, True),
                                          ("gemm_transA", 1, 0, 1.0, 1.0, False),
                                          ("gemm_plain", 0, 0, 1.5, 1.0, True)]:
    a_shape = [20, 4] if ta else [4, 20]
    b = rand(16, 20) if tb else rand(20, 16)
    inits = [numpy_helper.from_array(b, "Bw")]
    ins = ["A", "Bw"]
    if with_c:
        inits.append(numpy_helper.from_array(rand(16), "C"))
        ins.append("C")
    node = helper.make_node("Gemm", ins, ["Y"], name=name + "_gemm", transA=ta,
                            transB=tb, alpha=alpha, beta=beta)
    save(name, [node], [helper.make_tensor_value_info("A", TensorProto.FLOAT, a_shape)],
         [out("Y", 2)], inits)

node = helper.make_node("MatMul", ["X", "Wm"], ["Y"], name="mm")
save("matmul_const", [node], [helper.make_tensor_value_info("X", TensorProto.FLOAT, [2, 5, 24])],
     [out("Y", 3)],
     [numpy_helper.from_array(rand(24, 18), "Wm")])

# Weights in Constant nodes, as PaddlePaddle exports them.
cw = helper.make_node("Constant", [], ["Wc"], value=numpy_helper.from_array(rand(12, 8, 3, 3)))
cb = helper.make_node("Constant", [], ["Bc"], value=numpy_helper.from_array(rand(12)))
conv = helper.make_node("Conv", ["X", "Wc", "Bc"], ["Y"], name="cconv", pads=[1, 1, 1, 1])
save("constant_weights", [cw, cb, conv],
     [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 8, 7, 7])],
     [out("Y", 4)], [])

# BatchNormalization after a Conv (folded by default).
inits = [numpy_helper.from_array(rand(12, 8, 3, 3), "W"),
         numpy_helper.from_array(rand(12), "B"),
         numpy_helper.from_array(rand(12), "s"), numpy_helper.from_array(rand(12), "b"),
         numpy_helper.from_array(rand(12), "m"),
         numpy_helper.from_array(np.abs(rand(12)) + 0.5, "v")]
nodes = [helper.make_node("Conv", ["X", "W", "B"], ["c"], name="bnconv", pads=[1, 1, 1, 1]),
         helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["Y"],
                          name="bn", epsilon=1e-3)]
save("conv_bn", nodes, [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 8, 7, 7])],
     [out("Y", 4)], inits)

# fp16 end to end: the chain must compute in fp16 too.
inits = [numpy_helper.from_array(rand(16, 12, 3, 3).astype(np.float16), "W"),
         numpy_helper.from_array(rand(16).astype(np.float16), "B")]
nodes = [helper.make_node("Cast", ["X"], ["xh"], to=TensorProto.FLOAT16),
         helper.make_node("Conv", ["xh", "W", "B"], ["yh"], name="hconv", pads=[1, 1, 1, 1]),
         helper.make_node("Cast", ["yh"], ["Y"], to=TensorProto.FLOAT)]
save("fp16", nodes, [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 12, 8, 8])],
     [out("Y", 4)], inits, dtype="float16")

# fp64 and bf16 weights: runtimes lack such Convs on CPU, so these are checked
# for a valid rewrite and for the weights' reconstruction, not run.
for name, dt in [("fp64", TensorProto.DOUBLE), ("bf16", TensorProto.BFLOAT16)]:
    w = helper.make_tensor("W", dt, [12, 8, 3, 3], rand(12 * 8 * 9).tolist()
                           if dt == TensorProto.DOUBLE else
                           [int(v) for v in (rand(12 * 8 * 9).view(np.uint32) >> 16)])
    node = helper.make_node("Conv", ["X", "W"], ["Y"], name=name + "_conv", pads=[1, 1, 1, 1])
    save(name, [node], [helper.make_tensor_value_info("X", dt, [1, 8, 7, 7])],
         [out("Y", 4, dt)], [w], dtype=name)

# IR version 3: initializers must also be graph inputs.
w = numpy_helper.from_array(rand(12, 8, 3, 3), "W")
node = helper.make_node("Conv", ["X", "W"], ["Y"], name="ir3conv", pads=[1, 1, 1, 1])
save("ir3", [node], [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 8, 7, 7]),
                     helper.make_tensor_value_info("W", TensorProto.FLOAT, [12, 8, 3, 3])],
     [out("Y", 4)], [w], opset=8, ir=3)
