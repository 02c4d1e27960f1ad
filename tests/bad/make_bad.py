"""Writes a corpus of broken models into DIR (argv[1]) and a manifest,
DIR/cases.tsv, with one expectation per line:

    case <TAB> model path (relative to DIR) <TAB> command <TAB> exit code
         <TAB> message substring <TAB> extra arguments

command is convert, info or compress. The substring is looked for in
stderr besides the model's path, which every failure message must name.
An exit code of 0 means the command must succeed (the case is broken only
for another command: convert copies a graph with a cycle faithfully, but
compress must refuse to factor it).

Some cases are written as raw protobuf wire bytes, because the onnx package
refuses (or cannot express) what they contain."""
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
manifest = []
CONV = "compress"  # the compress cases all use Tucker-2 at rank 2
CARGS = "--method tucker2 --rank 2"


def expect(case, path, command, code, substring, extra=""):
    # "-" stands for an empty field: the shell's read merges adjacent tabs.
    manifest.append((case, path, command, str(code), substring or "-",
                     extra or "-"))


def write(rel, data):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return rel


# ---- raw wire helpers ------------------------------------------------------

def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(number, wire_type, payload=b""):
    tag = varint((number << 3) | wire_type)
    if wire_type == 2:
        return tag + varint(len(payload)) + payload
    return tag + payload


def nested(headers_outer_first, inner):
    """Builds messages nested len(headers) deep without quadratic copying:
    each header is a field number, and every level holds only the next."""
    lengths = []
    n = len(inner)
    for number in reversed(headers_outer_first):
        lengths.append((number, n))
        n += len(varint((number << 3) | 2)) + len(varint(n))
    parts = [varint((num << 3) | 2) + varint(ln) for num, ln in reversed(lengths)]
    return b"".join(parts) + inner


# ---- a small valid model to break ------------------------------------------

def conv_model(weight=None, attrs=None, inputs=("X", "W"), extra_nodes=(),
               group=1, channels=4):
    w = weight
    if w is None:
        w = numpy_helper.from_array(
            np.random.RandomState(0).randn(4, channels // group, 3, 3)
            .astype(np.float32), "W")
    a = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "group": group}
    a.update(attrs or {})
    node = helper.make_node("Conv", list(inputs), ["Y"], name="conv1", **a)
    g = helper.make_graph(
        [node] + list(extra_nodes), "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                       [1, channels, 8, 8])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4, 8, 8])],
        [w] if w is not False else [])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def save(rel, model):
    return write(rel, model.SerializeToString())


good = conv_model()
good_bytes = good.SerializeToString()

# ---- bytes that are not a model --------------------------------------------

p = write("empty.onnx", b"")
for c in ("convert", "info", CONV):
    expect("empty", p, c, 1, "empty")

p = write("random.onnx", np.random.RandomState(1).bytes(4096))
for c in ("convert", "info", CONV):
    expect("random", p, c, 1, "not a valid ONNX model")

