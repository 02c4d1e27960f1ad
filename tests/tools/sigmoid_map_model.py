#!/usr/bin/env python3
"""A small segmentation-like model whose output is a sigmoid map, and a
numpy reference for the mask IoU `compress --min-iou` measures.

  sigmoid_map_model.py make DIR
      DIR/map.onnx: x [1,16,12,12] -> three pointwise Convs (16->32->32->1,
      ReLU between, slowly decaying spectra) -> Sigmoid -> "mask"
      [1,1,12,12]; the first ReLU's output is a second graph output "feat"
      (values above 1: no probability map). DIR/in/x_0K.npy: 8 inputs.
  sigmoid_map_model.py make2 DIR
      DIR/map2.onnx: the same, but the last Conv gives 2 channels and a
      Softmax over them makes "mask" [1,2,12,12]: a background map beside
      a foreground one, as a detector's per-anchor probabilities are.
  sigmoid_map_model.py iou ORIG.onnx COMP.onnx T X.npy...
      each model's "mask" on each input, evaluated here in numpy (Conv
      1x1, Relu, Sigmoid, Identity: anything else is an error), binarised
      at > T; prints the lowest and the mean per-input IoU over the inputs
      whose union covers at least 1 % of the map (none: the IoU of all
      pixels together, 1 when none is on) and the largest value of "feat".
      A map of several channels is one map per channel; the IoU of all
      channels pooled per input is printed last.
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def spectrum_weight(rng, out_c, in_c, decay):
    u, _ = np.linalg.qr(rng.standard_normal((out_c, out_c)))
    v, _ = np.linalg.qr(rng.standard_normal((in_c, in_c)))
    k = min(out_c, in_c)
    s = np.exp(-decay * np.arange(k))
    w = (u[:, :k] * s) @ v[:, :k].T
    return (w / np.linalg.norm(w) * np.sqrt(out_c)).astype(np.float32)


def make(d, classes=1):
    rng = np.random.default_rng(5)
    os.makedirs(os.path.join(d, "in"), exist_ok=True)
    chans = [16, 32, 32, classes]
    inits, nodes = [], []
    x = "x"
    for i in range(3):
        w = spectrum_weight(rng, chans[i + 1], chans[i], 0.12)
        b = (0.1 * rng.standard_normal(chans[i + 1])).astype(np.float32)
        if i == 2 and classes == 1:
            b[:] = 0.3   # about half of the pixels on
        if i == 2 and classes == 2:
            b[:] = [0.0, 0.35]   # the foreground on about a fifth of the pixels
        inits += [numpy_helper.from_array(w[:, :, None, None], "w%d" % i),
                  numpy_helper.from_array(b, "b%d" % i)]
        y = "c%d" % i
        nodes.append(helper.make_node("Conv", [x, "w%d" % i, "b%d" % i], [y],
                                      name="conv%d" % i))
        if i < 2:
            nodes.append(helper.make_node("Relu", [y], ["r%d" % i], name="relu%d" % i))
            x = "r%d" % i
    if classes == 1:
        nodes.append(helper.make_node("Sigmoid", ["c2"], ["mask"], name="sigmoid"))
    else:
        nodes.append(helper.make_node("Softmax", ["c2"], ["mask"], name="softmax", axis=1))
    nodes.append(helper.make_node("Identity", ["r0"], ["feat"], name="feat"))
    g = helper.make_graph(
        nodes, "map",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 12, 12])],
        [helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, classes, 12, 12]),
         helper.make_tensor_value_info("feat", TensorProto.FLOAT, [1, 32, 12, 12])],
        inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(d, "map.onnx" if classes == 1 else "map2.onnx"))
    for k in range(8):
        # smooth fields, as images are: the map has regions, not noise
        base = rng.standard_normal((16, 3, 3))
        x = np.kron(base, np.ones((4, 4))) + 0.3 * rng.standard_normal((16, 12, 12))
        np.save(os.path.join(d, "in", "x_%02d.npy" % k), x[None].astype(np.float32))


def run(path, x):
    m = onnx.load(path)
    env = {"x": x.astype(np.float64)}
    for t in m.graph.initializer:
        env[t.name] = numpy_helper.to_array(t).astype(np.float64)
    for n in m.graph.node:
        i = [env[k] for k in n.input if k]
        if n.op_type == "Conv":
            w = i[1]
            at = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            assert w.shape[2:] == (1, 1) and at.get("group", 1) == 1, (n.name, w.shape, at)
            assert all(p == 0 for p in at.get("pads", [0])), (n.name, at)
            y = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], i[0])
            if len(i) > 2:
                y = y + i[2][None, :, None, None]
        elif n.op_type == "Relu":
            y = np.maximum(i[0], 0)
        elif n.op_type == "Sigmoid":
            y = 1 / (1 + np.exp(-i[0]))
        elif n.op_type == "Softmax":
            e = np.exp(i[0] - i[0].max(axis=1, keepdims=True))
            y = e / e.sum(axis=1, keepdims=True)
        elif n.op_type == "Identity":
            y = i[0]
        else:
            raise SystemExit("sigmoid_map_model.py: no numpy for %s (%s)" % (n.op_type, n.name))
        env[n.output[0]] = y
    return env["mask"], env["feat"]


def iou(orig, comp, t, files):
    vals, feat, pool, joint = [], 0.0, [0, 0], []
    for f in files:
        x = np.load(f)
        a, fa = run(orig, x)
        b, _ = run(comp, x)
        feat = max(feat, float(fa.max()))
        on_a, on_b = a > t, b > t
        joint.append(np.count_nonzero(on_a & on_b) / max(np.count_nonzero(on_a | on_b), 1))
        for c in range(a.shape[1]):   # one map per channel
            ca, cb = on_a[0, c], on_b[0, c]
            uni = np.count_nonzero(ca | cb)
            inter = np.count_nonzero(ca & cb)
            pool[0] += inter
            pool[1] += uni
            if uni < 0.01 * ca.size:   # nearly empty on both sides: left out
                continue
            vals.append(inter / uni)
    if not vals:   # all nearly empty: the pooled IoU
        vals = [pool[0] / pool[1] if pool[1] else 1.0]
    print("%.12g %.12g %.6g %.12g" % (min(vals), sum(vals) / len(vals), feat, min(joint)))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "make2":
        make(sys.argv[2], classes=2)
    elif sys.argv[1] == "iou":
        iou(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5:])
    else:
        raise SystemExit(__doc__)
