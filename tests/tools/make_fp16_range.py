"""Writes float16 Conv models whose weights sit near the top of float16's
range, and a fixed input for them: factors of such weights overflow float16
unless their scales are balanced before rounding.

usage: make_fp16_range.py OUTDIR AMPLITUDE
Writes OUTDIR/model.onnx (a 3x3 Conv and a 1x1 Conv side by side, both
reading X, weights +-AMPLITUDE with random signs and magnitudes in
[0.5, 1] x AMPLITUDE) and OUTDIR/input_0.pb (X, small enough that the
outputs stay well inside float16's range)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out_dir, amp = sys.argv[1], float(sys.argv[2])
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(22)


def weight(*shape):
    mag = rng.uniform(0.5, 1.0, shape) * amp
    sign = rng.choice([-1.0, 1.0], shape)
    return (mag * sign).astype(np.float16)


cin, cout, hw = 8, 12, 9
w3 = weight(cout, cin, 3, 3)
w1 = weight(cout, cin, 1, 1)
b3 = (rng.standard_normal(cout) * 4).astype(np.float16)
inits = [numpy_helper.from_array(w3, "W3"), numpy_helper.from_array(b3, "B3"),
         numpy_helper.from_array(w1, "W1")]
nodes = [helper.make_node("Conv", ["X", "W3", "B3"], ["Y3"], name="conv3x3",
                          pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
         helper.make_node("Conv", ["X", "W1"], ["Y1"], name="conv1x1",
                          kernel_shape=[1, 1])]
x_shape = [1, cin, hw, hw]
g = helper.make_graph(
    nodes, "fp16_range",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT16, x_shape)],
    [helper.make_tensor_value_info("Y3", TensorProto.FLOAT16, [1, cout, hw, hw]),
     helper.make_tensor_value_info("Y1", TensorProto.FLOAT16, [1, cout, hw, hw])],
    inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                      producer_name="onnxtd-tests")
m.ir_version = 7
onnx.checker.check_model(m)
onnx.save(m, os.path.join(out_dir, "model.onnx"))
# |Y| <~ amp * |x| * sqrt(cin * 9) * 3: |x| ~ 0.5 / amp keeps it near 100
x = (rng.standard_normal(x_shape) * (0.5 / amp)).astype(np.float16)
t = numpy_helper.from_array(x, "X")
with open(os.path.join(out_dir, "input_0.pb"), "wb") as f:
    f.write(t.SerializeToString())
