"""Writes pairs of ONNX models for diff's CI options, each differing from
base.onnx in exactly one way (or, for multi.onnx, in several at once):

  weight    one element of W moved by about 1e-7 (float32)
  renamed   node conv2 renamed conv2_renamed (nothing else)
  renedit   node conv2 renamed conv2_b and given auto_pad="NOTSET" (its
            default: one attribute more, the same outputs)
  metadata  a metadata_props value, producer name/version, model_version
  doc       a node's and the graph's doc_string
  added     one node more (a Relu whose output nothing reads)
  intk      an int64 initializer's element 3 -> 4
  nanmoved  a NaN moved to another position of a float initializer
  unnamed   12 unnamed nodes more (Relu, outputs nothing reads)
  multi     node extra_a removed, node extra_z added, W changed, a
            metadata value changed

usage: make_diff_ci.py OUTDIR   (prints "WDIFF <|a-b| of the W change>")"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)


def build(w_delta=0.0, conv2_name="conv2", meta="v1", producer=("p", "1.0"),
          model_version=1, node_doc="first conv", graph_doc="graph doc",
          k=(1, 2, 3), nan_at=0, extra=(), conv2_attrs=None, unnamed=0,
          name="base"):
    w = np.full((4, 3, 3, 3), 0.25, np.float32)
    w.flat[7] = np.float32(np.float32(0.25) + np.float32(w_delta))
    w2 = np.full((2, 4, 1, 1), 0.5, np.float32)
    n = np.ones(3, np.float32)
    n[nan_at] = np.nan
    inits = [numpy_helper.from_array(w, "W"),
             numpy_helper.from_array(w2, "W2"),
             numpy_helper.from_array(np.array(k, np.int64), "K"),
             numpy_helper.from_array(n, "N")]
    nodes = [helper.make_node("Conv", ["X", "W"], ["c1"], name="conv1",
                              pads=[1, 1, 1, 1], doc_string=node_doc),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "W2"], ["Y"], name=conv2_name,
                              **(conv2_attrs or {}))]
    for e in extra:
        nodes.append(helper.make_node("Relu", ["X"], [e + "_out"], name=e))
    for i in range(unnamed):
        nodes.append(helper.make_node("Relu", ["X"], ["u%d" % i]))
    g = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2, 8, 8])],
        inits, doc_string=graph_doc)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name=producer[0],
                          producer_version=producer[1])
    m.ir_version = 8
    m.model_version = model_version
    helper.set_model_props(m, {"author": "a", "rev": meta})
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, name + ".onnx"))
    return w


w0 = build()
build(name="copy")
w1 = build(w_delta=1e-7, name="weight")
build(conv2_name="conv2_renamed", name="renamed")
build(conv2_name="conv2_b", conv2_attrs={"auto_pad": "NOTSET"},
      name="renedit")
build(meta="v2", producer=("q", "2.0"), model_version=2, name="metadata")
build(node_doc="first conv, edited", graph_doc="other", name="doc")
build(extra=("extra",), name="added")
build(k=(1, 2, 4), name="intk")
build(unnamed=12, name="unnamed")
build(nan_at=1, name="nanmoved")
build(extra=("extra_a",), name="multi_a")
build(extra=("extra_z",), w_delta=1e-7, meta="v2", name="multi_b")
print("WDIFF", repr(float(abs(np.float64(w1.flat[7]) -
                              np.float64(w0.flat[7])))))