p = write("truncated.onnx", good_bytes[: len(good_bytes) * 2 // 3])
for c in ("convert", "info", CONV):
    expect("truncated", p, c, 1, "not a valid ONNX model")

p = write("png.onnx", b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + bytes(64))
for c in ("convert", "info", CONV):
    expect("png", p, c, 1, "not a valid ONNX model")

p = write("text.onnx", b"This is a README, not a model.\nSee the docs.\n")
for c in ("convert", "info", CONV):
    expect("text", p, c, 1, "not a valid ONNX model")

# A graph field claiming 2^60 bytes; and a 10-byte varint that overflows.
p = write("huge_length.onnx", field(1, 0, varint(7)) + varint((7 << 3) | 2)
          + varint(1 << 60) + b"abc")
for c in ("convert", "info", CONV):
    expect("huge_length", p, c, 1, "claims")
p = write("bad_varint.onnx", field(1, 0, varint(7)) + varint((7 << 3) | 2)
          + b"\xff" * 10 + b"\x01")
for c in ("convert", "info", CONV):
    expect("bad_varint", p, c, 1, "malformed length")

# Field 2 (producer_name) as a start-group (wire type 3).
p = write("group_wire.onnx", field(1, 0, varint(7)) + varint((2 << 3) | 3)
          + field(1, 0, varint(1)) + varint((2 << 3) | 4))
for c in ("convert", "info", CONV):
    expect("group_wire", p, c, 1, "wire type 3")

p = write("no_graph.onnx", field(1, 0, varint(7)) + field(2, 2, b"x"))
for c in ("convert", "info", CONV):
    expect("no_graph", p, c, 1, "no graph")

m = conv_model()
m.producer_name = "tool\0evil"
p = save("nul_string.onnx", m)
for c in ("convert", "info", CONV):
    expect("nul_string", p, c, 1, "NUL byte")

# A FIFO given as the model: refused at once, not waited on.
os.makedirs(os.path.join(OUT, "fifo"), exist_ok=True)
os.mkfifo(os.path.join(OUT, "fifo", "model.onnx"))
for c in ("convert", "info", CONV):
    expect("fifo_model", "fifo/model.onnx", c, 1, "not a regular file")

# ---- nesting ---------------------------------------------------------------

# ModelProto.graph > GraphProto.input > ValueInfoProto.type > TypeProto,
# then TypeProto.sequence_type > Sequence.elem_type, 100,000 times.
levels = [7, 11, 2] + [4, 1] * 100000
p = write("deep_types.onnx", field(1, 0, varint(7)) + nested(levels, b""))
for c in ("convert", "info", CONV):
    expect("deep_types", p, c, 1, "nested deeper than")

# If nodes whose then_branch holds another If, 60 deep (3 levels each).
leaf = helper.make_graph(
    [helper.make_node("Identity", ["c"], ["o0"])], "leaf", [],
    [helper.make_tensor_value_info("o0", TensorProto.BOOL, [])])
inner = leaf
for i in range(60):
    # Only one branch nests: both would double the size at every level.
    node = helper.make_node("If", ["c"], ["o%d" % (i + 1)], then_branch=inner,
                            else_branch=leaf, name="if%d" % i)
    inner = helper.make_graph(
        [node], "g%d" % i, [],
        [helper.make_tensor_value_info("o%d" % (i + 1), TensorProto.BOOL, [])])
top = helper.make_graph(inner.node, "top",
                        [helper.make_tensor_value_info("c", TensorProto.BOOL, [])],
                        list(inner.output))
p = save("deep_if.onnx", helper.make_model(top))
for c in ("convert", "info", CONV):
    expect("deep_if", p, c, 1, "nested deeper than")

# ---- tensors whose data does not match their dims --------------------------

w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 4, 3, 3],
                raw_data=bytes(100))
p = save("short_raw.onnx", conv_model(weight=w))
for c in ("convert", "info", CONV):
    expect("short_raw", p, c, 1, "tensor 'W': raw_data has 100 bytes")

w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[-4, 4, 3, 3],
                raw_data=bytes(576))
p = save("negative_dims.onnx", conv_model(weight=w))
for c in ("convert", "info", CONV):
    expect("negative_dims", p, c, 1, "tensor 'W': dims are negative")

w = TensorProto(name="W", data_type=TensorProto.FLOAT,
                dims=[1 << 62, 1 << 3, 3, 3], raw_data=bytes(16))
p = save("overflow_dims.onnx", conv_model(weight=w))
for c in ("convert", "info", CONV):
    expect("overflow_dims", p, c, 1, "tensor 'W': dims are negative or their "
           "product overflows")

# float_data holding fewer values than the dims promise.
w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 4, 3, 3],
                float_data=[1.0] * 10)
p = save("typed_data_short.onnx", conv_model(weight=w))
for c in ("convert", "info", CONV):
    expect("typed_data_short", p, c, 1, "holds 10 values")

# A large tensor is hollowed (its payload stays in the mapping); the check
# must hold on that path too.
w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 4, 3, 3],
                raw_data=bytes(8192))
p = save("long_raw_hollowed.onnx", conv_model(weight=w))
for c in ("convert", "info", CONV):
    expect("long_raw_hollowed", p, c, 1, "tensor 'W': raw_data has 8192 bytes")

