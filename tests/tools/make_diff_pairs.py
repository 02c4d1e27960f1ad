"""Writes pairs of ONNX models that differ only in how they store the same
meaning, for diff: repeated attribute names, repeated opset imports and
repeated graph-input names (each file must be "same" as itself), and
initializers of every integer dtype, BOOL and FLOAT8 stored in their
typed field in one file and as raw_data in the other. Also the real
differences diff must still find.

usage: make_diff_pairs.py OUTDIR   (prints one line per comparison:
                                    A B VERDICT  with VERDICT same|different)"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)


def save(name, nodes, inputs, inits, opsets=(("", 13),)):
    g = helper.make_graph(nodes, "g", inputs,
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT,
                                                         None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid(d, v)
                                            for d, v in opsets])
    m.ir_version = 8
    path = os.path.join(OUT, name + ".onnx")
    onnx.save(m, path)
    return name


def x(shape=(1, 3, 8, 8), name="X"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


W = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "W")


def conv(*pads_lists):
    n = helper.make_node("Conv", ["X", "W"], ["Y"], name="conv")
    for pads in pads_lists:
        n.attribute.append(helper.make_attribute("pads", pads))
    return n


def pair(a, b, verdict):
    print(a, b, verdict)


# Repeated attribute: compared with itself it is the same; a change in
# the second occurrence is found.
a = save("dup_attr", [conv([1, 1, 1, 1], [0, 0, 0, 0])], [x()], [W])
b = save("dup_attr_changed", [conv([1, 1, 1, 1], [2, 2, 2, 2])], [x()], [W])
c = save("dup_attr_one", [conv([1, 1, 1, 1])], [x()], [W])
pair(a, a, "same")
pair(a, b, "different")
pair(a, c, "different")

# Repeated opset import of one domain, with two versions.
relu = helper.make_node("Relu", ["X"], ["Y"], name="relu")
a = save("dup_opset", [relu], [x()], [], opsets=(("", 13), ("", 11)))
b = save("dup_opset_changed", [relu], [x()], [],
         opsets=(("", 13), ("", 12)))
pair(a, a, "same")
pair(a, b, "different")

# Repeated graph-input name, with two shapes.
a = save("dup_input", [relu], [x(), x((1, 3, 4, 4))], [])
b = save("dup_input_changed", [relu], [x(), x((1, 3, 5, 5))], [])
pair(a, a, "same")
pair(a, b, "different")

# Small integer, BOOL and FLOAT8 initializers: typed field vs raw_data.
T = TensorProto
values = {
    "bool": (T.BOOL, np.bool_, [1, 0, 1, 1]),
    "int8": (T.INT8, np.int8, [-128, 127, 0, -1]),
    "uint8": (T.UINT8, np.uint8, [0, 255, 128, 7]),
    "int16": (T.INT16, np.int16, [-32768, 32767, 0, -1]),
    "uint16": (T.UINT16, np.uint16, [0, 65535, 40000, 1]),
    "int32": (T.INT32, np.int32, [-2**31, 2**31 - 1, 0, -1]),
    "uint32": (T.UINT32, np.uint32, [0, 2**32 - 1, 2**31, 5]),
    "int64": (T.INT64, np.int64, [-2**63, 2**63 - 1, 0, -1]),
    "uint64": (T.UINT64, np.uint64, [0, 2**64 - 1, 2**63, 9]),
}
FLOAT8_CODES = [0x00, 0x38, 0xb8, 0x7e]  # 0, 1, -1, 448 in E4M3FN


def typed(name, dt, vals):
    t = TensorProto()
    t.name, t.data_type = name, dt
    t.dims.append(len(vals))
    if dt in (T.UINT32, T.UINT64):
        t.uint64_data.extend(int(v) for v in vals)
    elif dt == T.INT64:
        t.int64_data.extend(int(v) for v in vals)
    else:
        t.int32_data.extend(int(v) for v in vals)
    return t


def raw(name, dt, np_type, vals):
    if np_type is None:  # FLOAT8: codes as bytes
        t = TensorProto()
        t.name, t.data_type, t.raw_data = name, dt, bytes(vals)
        t.dims.append(len(vals))
        return t
    t = numpy_helper.from_array(np.array(vals, dtype=np_type), name)
    assert t.HasField("raw_data") and t.data_type == dt
    return t


FLOAT8E4M3FN = 17  # TensorProto.DataType; older onnx lacks the name
values["float8"] = (FLOAT8E4M3FN, None, FLOAT8_CODES)

ident = helper.make_node("Identity", ["X"], ["Y"], name="id")
for key, (dt, np_type, vals) in values.items():
    a = save("typed_" + key, [ident], [x()], [typed("C", dt, vals)])
    b = save("raw_" + key, [ident], [x()], [raw("C", dt, np_type, vals)])
    changed = list(vals)
    changed[2] = {"bool": 0, "float8": 0x40}.get(key, 1)
    c = save("raw_changed_" + key, [ident], [x()],
             [raw("C", dt, np_type, changed)])
    pair(a, b, "same")
    pair(b, a, "same")
    pair(a, c, "different")
