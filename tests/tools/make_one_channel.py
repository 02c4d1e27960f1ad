# Writes two models whose first Conv has ONE input channel and group=1
# (a 1-D STFT-like front end and a 2-D first conv with strides, asymmetric
# pads and dilation): python3 make_one_channel.py OUTDIR
import sys, numpy as np, onnx
from onnx import helper as h, TensorProto as TP, numpy_helper as nh
out = sys.argv[1]
rng = np.random.default_rng(7)
def model(name, x_shape, w_shape, attrs):
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    node = h.make_node("Conv", ["x", "w", "b"], ["y"], name="front", **attrs)
    relu = h.make_node("Relu", ["y"], ["z"], name="relu")
    g = h.make_graph([node, relu], name,
                     [h.make_tensor_value_info("x", TP.FLOAT, x_shape)],
                     [h.make_tensor_value_info("z", TP.FLOAT, [None]*len(x_shape))],
                     [nh.from_array(w, "w"), nh.from_array(b, "b")])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, f"{out}/{name}.onnx")
model("stft1d", [1, 1, 400], [48, 1, 64],
      dict(strides=[16], pads=[32, 31], dilations=[1]))
model("first2d", [2, 1, 28, 30], [24, 1, 5, 5],
      dict(strides=[2, 1], pads=[2, 1, 2, 3], dilations=[1, 2]))
