"""Writes small hostile ONNX models whose integers overflow int64 arithmetic
in shape inference or MAC counting: huge dilations, strides, pads and
kernels, ConvTranspose output sizes, Concat and Pad of huge dims, Slice
with INT64_MIN/INT64_MAX steps and huge starts, DepthToSpace blocks, Split
of a huge dim, Resize scales, and a Conv whose input dims are symbolic so
that --dim can make them huge. The models are valid protobuf; ONNX's
checker is not run (most are rejected by ONNX's own shape inference).

usage: make_overflow.py OUTDIR   (prints one line per model:
    NAME error NODE WORD   inference must fail naming NODE and WORD (the
                           attribute, or what overflows)
    NAME ok - -            the arithmetic has an exact answer (Slice,
                           Split, SAME padding, ceil_mode): no error)"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
BIG = 2**62
MAX = 2**63 - 1
MIN = -2**63


def w(name, *shape):
    return numpy_helper.from_array(np.ones(shape, np.float32), name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def save(name, node, word, nodes, inputs, inits, opset=13):
    """word None: the model must be accepted."""
    g = helper.make_graph(nodes, name, inputs, [vi("Y", None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="onnxtd-tests")
    m.ir_version = 7
    onnx.save(m, os.path.join(OUT, name + ".onnx"))
    print(name, "ok - -" if word is None else "error %s %s" % (node, word))


def conv(name, word, x=(1, 4, 8, 8), ws=(4, 4, 3, 3), op="Conv", **attrs):
    n = helper.make_node(op, ["X", "W"], ["Y"], name=name + "_node", **attrs)
    save(name, name + "_node", word, [n], [vi("X", list(x))],
         [w("W", *ws)])


def pool(name, word, x=(1, 4, 8, 8), op="MaxPool", **attrs):
    n = helper.make_node(op, ["X"], ["Y"], name=name + "_node", **attrs)
    save(name, name + "_node", word, [n], [vi("X", list(x))], [])


# Conv and pooling geometry: the window extent d*(k-1)+1, the padded input
# in+pb+pe, SAME's (in+s-1)/s and (out-1)*s+ext.
conv("conv_dilations", "dilations", dilations=[BIG, 1])
conv("conv_pads", "pads", pads=[MAX, 0, MAX, 0])
conv("conv_same_strides", None, auto_pad="SAME_UPPER", strides=[MAX, 1])
conv("conv_same_dilations", "dilations", auto_pad="SAME_LOWER",
     dilations=[BIG, 1])
conv("conv_huge_input", "pads", x=(1, 4, MAX, 8), pads=[1, 0, 1, 0])
pool("pool_kernel", "kernel", kernel_shape=[MAX, 1],
     dilations=[2, 1])
pool("pool_ceil", None, kernel_shape=[1, 1], strides=[MAX, 1],
     ceil_mode=1, x=(1, 4, 2**62 + 7, 8))
pool("pool_pads", "pads", kernel_shape=[1, 1], pads=[MAX, 0, 1, 0],
     op="AveragePool")
# ConvTranspose: s*(in-1) + output_padding + ext - pads, SAME's in*s.
conv("convt_strides", "strides", op="ConvTranspose", strides=[BIG, 1],
     x=(1, 4, 9, 8))
conv("convt_same", "strides", op="ConvTranspose", strides=[BIG, 1],
     auto_pad="SAME_UPPER", x=(1, 4, 9, 8))
conv("convt_output_padding", "output_padding", op="ConvTranspose",
     output_padding=[MAX, 0], x=(1, 4, 9, 8))
conv("convt_output_shape", "output_shape", op="ConvTranspose",
     output_shape=[MIN, 8], x=(1, 4, 9, 8))

# Concat of two huge dims.
n = helper.make_node("Concat", ["A", "B"], ["Y"], name="concat_node", axis=1)
save("concat_dims", "concat_node", "axis", [n],
     [vi("A", [1, MAX]), vi("B", [1, 2])], [])
n = helper.make_node("Concat", ["A", "B"], ["Y"], name="concat_node", axis=0)
save("concat_values", "concat_node", "axis", [n],
     [vi("A", [MAX]), vi("B", [1])], [])

# Pad: the attribute (Pad-2) and the input (Pad-13), both huge.
n = helper.make_node("Pad", ["X"], ["Y"], name="pad_node",
                     pads=[0, 0, MAX, 0, 0, 0, MAX, 0])
save("pad_attr", "pad_node", "pads", [n], [vi("X", [1, 4, 8, 8])], [],
     opset=2)
n = helper.make_node("Pad", ["X", "P"], ["Y"], name="pad_node")
save("pad_input", "pad_node", "pads", [n], [vi("X", [1, 4, 8, 8])],
     [ints("P", [0, 0, MAX, 0, 0, 0, 2, 0])])
n = helper.make_node("Pad", ["X", "P"], ["Y"], name="pad_node")
save("pad_negative", "pad_node", "pads", [n], [vi("X", [1, 4, 8, 8])],
     [ints("P", [0, 0, MIN, 0, 0, 0, MIN, 0])])

# Slice: steps of INT64_MIN (whose negation overflows) and INT64_MAX, huge
# starts and ends.
for nm, st, en, sp in (("slice_step_min", 7, MIN, MIN),
                       ("slice_step_max", 0, MAX, MAX),
                       ("slice_starts", MIN, MAX, 1),
                       ("slice_ends", MAX, MIN, -1)):
    n = helper.make_node("Slice", ["X", "S", "E", "A", "T"], ["Y"],
                         name="slice_node")
    save(nm, "slice_node", None, [n],
         [vi("X", [1, 4, 8, 8])],
         [ints("S", [st]), ints("E", [en]), ints("A", [2]), ints("T", [sp])])
n = helper.make_node("Slice", ["X", "S", "E", "A", "T"], ["Y"],
                     name="slice_node")
save("slice_huge_dim", "slice_node", None, [n], [vi("X", [1, 4, MAX, 8])],
     [ints("S", [0]), ints("E", [MAX]), ints("A", [2]), ints("T", [MAX])])

# Reshape's -1 over a huge input, DepthToSpace's block x block and
# dim x block, Split's (dim + n - 1) / n, Resize's dim x scale.
n = helper.make_node("Reshape", ["X", "S"], ["Y"], name="reshape_node")
save("reshape_minus", "reshape_node", None, [n], [vi("X", [MAX, 2])],
     [ints("S", [-1, MAX])])
n = helper.make_node("DepthToSpace", ["X"], ["Y"], name="d2s_node",
                     blocksize=2**32)
save("depth_to_space", "d2s_node", "blocksize", [n], [vi("X", [1, 4, 8, 8])],
     [])
n = helper.make_node("SpaceToDepth", ["X"], ["Y"], name="s2d_node",
                     blocksize=2**31)
save("space_to_depth", "s2d_node", "blocksize", [n],
     [vi("X", [1, 2**40, 8, 8])], [])
n = helper.make_node("Split", ["X"], ["Y", "Z"], name="split_node", axis=2)
save("split_dim", "split_node", None, [n], [vi("X", [1, 4, MAX, 8])], [])
n = helper.make_node("Resize", ["X", "", "S"], ["Y"], name="resize_node")
save("resize_scales", "resize_node", "scales", [n], [vi("X", [1, 4, 8, 8])],
     [numpy_helper.from_array(np.array([1, 1, 1e30, 1], np.float32), "S")])

# Element counts of tensors whose data does not have to match (an unknown
# dtype): the parameter totals.
big = []
for nm in ("P", "Q"):
    t = TensorProto()
    t.name, t.data_type, t.raw_data = nm, 100, b""
    t.dims.extend([BIG])
    big.append(t)
n = helper.make_node("Relu", ["X"], ["Y"], name="relu_node")
save("params_sum", "Q", "parameter", [n], [vi("X", [1])], big)

# A huge input and a stride as large: the layer's MACs fit, but a chain
# whose first 1x1 conv runs on the input does not (it must be kept).
n = helper.make_node("Conv", ["X", "W"], ["Y"], name="stride_conv",
                     strides=[2**30, 2**30])
rng = np.random.default_rng(3)
save("stride_chain", "stride_conv", None, [n],
     [vi("X", [1, 8, 2**31, 2**31])],
     [numpy_helper.from_array(rng.standard_normal((8, 8, 3, 3))
                              .astype(np.float32), "W")])

# A valid Conv whose spatial size is symbolic: --dim h=9223372036854775807
# (or a value just small enough to pass the geometry) overflows MACs.
n = helper.make_node("Conv", ["X", "W"], ["Y"], name="dim_conv",
                     pads=[1, 1, 1, 1])
save("dim_conv", "dim_conv", None, [n], [vi("X", [1, 8, "h", "h"])],
     [numpy_helper.from_array(rng.standard_normal((8, 8, 3, 3))
                              .astype(np.float32), "W")])
