"""Writes the weights of every dense (group 1) k x k Conv of an ONNX model
as raw little-endian float64 files (C order, Cout x Cin x kh x kw) and an
index with one line per layer: "file cout cin k name". Used by
bench/bench_decompose.sh:
    /usr/bin/python3 bench/extract_convs.py MODEL OUTDIR [KERNEL]
KERNEL (default 3) selects kh == kw == KERNEL.
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    model, outdir = sys.argv[1], sys.argv[2]
    ks = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    m = onnx.load(model)
    inits = {t.name: t for t in m.graph.initializer}
    os.makedirs(outdir, exist_ok=True)
    lines = []
    for n in m.graph.node:
        if n.op_type != "Conv" or len(n.input) < 2 or n.input[1] not in inits:
            continue
        group = next((a.i for a in n.attribute if a.name == "group"), 1)
        w = numpy_helper.to_array(inits[n.input[1]])
        if group != 1 or w.ndim != 4 or w.shape[2:] != (ks, ks):
            continue
        fn = "conv%03d.bin" % len(lines)
        w.astype("<f8").tofile(os.path.join(outdir, fn))
        lines.append("%s %d %d %d %s" % (fn, w.shape[0], w.shape[1],
                                          ks * ks, n.name or n.output[0]))
    with open(os.path.join(outdir, "index.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%d layers -> %s" % (len(lines), outdir))


if __name__ == "__main__":
    main()
