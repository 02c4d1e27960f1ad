# Writes one small model per opset, from 1 to the newest onnx.checker knows
# (onnx.defs.onnx_opset_version()): Conv (bias, stride, pads) -> Flatten ->
# Gemm (transB, its C broadcast: the `broadcast` attribute up to opset 6,
# C optional from 11 on: the last opsets leave it out) -> MatMul.
#   python3 make_opsets.py OUTDIR      (prints the opsets written)
import sys
import numpy as np
import onnx
import onnx.defs
from onnx import helper as h, TensorProto as TP, numpy_helper as nh

out = sys.argv[1]
rng = np.random.default_rng(11)
W = rng.standard_normal((12, 6, 3, 3)).astype(np.float32)
B = rng.standard_normal(12).astype(np.float32)
G = rng.standard_normal((10, 12 * 4 * 4)).astype(np.float32)
C = rng.standard_normal(10).astype(np.float32)
M = rng.standard_normal((10, 9)).astype(np.float32)
newest = onnx.defs.onnx_opset_version()
for opset in range(1, newest + 1):
    gemm_in = ["f", "g"] + (["c"] if opset < newest else [])
    attrs = dict(transB=1)
    if opset < 7:
        attrs["broadcast"] = 1
    nodes = [
        h.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", strides=[2, 2],
                    pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        h.make_node("Flatten", ["y"], ["f"], name="flat", axis=1),
        h.make_node("Gemm", gemm_in, ["z"], name="gemm", **attrs),
        h.make_node("MatMul", ["z", "m"], ["out"], name="mm"),
    ]
    inits = [nh.from_array(W, "w"), nh.from_array(B, "b"), nh.from_array(G, "g"),
             nh.from_array(M, "m")] + ([nh.from_array(C, "c")] if "c" in gemm_in else [])
    ir = 3 if opset < 7 else 7
    inputs = [h.make_tensor_value_info("x", TP.FLOAT, [1, 6, 8, 8])]
    if ir < 4:  # IR 3: initializers are graph inputs too
        inputs += [h.make_tensor_value_info(t.name, TP.FLOAT, list(t.dims)) for t in inits]
    g = h.make_graph(nodes, f"opset{opset}", inputs,
                     [h.make_tensor_value_info("out", TP.FLOAT, [1, 9])], inits,
                     value_info=[  # some old schemas infer no shapes
                         h.make_tensor_value_info("y", TP.FLOAT, [1, 12, 4, 4]),
                         h.make_tensor_value_info("f", TP.FLOAT, [1, 192]),
                         h.make_tensor_value_info("z", TP.FLOAT, [1, 10])])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = ir
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, f"{out}/opset{opset}.onnx")
    print(opset)
