#!/usr/bin/env python3
"""Silero VAD v5 with its sample rate fixed at 16 kHz:

  vad16k.py silero_vad_v5.onnx silero_vad_v5_16k.onnx

The shipped model branches on `sr == 16000` with an If whose two branches
hold the two networks (16 kHz and 8 kHz); every Conv is inside a branch.
This lifts the 16 kHz branch into the main graph (what a deployment at one
rate runs), so the layers are in the main graph. The inputs (input, state,
sr) and outputs stay; `sr` is then unused.
"""
import sys

import onnx
from onnx import helper, numpy_helper


def main():
    src, dst = sys.argv[1:3]
    m = onnx.load(src)
    g = m.graph
    (cond,) = [n for n in g.node if n.op_type == "Equal"]
    (const,) = [n for n in g.node if n.op_type == "Constant" and n.output[0] in cond.input]
    if int(numpy_helper.to_array(const.attribute[0].t)) != 16000:
        raise SystemExit("vad16k.py: the If does not test sr == 16000")
    (cif,) = [n for n in g.node if n.op_type == "If"]
    then = [a.g for a in cif.attribute if a.name == "then_branch"][0]
    nodes = list(then.node)
    # the If's outputs become Identity of the branch's outputs
    for bo, io in zip(then.output, cif.output):
        nodes.append(helper.make_node("Identity", [bo.name], [io], name="lift_" + io))
    rest = [n for n in g.node if n not in (cond, const, cif)]
    del g.node[:]
    g.node.extend(nodes + rest)
    g.initializer.extend(then.initializer)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    print("vad16k.py: %d nodes lifted from the 16 kHz branch into %s" % (len(then.node), dst))


if __name__ == "__main__":
    main()
