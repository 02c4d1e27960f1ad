"""Writes one broken model per class of hostile input into OUTDIR and prints
a manifest line per case:
    NAME<TAB>COMMAND<TAB>EXIT<TAB>MESSAGE-SUBSTRING
COMMAND is convert or compress; MESSAGE is what stderr must contain (the
file name is checked separately). Cases that need a folder (external data)
are written as OUTDIR/NAME/model.onnx.

usage: make_bad_inputs.py OUTDIR"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
rows = []


def case(name, data, cmd, code, msg, folder=False):
    path = os.path.join(OUT, name, "model.onnx") if folder else os.path.join(OUT, name + ".onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    rows.append((name, path, cmd, code, msg))
    return path


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def field(num, wt, payload):
    key = varint((num << 3) | wt)
    if wt == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def conv_model(w=None, wname="W", extra_nodes=(), inputs=None, attrs=None, weight_init=True,
               x_shape=(1, 4, 6, 6), w_shape=(6, 4, 3, 3)):
    w = np.random.default_rng(1).standard_normal(w_shape).astype(np.float32) if w is None else w
    inits = [numpy_helper.from_array(w, wname)] if weight_init else []
    node = helper.make_node("Conv", ["X", wname], ["Y"], name="conv0", **(attrs or {}))
    g = helper.make_graph(list(extra_nodes) + [node], "g",
                          inputs or [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x_shape))],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    return m


good = conv_model().SerializeToString()
case("empty", b"", "convert", 1, "empty")
case("random_bytes", bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8)),
     "convert", 1, "not")
case("truncated", good[: len(good) // 2], "convert", 1, "not a valid ONNX model")
case("png_file", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "convert", 1, "not a valid ONNX model")
case("text_file", b"this is not a model\n" * 20, "convert", 1, "not a valid ONNX model")
# ModelProto.graph claiming 4 GiB.
case("absurd_length", varint((7 << 3) | 2) + varint(1 << 32) + b"\x00" * 16, "convert", 1, "claims")
case("bad_varint", b"\x08" + b"\xff" * 11, "convert", 1, "varint")
case("group_wire_type", field(1, 0, varint(7)) + varint((30 << 3) | 3), "convert", 1, "wire type")

# Deep nesting: TypeProto.sequence_type 100,000 levels inside a graph input.
t = b""
for _ in range(100000):
    t = field(4, 2, field(1, 2, t))  # TypeProto.sequence_type -> Sequence.elem_type
vi = field(1, 2, b"x") + field(2, 2, t)
case("deep_typeproto", field(7, 2, field(11, 2, vi)), "convert", 1, "nested deeper")
# Nested If sub-graphs, 300 deep.
g = b""
for _ in range(300):
    attr = field(1, 2, b"then_branch") + field(20, 0, varint(5)) + field(6, 2, g)
    node = field(4, 2, b"If") + field(1, 2, b"c") + field(5, 2, attr)
    g = field(1, 2, node)
case("deep_if", field(1, 0, varint(7)) + field(7, 2, g), "convert", 1, "nested deeper")

# Tensor payloads that do not match their dims.
m = conv_model()
m.graph.initializer[0].raw_data = m.graph.initializer[0].raw_data[:-8]
case("short_raw_data", m.SerializeToString(), "convert", 1, "raw_data has")
m = conv_model()
del m.graph.initializer[0].dims[:]
m.graph.initializer[0].dims.extend([6, -4, 3, 3])
case("negative_dims", m.SerializeToString(), "convert", 1, "negative")
m = conv_model()
del m.graph.initializer[0].dims[:]
m.graph.initializer[0].dims.extend([1 << 40, 1 << 40, 3, 3])
case("overflowing_dims", m.SerializeToString(), "convert", 1, "overflow")
m = conv_model()
m.graph.initializer[0].data_type = TensorProto.FLOAT
m.graph.initializer[0].ClearField("raw_data")
m.graph.initializer[0].float_data.extend([1.0] * 10)
case("typed_data_short", m.SerializeToString(), "convert", 1, "holds 10 values")
# A node name holding a NUL byte, which a C string would cut.
m = conv_model()
data = m.SerializeToString().replace(b"conv0", b"co\x00v0")
case("nul_in_string", data, "convert", 1, "NUL byte")
m = conv_model()
case("no_graph", field(1, 0, varint(7)) + field(2, 2, b"producer"), "convert", 1, "no graph")

# Graph-level faults that compress (which rewrites the graph) must refuse.
m = conv_model()
m.graph.node[0].input[0] = "nowhere"
case("dangling_input", m.SerializeToString(), "compress", 1, "'nowhere' is not produced")
m = conv_model(weight_init=False)
case("missing_weight", m.SerializeToString(), "compress", 1, "'W' is not produced")
relu_a = helper.make_node("Relu", ["b"], ["a"], name="ra")
relu_b = helper.make_node("Relu", ["a"], ["b"], name="rb")
m = conv_model(extra_nodes=[relu_a, relu_b])
case("cycle", m.SerializeToString(), "compress", 1, "cycle")
case("group_not_dividing", conv_model(attrs={"group": 4}).SerializeToString(), "compress", 1,
     "does not divide")
case("zero_strides", conv_model(attrs={"strides": [0, 1]}).SerializeToString(), "compress", 1,
     "strides must be positive")
case("kernel_shape_contradicts", conv_model(attrs={"kernel_shape": [5, 5]}).SerializeToString(),
     "compress", 1, "kernel_shape contradicts")
w = np.ones((6, 4, 3, 3), np.float32)
w[2, 1, 0, 0] = np.nan
case("nan_weight", conv_model(w=w).SerializeToString(), "compress", 1, "conv0")
w = np.ones((6, 4, 3, 3), np.float32)
w[0, 0, 1, 1] = np.inf
case("inf_weight", conv_model(w=w).SerializeToString(), "compress", 1, "conv0")
# A weight whose type is not a float: skipped with a note, not an error.
m = conv_model()
t = m.graph.initializer[0]
t.data_type = 99
case("unknown_dtype_weight", m.SerializeToString(), "compress", 0, "")
m = conv_model()
t = m.graph.initializer[0]
t.data_type = TensorProto.STRING
t.ClearField("raw_data")
t.string_data.extend([b"a"] * (6 * 4 * 9))
case("string_weight", m.SerializeToString(), "compress", 0, "")
m = conv_model(weight_init=False,
               inputs=[helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4, 6, 6]),
                       helper.make_tensor_value_info("W", TensorProto.FLOAT, [6, 4, 3, 3])])
case("runtime_weight", m.SerializeToString(), "compress", 0, "")


# External data: every way out of the model's folder, and bad ranges.
def ext_model(location, offset="0", length="864"):
    m = conv_model()
    t = m.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in [("location", location), ("offset", offset), ("length", length)]:
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, v
    return m.SerializeToString()


payload = np.random.default_rng(5).standard_normal(6 * 4 * 9).astype(np.float32).tobytes()
case("ext_absolute", ext_model("/etc/passwd"), "convert", 1, "absolute path", folder=True)
case("ext_dotdot", ext_model("../secret.bin"), "convert", 1, "contains '..'", folder=True)
p = case("ext_symlink_out", ext_model("w.bin"), "convert", 1, "leads out of the model's folder", folder=True)
os.symlink("/etc/hostname", os.path.join(os.path.dirname(p), "w.bin"))
p = case("ext_hardlink", ext_model("w.bin"), "convert", 1, "hard links", folder=True)
with open(os.path.join(OUT, "outside.bin"), "wb") as f:
    f.write(payload)
os.link(os.path.join(OUT, "outside.bin"), os.path.join(os.path.dirname(p), "w.bin"))
case("ext_missing_file", ext_model("nothere.bin"), "convert", 1, "nothere.bin", folder=True)
p = case("ext_short_file", ext_model("w.bin"), "convert", 1, "shorter than", folder=True)
with open(os.path.join(os.path.dirname(p), "w.bin"), "wb") as f:
    f.write(payload[:100])
p = case("ext_negative_offset", ext_model("w.bin", offset="-8"), "convert", 1,
         "not a non-negative integer", folder=True)
with open(os.path.join(os.path.dirname(p), "w.bin"), "wb") as f:
    f.write(payload)
p = case("ext_offset_overflow", ext_model("w.bin", offset="18446744073709551615"), "convert", 1,
         "shorter than", folder=True)
with open(os.path.join(os.path.dirname(p), "w.bin"), "wb") as f:
    f.write(payload)
p = case("ext_wrong_length", ext_model("w.bin", length="800"), "convert", 1, "raw_data has",
         folder=True)
with open(os.path.join(os.path.dirname(p), "w.bin"), "wb") as f:
    f.write(payload)

for name, path, cmd, code, msg in rows:
    print("\t".join([name, path, cmd, str(code), msg]))
