"""Checks that pairs of ONNX files parse (with python3-onnx) to the same
message: equal canonical (deterministic) serialisations, unknown fields
included. External data is loaded, so inline and external forms of the same
tensor compare equal.

usage: same_message.py LISTFILE    (lines: "ORIGINAL<TAB>CONVERTED")
Prints one line per mismatch and a closing "N passed, N failed" line.
Exit 0 when all pairs match, 1 otherwise."""
import sys

import onnx
from onnx.external_data_helper import load_external_data_for_model


def canonical(path):
    m = onnx.load(path, load_external_data=False)
    base = path.rsplit("/", 1)[0] if "/" in path else "."
    load_external_data_for_model(m, base)
    for t in _tensors(m.graph):
        if t.data_location == onnx.TensorProto.EXTERNAL:
            t.data_location = onnx.TensorProto.DEFAULT
        if not t.external_data and t.HasField("data_location") and t.data_location == 0:
            t.ClearField("data_location")
    return m.SerializeToString(deterministic=True)


def _tensors(g):
    for t in g.initializer:
        yield t
    for n in g.node:
        for a in n.attribute:
            if a.HasField("t"):
                yield a.t
            for t in a.tensors:
                yield t
            if a.HasField("g"):
                yield from _tensors(a.g)
            for sg in a.graphs:
                yield from _tensors(sg)


def main():
    passed = failed = 0
    for line in open(sys.argv[1]):
        line = line.rstrip("\n")
        if not line:
            continue
        a, b = line.split("\t")
        try:
            same = canonical(a) == canonical(b)
            why = "parsed messages differ"
        except Exception as e:  # a parse failure of either side is a failure
            same, why = False, "cannot parse: %s" % e
        if same:
            passed += 1
        else:
            failed += 1
            print("MISMATCH %s -> %s: %s" % (a, b, why))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