# ---- models convert copies faithfully but compress must refuse -------------

w = TensorProto(name="W", data_type=99, dims=[4, 4, 3, 3], raw_data=bytes(576))
p = save("unknown_dtype_weight.onnx", conv_model(weight=w))
expect("unknown_dtype_weight", p, "convert", 0, "")
# compress skips a layer whose weight it cannot read (with the reason in its
# report) rather than failing the whole model.
expect("unknown_dtype_weight", p, CONV, 0, "", CARGS)

w = helper.make_tensor("W", TensorProto.STRING, [4, 4, 3, 3],
                       [b"x"] * 144)
p = save("string_weight.onnx", conv_model(weight=w))
expect("string_weight", p, "convert", 0, "")
expect("string_weight", p, CONV, 0, "", CARGS)

# Cycle: conv1 reads B, which a Relu computes from conv1's output.
cyc = [helper.make_node("Relu", ["Y"], ["B"], name="relu_back")]
p = save("cycle.onnx", conv_model(inputs=("B", "W"), extra_nodes=cyc))
expect("cycle", p, "convert", 0, "")
expect("cycle", p, CONV, 1, "conv1", CARGS)

p = save("dangling.onnx", conv_model(inputs=("ghost", "W")))
expect("dangling", p, "convert", 0, "")
expect("dangling", p, CONV, 1, "ghost", CARGS)

p = save("missing_weight.onnx", conv_model(weight=False))
expect("missing_weight", p, "convert", 0, "")
expect("missing_weight", p, CONV, 1, "W", CARGS)

# group 3 does not divide 4 channels (weight shaped as if it did).
w = numpy_helper.from_array(np.ones((4, 1, 3, 3), np.float32), "W")
p = save("bad_group.onnx", conv_model(weight=w, group=3))
expect("bad_group", p, "convert", 0, "")
expect("bad_group", p, CONV, 1, "conv1", CARGS)

p = save("zero_strides.onnx", conv_model(attrs={"strides": [0, 0]}))
expect("zero_strides", p, "convert", 0, "")
expect("zero_strides", p, CONV, 1, "conv1", CARGS)

p = save("kernel_mismatch.onnx", conv_model(attrs={"kernel_shape": [5, 5]}))
expect("kernel_mismatch", p, "convert", 0, "")
expect("kernel_mismatch", p, CONV, 1, "conv1", CARGS)

wv = np.random.RandomState(0).randn(4, 4, 3, 3).astype(np.float32)
wv[1, 2, 0, 0] = np.nan
wv[3, 0, 1, 1] = np.inf
p = save("nan_weight.onnx",
         conv_model(weight=numpy_helper.from_array(wv, "W")))
expect("nan_weight", p, "convert", 0, "")
expect("nan_weight", p, CONV, 1, "W", CARGS)

# Inf alone (LAPACK's SVD never returns on it): refused, naming the tensor.
wv = np.ones((4, 4, 3, 3), np.float32)
wv[0, 0, 1, 1] = np.inf
p = save("inf_weight.onnx", conv_model(weight=numpy_helper.from_array(wv, "W")))
expect("inf_weight", p, "convert", 0, "")
expect("inf_weight", p, CONV, 1, "'W'", CARGS)

# A weight fed at run time (a graph input, no initializer): nothing to
# factor, so compress keeps the layer and succeeds.
m = conv_model(weight=False)
m.graph.input.append(helper.make_tensor_value_info("W", TensorProto.FLOAT,
                                                   [4, 4, 3, 3]))
p = save("runtime_weight.onnx", m)
expect("runtime_weight", p, "convert", 0, "")
expect("runtime_weight", p, CONV, 0, "", CARGS)

# An attribute holding an empty bytes string (found by fuzzing: it reached
# memcpy with a NULL source on save).
m = conv_model()
m.graph.node[0].attribute.append(helper.make_attribute("note", b""))
p = save("empty_bytes_attr.onnx", m)
expect("empty_bytes_attr", p, "convert", 0, "")

# ---- the memory bound ------------------------------------------------------

