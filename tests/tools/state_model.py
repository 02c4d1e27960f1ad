# A small recurrent model and its steps, and the deviation of two such
# models computed here in numpy (not by ONNX Runtime), step by step from the
# given state or each in its own loop.
#
#   python3 state_model.py make OUTDIR
#       OUTDIR/rnn.onnx: h' = tanh(x Wx + h Wh), y = h' Wy; inputs x [1,24],
#       h [1,32]; outputs y [1,8], hN [1,32] (hN is fed back as h). Wh is
#       0.95 times an orthogonal matrix and the inputs are small (tanh near
#       linear), so an error in the state fades slowly and errors compound
#       over steps. OUTDIR/steps: 64 consecutive steps (x_t, and h_t
#       the state the model had there from h_0 = 0), manifests all.txt (the
#       64, in order) and tail.txt (the last 16).
#       joined.txt: the first 56 steps, then the first 8 of a second
#       recording from the zero state.
#   python3 state_model.py dev A.onnx B.onnx MANIFEST [loop|carry|step] [IDX...]
#       JSON {output: {"rel_l2": r}} over the manifest's samples (or those
#       of the given indices), B against A; "loop": each model carries its
#       own state from the first sample's h, and starts again from a
#       sample's h where that is all zero (a new recording); "carry": never
#       starts again.
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh


def make(out):
    rng = np.random.default_rng(11)

    def spectrum(m, n, decay, top):
        u, _ = np.linalg.qr(rng.standard_normal((m, m)))
        v, _ = np.linalg.qr(rng.standard_normal((n, n)))
        s = top * decay ** np.arange(min(m, n))
        return (u[:, :len(s)] * s) @ v[:len(s), :]

    wx = spectrum(24, 32, 0.85, 1.2).astype(np.float32)
    # flat: every direction of the state remembered for ~20 steps
    wh = (0.95 * np.linalg.qr(rng.standard_normal((32, 32)))[0]).astype(np.float32)
    wy = spectrum(32, 8, 0.8, 1.0).astype(np.float32)
    nodes = [h.make_node("MatMul", ["x", "wx"], ["a"], name="in_proj"),
             h.make_node("MatMul", ["h", "wh"], ["b"], name="rec_proj"),
             h.make_node("Add", ["a", "b"], ["z"], name="add"),
             h.make_node("Tanh", ["z"], ["hN"], name="tanh"),
             h.make_node("MatMul", ["hN", "wy"], ["y"], name="out_proj")]
    g = h.make_graph(nodes, "rnn",
                     [h.make_tensor_value_info("x", TP.FLOAT, [1, 24]),
                      h.make_tensor_value_info("h", TP.FLOAT, [1, 32])],
                     [h.make_tensor_value_info("y", TP.FLOAT, [1, 8]),
                      h.make_tensor_value_info("hN", TP.FLOAT, [1, 32])],
                     [nh.from_array(wx, "wx"), nh.from_array(wh, "wh"),
                      nh.from_array(wy, "wy")])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m, full_check=True)
    os.makedirs(os.path.join(out, "steps"), exist_ok=True)
    onnx.save(m, os.path.join(out, "rnn.onnx"))
    # slowly varying inputs, as audio frames are
    t = np.arange(64)[:, None]
    phase = rng.uniform(0, 2 * np.pi, 24)
    xs = 0.3 * (np.sin(0.2 * t + phase) + 0.3 * rng.standard_normal((64, 24)))
    state = np.zeros((1, 32), np.float32)
    lines = []
    for i in range(64):
        x = xs[i:i + 1].astype(np.float32)
        np.save(os.path.join(out, "steps", "x_%02d.npy" % i), x)
        np.save(os.path.join(out, "steps", "h_%02d.npy" % i), state)
        lines.append("x=x_%02d.npy h=h_%02d.npy" % (i, i))
        state = run(m, {"x": x, "h": state})["hN"].astype(np.float32)
    # a second recording, from the zero state again: joined.txt is the
    # first 56 steps then its first 8, so its last 16 cross into it
    state = np.zeros((1, 32), np.float32)
    lines2 = []
    for i in range(8):
        x = (0.3 * np.cos(0.3 * i + phase)).astype(np.float32)[None, :]
        np.save(os.path.join(out, "steps", "x2_%02d.npy" % i), x)
        np.save(os.path.join(out, "steps", "h2_%02d.npy" % i), state)
        lines2.append("x=x2_%02d.npy h=h2_%02d.npy" % (i, i))
        state = run(m, {"x": x, "h": state})["hN"].astype(np.float32)
    for name, sel in (("all.txt", lines), ("tail.txt", lines[48:]),
                      ("joined.txt", lines[:56] + lines2)):
        with open(os.path.join(out, "steps", name), "w") as f:
            f.write("\n".join(sel) + "\n")


def run(m, feed):
    """The model's graph in numpy: the ops the model and its compressed
    form hold (MatMul, Gemm, Add, Tanh, Identity)."""
    env = dict(feed)
    for t in m.graph.initializer:
        env[t.name] = nh.to_array(t).astype(np.float64)
    for n in m.graph.node:
        a = [env[i] for i in n.input if i]
        if n.op_type == "MatMul":
            r = a[0] @ a[1]
        elif n.op_type == "Gemm":
            at = {x.name: h.get_attribute_value(x) for x in n.attribute}
            p = a[0].T if at.get("transA") else a[0]
            q = a[1].T if at.get("transB") else a[1]
            r = at.get("alpha", 1.0) * (p @ q)
            if len(a) > 2:
                r = r + at.get("beta", 1.0) * a[2]
        elif n.op_type == "Add":
            r = a[0] + a[1]
        elif n.op_type == "Tanh":
            r = np.tanh(a[0])
        elif n.op_type == "Identity":
            r = a[0]
        else:
            raise SystemExit("state_model.py: op %s not modelled" % n.op_type)
        env[n.output[0]] = r
    return {o.name: env[o.name] for o in m.graph.output}


def dev(fa, fb, manifest, mode, idx):
    ma, mb = onnx.load(fa), onnx.load(fb)
    folder = os.path.dirname(manifest)
    samples = []
    for line in open(manifest).read().split("\n"):
        if line.strip():
            kv = dict(p.split("=", 1) for p in line.split())
            samples.append({k: np.load(os.path.join(folder, v)).astype(np.float64)
                            for k, v in kv.items()})
    if idx:
        samples = [samples[i] for i in idx]
    acc = {}
    sa = sb = None
    for s in samples:
        # "loop" restarts where a zero state is given (a new recording);
        # "carry" carries the state over it
        carry = mode == "carry" or (mode == "loop" and np.any(s["h"] != 0))
        fa_ = dict(s, h=sa) if carry and sa is not None else s
        fb_ = dict(s, h=sb) if carry and sb is not None else s
        ra, rb = run(ma, fa_), run(mb, fb_)
        sa, sb = ra["hN"], rb["hN"]
        for k in ra:
            e = acc.setdefault(k, [0.0, 0.0])
            e[0] += float(np.sum((rb[k] - ra[k]) ** 2))
            e[1] += float(np.sum(ra[k] ** 2))
    print(json.dumps({k: {"rel_l2": (v[0] / v[1]) ** 0.5} for k, v in acc.items()}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        dev(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5],
            [int(i) for i in sys.argv[6:]])
