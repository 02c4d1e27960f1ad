# Writes small models for ONNX semantics onnxtd must keep (IR 7, opset 13):
#   python3 make_semantics.py OUTDIR
# overridable.onnx  Conv weight 'w' is an initializer and a graph input
# sparse_w.onnx     Conv weight 'w' is a sparse initializer
# sparse_name.onnx  a dense Conv 'conv' and a sparse initializer named
#                   'conv_td1_w' (the name a factor would get) added after it
# sparse_a/b/c.onnx  the same model; b: another sparse value, c: the same
#                   value at another position
import sys
import numpy as np
import onnx
from onnx import helper as h, TensorProto as TP, numpy_helper as nh

out = sys.argv[1]
rng = np.random.default_rng(5)
W = rng.standard_normal((8, 6, 3, 3)).astype(np.float32)
X = h.make_tensor_value_info("x", TP.FLOAT, [1, 6, 10, 10])
Y = h.make_tensor_value_info("y", TP.FLOAT, [1, 8, 8, 8])


def save(name, nodes, inputs, inits, sparse=(), outputs=(Y,)):
    g = h.make_graph(nodes, "sparse_abc" if name[-2:] in ("_a", "_b", "_c")
                     else name, inputs, list(outputs), inits,
                     sparse_initializer=list(sparse))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 7
    # ONNX's shape inference types a sparse initializer sparse_tensor, which
    # Conv and Add do not take; ONNX Runtime densifies them at load
    onnx.checker.check_model(m, full_check=not sparse)
    onnx.save(m, f"{out}/{name}.onnx")


def sparse(name, dense):
    flat = dense.reshape(-1)
    idx = np.nonzero(flat)[0].astype(np.int64)
    values = nh.from_array(flat[idx], name)
    indices = nh.from_array(idx, name + "_indices")
    return h.make_sparse_tensor(values, indices, list(dense.shape))


conv = h.make_node("Conv", ["x", "w"], ["y"], name="conv")
save("overridable", [conv],
     [X, h.make_tensor_value_info("w", TP.FLOAT, list(W.shape))],
     [nh.from_array(W, "w")])
Ws = W * (rng.random(W.shape) < 0.3)
save("sparse_w", [conv], [X], [], [sparse("w", Ws)])
# the sparse tensor takes the name a generated factor would get
bias = np.zeros((1, 8, 8, 8), np.float32)
bias[0, 1, 2, 3] = 1.5
conv_t = h.make_node("Conv", ["x", "w"], ["t"], name="conv")
add = h.make_node("Add", ["t", "conv_td1_w"], ["y"], name="add")
save("sparse_name", [conv_t, add], [X], [nh.from_array(W, "w")],
     [sparse("conv_td1_w", bias)])
# b: another value; c: the same value at another position
for tag, v, at in (("a", 1.5, 3), ("b", 2.5, 3), ("c", 1.5, 4)):
    b2 = np.zeros_like(bias)
    b2[0, 1, 2, at] = v
    save("sparse_" + tag, [conv_t, add], [X], [nh.from_array(W, "w")],
         [sparse("conv_td1_w", b2)])
