#!/usr/bin/env python3
"""The original model against itself under input noise too small to see
(bench/noise_floor.sh runs it):

  noise_floor.py --model M.onnx --task det|isnet --out DIR [--draws K]

writes DIR/KIND-sDRAW.onnx: the model with a constant added to its input,
one draw of noise in 8-bit pixel levels, in the input's own units (the
task's normalisation, as prep.py applies it):
  gray1   every pixel +-1 level or 0, the same in each channel (a gray
          photograph's sensor and rounding noise)
  color1  the same, drawn for each channel apart (a colour camera's)
  gray05  uniform in [-0.5, 0.5] level, the same in each channel (below
          8-bit rounding)
eval.js then measures each against the original on the evaluation inputs:
how far the task's metric moves when nothing but the input's last bit does.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper

# pixel level -> input units, per channel (prep.py's normalisation)
SCALE = {
    "det": 1.0 / 255.0 / np.array([0.229, 0.224, 0.225], np.float32),
    "isnet": np.full(3, 1.0 / 255.0, np.float32),
}


def noisy(model, noise, path):
    m = onnx.load(model)
    g = m.graph
    name = g.input[0].name
    fed = name + "_noisy"
    for n in g.node:
        for i, x in enumerate(n.input):
            if x == name:
                n.input[i] = fed
    nodes = list(g.node)
    del g.node[:]
    g.node.extend([helper.make_node("Add", [name, "noise_floor_c"], [fed])] + nodes)
    g.initializer.extend([numpy_helper.from_array(noise.astype(np.float32), "noise_floor_c")])
    onnx.save(m, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--task", required=True, choices=sorted(SCALE))
    ap.add_argument("--out", required=True)
    ap.add_argument("--draws", type=int, default=3)
    a = ap.parse_args()
    dims = [d.dim_value for d in onnx.load(a.model).graph.input[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or min(dims) < 1:
        size = {"det": 640, "isnet": 1024}[a.task]
        dims = [1, 3, size, size]
    h, w = dims[2], dims[3]
    scale = SCALE[a.task].reshape(1, 3, 1, 1)
    os.makedirs(a.out, exist_ok=True)
    for s in range(a.draws):
        rng = np.random.default_rng(1000 + s)
        one = rng.integers(-1, 2, size=(1, 1, h, w)).astype(np.float32)
        per = rng.integers(-1, 2, size=(1, 3, h, w)).astype(np.float32)
        half = rng.uniform(-0.5, 0.5, size=(1, 1, h, w)).astype(np.float32)
        for kind, n in (("gray1", one), ("color1", per), ("gray05", half)):
            path = os.path.join(a.out, "%s-s%d.onnx" % (kind, s))
            noisy(a.model, np.broadcast_to(n, (1, 3, h, w)) * scale, path)
            print(path)


if __name__ == "__main__":
    main()