# 200,000 one-byte packed int64 dims: a 200 kB file whose unpacked form
# needs 1.6 MB. Refused under --mem-limit 1M, before anything is allocated;
# accepted (as far as the bound goes) without it.
dims = b"".join(varint(1) for _ in range(200000))
tensor = (field(1, 2, dims) + field(2, 0, varint(1)) + field(8, 2, b"big")
          + field(4, 2, struct.pack("<f", 1.0)))
graph = field(5, 2, tensor) + field(2, 2, b"g")
p = write("mem_bound.onnx", field(1, 0, varint(7)) + field(7, 2, graph))
expect("mem_bound", p, "convert", 1, "unpacking would need about", "--mem-limit 1M")
expect("mem_bound", p, "convert", 0, "")

# ---- external data ----------------------------------------------------------

def ext_model(case, location, offset=None, length=None):
    w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 4, 3, 3])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset),
                 ("length", length)):
        if v is not None:
            e = w.external_data.add()
            e.key, e.value = k, v
    return save(os.path.join(case, "model.onnx"), conv_model(weight=w))


payload = np.ones(144, np.float32).tobytes()
write("outside.bin", payload)

p = ext_model("ext_absolute", os.path.join(os.path.abspath(OUT), "outside.bin"))
for c in ("convert", "info", CONV):
    expect("ext_absolute", p, c, 1, "tensor 'W': external data location")

p = ext_model("ext_dotdot", "../outside.bin")
for c in ("convert", "info", CONV):
    expect("ext_dotdot", p, c, 1, "tensor 'W': external data location "
           "'../outside.bin' contains '..'")

p = ext_model("ext_symlink", "link.bin")
os.symlink("../outside.bin", os.path.join(OUT, "ext_symlink", "link.bin"))
for c in ("convert", "info", CONV):
    expect("ext_symlink", p, c, 1, "leads out of the model's folder")

p = ext_model("ext_hardlink", "hard.bin")
os.link(os.path.join(OUT, "outside.bin"),
        os.path.join(OUT, "ext_hardlink", "hard.bin"))
for c in ("convert", "info", CONV):
    expect("ext_hardlink", p, c, 1, "hard links")

p = ext_model("ext_missing", "nope.bin")
for c in ("convert", "info", CONV):
    expect("ext_missing", p, c, 1, "'nope.bin': No such file")

p = ext_model("ext_short", "w.bin", "0", "576")
write("ext_short/w.bin", payload[:40])
for c in ("convert", "info", CONV):
    expect("ext_short", p, c, 1, "has 40 bytes, shorter than")

p = ext_model("ext_negative_offset", "w.bin", "-4", "576")
write("ext_negative_offset/w.bin", payload)
for c in ("convert", "info", CONV):
    expect("ext_negative_offset", p, c, 1, "offset '-4' is not")

# offset + length overflows 64 bits; the range check must not wrap.
p = ext_model("ext_offset_overflow", "w.bin", "18446744073709551615", "576")
write("ext_offset_overflow/w.bin", payload)
for c in ("convert", "info", CONV):
    expect("ext_offset_overflow", p, c, 1, "tensor 'W'")

p = ext_model("ext_text_offset", "w.bin", "12abc")
write("ext_text_offset/w.bin", payload)
for c in ("convert", "info", CONV):
    expect("ext_text_offset", p, c, 1, "offset '12abc' is not")

# A FIFO named as the data file: opening it must not wait for a writer.
p = ext_model("ext_fifo", "pipe.bin")
os.mkfifo(os.path.join(OUT, "ext_fifo", "pipe.bin"))
for c in ("convert", "info", CONV):
    expect("ext_fifo", p, c, 1, "not a regular file")

# Right size but the payload length disagrees with dims.
p = ext_model("ext_wrong_length", "w.bin", "0", "40")
write("ext_wrong_length/w.bin", payload)
for c in ("convert", "info", CONV):
    expect("ext_wrong_length", p, c, 1, "tensor 'W': raw_data has 40 bytes")

with open(os.path.join(OUT, "cases.tsv"), "w") as f:
    for row in manifest:
        f.write("\t".join(row) + "\n")
print("%d expectations over %d cases" %
      (len(manifest), len({r[0] for r in manifest})))
