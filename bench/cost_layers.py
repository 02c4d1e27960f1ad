#!/usr/bin/env python3
"""Single-layer models for bench/cost_check.sh's real-model mode: for every
Conv a compress report replaced, one model with the original Conv and one
with the chain the report names (same shapes, strides, pads, dilations,
group and dtype as in the real model; random weights, since latency does
not depend on their values), plus a manifest with the cost model's
predicted latencies from the report.

  cost_layers.py MODEL REPORT OUTDIR [--dim NAME=V ...]

The chains are built as td_emit.c builds them (README "Methods and the
chains they emit"): Tucker-2 1x1 -> kxk -> 1x1, CP 1x1 -> depthwise k x 1
-> depthwise 1 x k -> 1x1, SVD 1x1 (stride, pads) -> 1x1."""
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def weight_of(model, name):
    for t in model.graph.initializer:
        if t.name == name:
            return numpy_helper.to_array(t)
    for n in model.graph.node:
        if n.op_type == "Constant" and n.output[0] == name:
            return numpy_helper.to_array(n.attribute[0].t)
    raise KeyError(name)


def conv(name, x, y, w, dtype, rng, **kw):
    arr = (rng.standard_normal(w) * 0.05).astype(dtype)
    init = numpy_helper.from_array(arr, name + "_w")
    node = helper.make_node("Conv", [x, init.name], [y], name=name,
                            **{k: v for k, v in kw.items() if v is not None})
    return node, init


def model_of(nodes, inits, x_shape, elem):
    g = helper.make_graph(nodes, "layer",
                          [helper.make_tensor_value_info("x", elem, x_shape)],
                          [helper.make_tensor_value_info("y", elem, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


def main():
    src, rep_path, out = sys.argv[1:4]
    dims = {}
    args = sys.argv[4:]
    for i, a in enumerate(args):
        if a == "--dim":
            k, v = args[i + 1].split("=")
            dims[k] = int(v)
    model = onnx.load(src)
    for inp in model.graph.input:
        for d in inp.type.tensor_type.shape.dim:
            if d.dim_param in dims:
                d.dim_value = dims[d.dim_param]
            elif d.dim_param:
                d.dim_value = 1
    inferred = shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    nodes = {n.name: n for n in model.graph.node}
    rep = json.load(open(rep_path))
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    manifest = []
    for i, l in enumerate(rep["layers"]):
        if l["method"] not in ("tucker2", "cp", "svd") or "est_latency_after" not in l:
            continue
        n = nodes.get(l["node"])
        if n is None or n.op_type != "Conv" or n.input[0] not in shapes:
            continue
        w = weight_of(model, n.input[1])
        if w.ndim != 4:
            continue
        a = attrs(n)
        xs = shapes[n.input[0]]
        if len(xs) != 4 or 0 in xs:
            continue
        cout, cin_g, kh, kw = w.shape
        g = a.get("group", 1)
        dt = w.dtype if w.dtype in (np.float16, np.float32) else np.float32
        elem = onnx.TensorProto.FLOAT16 if dt == np.float16 else onnx.TensorProto.FLOAT
        st, pads = a.get("strides"), a.get("pads")
        dil, ap = a.get("dilations"), a.get("auto_pad")
        ap = ap.decode() if isinstance(ap, bytes) else ap
        if ap in ("NOTSET", ""):
            ap = None
        o_nodes, o_inits = zip(conv("orig", "x", "y", (cout, cin_g, kh, kw), dt, rng,
                                    group=g if g > 1 else None, strides=st, pads=pads,
                                    dilations=dil, auto_pad=ap))
        r = l["ranks"]
        cin = cin_g * g
        ch = []
        if l["method"] == "tucker2":
            ro, ri = r[0] * g, r[1] * g
            ch.append(conv("a", "x", "t1", (ri, cin_g, 1, 1), dt, rng, group=g if g > 1 else None))
            ch.append(conv("b", "t1", "t2", (ro, ri // g, kh, kw), dt, rng,
                           group=g if g > 1 else None, strides=st, pads=pads,
                           dilations=dil, auto_pad=ap))
            ch.append(conv("c", "t2", "y", (cout, ro // g, 1, 1), dt, rng, group=g if g > 1 else None))
        elif l["method"] == "cp":
            R = r[0] * g
            s = st or [1, 1]
            p = pads or [0, 0, 0, 0]
            d = dil or [1, 1]
            ch.append(conv("a", "x", "t1", (R, cin_g, 1, 1), dt, rng, group=g if g > 1 else None))
            ch.append(conv("b", "t1", "t2", (R, 1, kh, 1), dt, rng, group=R,
                           strides=[s[0], 1], pads=[p[0], 0, p[2], 0] if not ap else None,
                           dilations=[d[0], 1], auto_pad=ap))
            ch.append(conv("c", "t2", "t3", (R, 1, 1, kw), dt, rng, group=R,
                           strides=[1, s[1]], pads=[0, p[1], 0, p[3]] if not ap else None,
                           dilations=[1, d[1]], auto_pad=ap))
            ch.append(conv("d", "t3", "y", (cout, R // g, 1, 1), dt, rng, group=g if g > 1 else None))
        else:
            R = r[0] * g
            ch.append(conv("a", "x", "t1", (R, cin_g, 1, 1), dt, rng, group=g if g > 1 else None,
                           strides=st, pads=pads))
            ch.append(conv("b", "t1", "y", (cout, R // g, 1, 1), dt, rng, group=g if g > 1 else None))
        c_nodes, c_inits = zip(*ch)
        fa = os.path.join(out, "l%03d_orig.onnx" % i)
        fb = os.path.join(out, "l%03d_chain.onnx" % i)
        onnx.save(model_of(list(o_nodes), list(o_inits), xs, elem), fa)
        onnx.save(model_of(list(c_nodes), list(c_inits), xs, elem), fb)
        manifest.append({"node": l["node"], "method": l["method"], "ranks": r,
                         "shape": "%dx%dx%dx%d g%d @%dx%d%s" % (cout, cin, kh, kw, g, xs[2], xs[3],
                                                               " s%d" % st[0] if st and st[0] > 1 else ""),
                         "pred_before": l["est_latency_before"],
                         "pred_after": l["est_latency_after"],
                         "orig": fa, "chain": fb})
    json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"), indent=1)
    print(len(manifest))


if __name__ == "__main__":
    main()
