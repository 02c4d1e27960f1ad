# Writes a model the way tf2onnx exports a Keras segmentation head, with a
# static NHWC input 1x320x320x4: Transpose to NCHW, Pad whose pads come from
# Split(initializer) -> Concat, a Conv, Resize whose sizes come from
# Shape -> Slice -> Concat, a second Conv; prints the MACs of its Convs
# (per sample, as onnxtd counts them) computed here from the geometry:
#   python3 make_tf2onnx_shapes.py OUT.onnx
import sys
import numpy as np
import onnx
from onnx import helper as h, TensorProto as TP, numpy_helper as nh

rng = np.random.default_rng(3)
init = []


def const(name, arr):
    init.append(nh.from_array(np.asarray(arr), name))
    return name


def weight(name, shape):
    return const(name, rng.standard_normal(shape).astype(np.float32) * 0.1)


nodes = [
    h.make_node("Transpose", ["x"], ["x_nchw"], perm=[0, 3, 1, 2], name="to_nchw"),
    # pads [0,0,1,1, 0,0,2,2] split into begins and ends, then concatenated
    h.make_node("Split", ["pads_all", "split_sizes"], ["pads_begin", "pads_end"],
                axis=0, name="pads_split"),
    h.make_node("Concat", ["pads_begin", "pads_end"], ["pads"], axis=0,
                name="pads_concat"),
    h.make_node("Pad", ["x_nchw", "pads"], ["x_pad"], mode="constant", name="pad"),
    h.make_node("Conv", ["x_pad", weight("w1", [32, 4, 3, 3]), weight("b1", [32])],
                ["c1"], strides=[2, 2], name="conv1"),
    h.make_node("Relu", ["c1"], ["r1"], name="relu1"),
    h.make_node("Shape", ["r1"], ["r1_shape"], name="shape"),
    h.make_node("Slice", ["r1_shape", const("sl_start", np.array([0], np.int64)),
                          const("sl_end", np.array([2], np.int64)),
                          const("sl_axes", np.array([0], np.int64))],
                ["nc"], name="slice_nc"),
    h.make_node("Concat", ["nc", const("hw", np.array([320, 320], np.int64))],
                ["sizes"], axis=0, name="sizes_concat"),
    h.make_node("Resize", ["r1", "", "", "sizes"], ["up"], mode="nearest",
                name="resize"),
    h.make_node("Conv", ["up", weight("w2", [8, 32, 3, 3]), weight("b2", [8])],
                ["c2"], pads=[1, 1, 1, 1], name="conv2"),
    h.make_node("Conv", ["c2", weight("w3", [16, 8, 1, 1])], ["y"], name="conv3"),
]
const("pads_all", np.array([0, 0, 1, 1, 0, 0, 2, 2], np.int64))
const("split_sizes", np.array([4, 4], np.int64))
g = h.make_graph(nodes, "tf2onnx_like",
                 [h.make_tensor_value_info("x", TP.FLOAT, [1, 320, 320, 4])],
                 [h.make_tensor_value_info("y", TP.FLOAT, [None, 16, None, None])],
                 init)
m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
m.ir_version = 7
onnx.checker.check_model(m, full_check=True)
onnx.save(m, sys.argv[1])

# the reference: padded 323x323, conv1 3x3 stride 2 -> 161x161, Resize to
# 320x320, conv2 pads 1 -> 320x320, conv3 1x1 -> 320x320
hp = 320 + 1 + 2
o1 = (hp - 3) // 2 + 1
macs = o1 * o1 * 32 * 4 * 9 + 320 * 320 * 8 * 32 * 9 + 320 * 320 * 16 * 8
print(macs)
