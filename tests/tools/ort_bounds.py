"""Reads tools/ort/ort_compare.js --json from stdin and checks every
output's relative L2 error and max abs difference against bounds; prints
the worst of each, so that a test's log shows what was measured.

usage: node ort_compare.js A B [...] --rtol 1e30 --json | ort_bounds.py REL ABS
Exit 0 when both hold, 1 when not (or when nothing was compared)."""
import json
import sys

rel, ab = float(sys.argv[1]), float(sys.argv[2])
try:
    r = json.load(sys.stdin)
except ValueError:
    print("ort_compare gave no report")
    sys.exit(1)
outs = [o for c in r.get("comparisons", []) for o in c["outputs"]]
if not outs:
    print("no outputs compared")
    sys.exit(1)
# JSON has no Infinity: a NaN mismatch or a shape mismatch comes as null.
inf = float("inf")
worst_rel = max(inf if o["rel_l2"] is None else o["rel_l2"] for o in outs)
worst_abs = max(inf if o["max_abs"] is None else o["max_abs"] for o in outs)
print("rel_l2 %.4g (bound %g), max_abs %.4g (bound %g)"
      % (worst_rel, rel, worst_abs, ab))
sys.exit(0 if worst_rel <= rel and worst_abs <= ab else 1)
