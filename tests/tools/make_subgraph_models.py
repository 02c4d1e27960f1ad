"""Writes models whose layers live inside sub-graphs and functions, with
inputs in ONNX's test-data layout, for tests/scripts/subgraph_layers.sh:

  if.onnx     If on a bool input: then_branch convolves with a weight of its
              own, else_branch with one of the main graph (outer scope);
              two samples, one per branch.
  loop.onnx   Loop of 3 iterations: the body convolves the carried value
              with a weight from a Constant node of the body.
  scan.onnx   Scan over 3 slices: the body convolves each slice with a main
              graph weight and runs a MatMul with a weight of its own.
  func.onnx   Model-local functions (IR 8): local.Block holds its weight in
              a Constant node; local.BlockW takes it as a function input.
  nested.onnx An If inside a Loop body convolves with a main graph weight
              two scopes up, which a main graph Conv (conv_main) also reads.
  ir3.onnx    if.onnx at IR 3 (sub-graph initializers are not allowed to
              be new there without being inputs).

Weights have multilinear rank 2 along both channel modes, so a Tucker-2
chain of ranks >= 2 reproduces them: a real ratio stays exact.

usage: make_subgraph_models.py OUTDIR"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(18)
F = TensorProto.FLOAT
OPSET = [helper.make_opsetid("", 17)]


def lowrank(cout, cin, k):
    core = rng.standard_normal((2, 2, k, k))
    u = rng.standard_normal((cout, 2))
    v = rng.standard_normal((cin, 2))
    w = np.einsum("abhw,oa,ib->oihw", core, u, v) / np.sqrt(cin * k * k)
    return w.astype(np.float32)


def init(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def conv(x, w, y, name, bias=None):
    ins = [x, w] + ([bias] if bias else [])
    return helper.make_node("Conv", ins, [y], name=name, pads=[1, 1, 1, 1])


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def save(outdir, name, graph, samples, ir=8, functions=(), opsets=OPSET):
    m = helper.make_model(graph, opset_imports=opsets)
    m.functions.extend(functions)
    m.ir_version = ir
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, os.path.join(outdir, name + ".onnx"))
    for k, sample in enumerate(samples):
        d = os.path.join(outdir, name + "_in", "test_data_set_%d" % k)
        os.makedirs(d, exist_ok=True)
        for j, a in enumerate(sample):
            t = numpy_helper.from_array(a)
            with open(os.path.join(d, "input_%d.pb" % j), "wb") as f:
                f.write(t.SerializeToString())


def x_sample(shape):
    return rng.standard_normal(shape).astype(np.float32)


def make_if(outdir, name="if", ir=8):
    then_g = helper.make_graph(
        [conv("X", "w_then", "t0", "conv_then", "b_then"),
         helper.make_node("Relu", ["t0"], ["y_then"], name="relu_then")],
        "then", [], [vi("y_then", [1, 16, 6, 6])],
        [init("w_then", lowrank(16, 8, 3)), init("b_then", x_sample(16))])
    else_g = helper.make_graph(
        [conv("X", "w_outer", "y_else", "conv_else")],
        "else", [], [vi("y_else", [1, 16, 6, 6])])
    # main graph values named as the branches' first factors would be: a
    # factor taking one of these names would shadow it (not SSA)
    g = helper.make_graph(
        [helper.make_node("If", ["C"], ["Y"], name="If_0",
                          then_branch=then_g, else_branch=else_g),
         helper.make_node("Identity", ["X"], ["conv_then_td1_w"], name="i0"),
         helper.make_node("Neg", ["conv_then_td1_w"], ["conv_else_td1_w"],
                          name="i1"),
         helper.make_node("Relu", ["conv_else_td1_w"], ["Z"], name="i2")],
        name, [vi("X", [1, 8, 6, 6]), vi("C", [], TensorProto.BOOL)],
        [vi("Y", [1, 16, 6, 6]), vi("Z", [1, 8, 6, 6])],
        [init("w_outer", lowrank(16, 8, 3))])
    if ir < 4:  # every initializer is also an input of its graph
        for gr in (g, then_g):
            gr.input.extend(vi(t.name, list(t.dims)) for t in gr.initializer)
        [a for a in g.node[0].attribute if a.name == "then_branch"][0].g.CopyFrom(then_g)
    x = x_sample((1, 8, 6, 6))
    save(outdir, name, g, [[x, np.array(True)], [x, np.array(False)]], ir=ir)


def make_loop(outdir):
    wc = helper.make_node("Constant", [], ["w_body"], name="w_const",
                          value=init("w_body_value", lowrank(8, 8, 3)))
    body = helper.make_graph(
        [wc, conv("x_in", "w_body", "c0", "conv_body"),
         helper.make_node("Tanh", ["c0"], ["x_out"], name="tanh_body"),
         helper.make_node("Identity", ["cond_in"], ["cond_out"], name="id")],
        "body", [vi("iter", [], TensorProto.INT64),
                 vi("cond_in", [], TensorProto.BOOL), vi("x_in", [1, 8, 6, 6])],
        [vi("cond_out", [], TensorProto.BOOL), vi("x_out", [1, 8, 6, 6])])
    g = helper.make_graph(
        [helper.make_node("Loop", ["M", "T", "X"], ["Y"], name="Loop_0",
                          body=body)],
        "loop", [vi("X", [1, 8, 6, 6])], [vi("Y", [1, 8, 6, 6])],
        [init("M", np.array(3, np.int64)), init("T", np.array(True))])
    save(outdir, "loop", g, [[x_sample((1, 8, 6, 6))]])


def make_scan(outdir):
    body = helper.make_graph(
        [conv("s_in", "w_scan", "c0", "conv_scan"),
         helper.make_node("Reshape", ["c0", "shape"], ["flat"], name="flat"),
         helper.make_node("MatMul", ["flat", "m_scan"], ["s_out"],
                          name="matmul_scan")],
        "body", [vi("s_in", ["n", "c", "h", "w"])], [vi("s_out", [16, 12])],
        [init("shape", np.array([16, 36], np.int64)),
         init("m_scan", (lowrank(36, 12, 1)[:, :, 0, 0]))])
    g = helper.make_graph(
        [helper.make_node("Scan", ["X"], ["Y"], name="Scan_0", body=body,
                          num_scan_inputs=1)],
        "scan", [vi("X", [3, 1, 8, 6, 6])], [vi("Y", [3, 16, 12])],
        [init("w_scan", lowrank(16, 8, 3))])
    save(outdir, "scan", g, [[x_sample((3, 1, 8, 6, 6))]])


def make_func(outdir):
    wc = helper.make_node("Constant", [], ["w"], value=init(
        "wv", lowrank(16, 8, 3)))
    block = helper.make_function(
        "local", "Block", ["x"], ["y"],
        [wc, helper.make_node("Conv", ["x", "w"], ["c"], name="conv_fn",
                              pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["y"], name="relu_fn")], OPSET)
    block_w = helper.make_function(
        "local", "BlockW", ["x", "w"], ["y"],
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv_fnw",
                          pads=[1, 1, 1, 1])], OPSET)
    g = helper.make_graph(
        [helper.make_node("Block", ["X"], ["H"], name="call0", domain="local"),
         helper.make_node("BlockW", ["H", "w_in"], ["Y"], name="call1",
                          domain="local")],
        "func", [vi("X", [1, 8, 6, 6])], [vi("Y", [1, 8, 6, 6])],
        [init("w_in", lowrank(8, 16, 3))])
    save(outdir, "func", g, [[x_sample((1, 8, 6, 6))]],
         functions=[block, block_w],
         opsets=OPSET + [helper.make_opsetid("local", 1)])


def make_nested(outdir):
    then_g = helper.make_graph(
        [conv("x_in", "w_shared", "y_then", "conv_deep")],
        "then", [], [vi("y_then", [1, 16, 6, 6])])
    else_g = helper.make_graph(
        [helper.make_node("Identity", ["x_in"], ["y_else"], name="keep")],
        "else", [], [vi("y_else", [1, 16, 6, 6])])
    body = helper.make_graph(
        [helper.make_node("If", ["cond_in"], ["x_out"], name="If_in",
                          then_branch=then_g, else_branch=else_g),
         helper.make_node("Identity", ["cond_in"], ["cond_out"], name="id")],
        "body", [vi("iter", [], TensorProto.INT64),
                 vi("cond_in", [], TensorProto.BOOL), vi("x_in", [1, 8, 6, 6])],
        [vi("cond_out", [], TensorProto.BOOL), vi("x_out", [1, 8, 6, 6])])
    g = helper.make_graph(
        [conv("X", "w_shared", "H", "conv_main"),
         helper.make_node("Loop", ["M", "T", "H"], ["Y"], name="Loop_0",
                          body=body)],
        "nested", [vi("X", [1, 8, 6, 6])], [vi("Y", [1, 8, 6, 6])],
        [init("w_shared", lowrank(8, 8, 3)),
         init("M", np.array(2, np.int64)), init("T", np.array(True))])
    save(outdir, "nested", g, [[x_sample((1, 8, 6, 6))]])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    make_if(out)
    make_loop(out)
    make_scan(out)
    make_func(out)
    make_nested(out)
    make_if(out, "ir3", ir=3)


if __name__ == "__main__":
    main()
