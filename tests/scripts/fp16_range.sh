#!/usr/bin/env bash
# Factors of float16 weights near the top of float16's range (run by ctest):
#   bash tests/scripts/fp16_range.sh BINARY SRCDIR
# Conv weights of +-30000 (and +-60000) compressed with every method at
# --tol 0 --force and at --ratio 0.5: a Tucker-2 core or a ring core holds
# ||W||, far above 65504, unless the factors' scales are balanced before
# they are rounded. For every run: every initializer written is finite;
# ONNX Runtime gives finite outputs within a bound of the original's (rel.
# L2 <= 2e-3 at --tol 0, i.e. float16 rounding, and <= 1.5 x the reported
# error + 2e-3 under the ratio); the reported error of each chain is that of
# the chain as written (at --tol 0 float16 rounding makes it >= 1e-5, not
# the 1e-15 of the factors in double, and <= 2e-3). A layer may instead be
# kept only with a note that its factors overflow, and only at +-60000.
set -u
BIN="$1"
SRCDIR="$2"
PY=/usr/bin/python3
CMP="$SRCDIR/tools/ort/ort_compare.js"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

for amp in 30000 60000; do
  "$PY" "$SRCDIR/tests/tools/make_fp16_range.py" "$T/m$amp" "$amp" ||
    { echo "FAIL: make_fp16_range.py"; exit 1; }
  for budget in tol0 ratio; do
    case $budget in
      tol0) args="--tol 0 --force" ;;
      ratio) args="--ratio 0.5 --allow-slower" ;;
    esac
    for m in tucker2 cp svd tr rsdtr auto; do
      what="+-$amp $m $args"
      out="$T/o.onnx"
      rm -f "$out"
      if ! "$BIN" compress "$T/m$amp/model.onnx" -o "$out" --method $m $args \
           --quiet --report "$T/r.json" 2>"$T/err"; then
        bad "$what: compress failed: $(cat "$T/err")"; continue
      fi
      node "$CMP" "$T/m$amp/model.onnx" "$out" --inputs "$T/m$amp" --json \
        > "$T/ort.json" 2>"$T/err"
      if msg=$("$PY" - "$out" "$T/r.json" "$T/ort.json" "$budget" "$amp" <<'PYEOF'
import json, math, sys
import numpy as np
import onnx
from onnx import numpy_helper
out, rep, ort, budget, amp = sys.argv[1:6]
errs = []
for t in onnx.load(out).graph.initializer:
    a = numpy_helper.to_array(t)
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        errs.append("initializer %s holds %d non-finite values"
                    % (t.name, int((~np.isfinite(a)).sum())))
layers = json.load(open(rep))["layers"]
written = {}
for L in layers:
    e = L["rel_error"]
    note = L.get("note") or ""
    if L["method"] == "keep":
        if "overflow" in note and amp != "60000":
            errs.append("%s kept: %s" % (L["node"], note))
        continue
    if not (isinstance(e, (int, float)) and math.isfinite(e)):
        errs.append("%s: reported error %r" % (L["node"], e))
    elif budget == "tol0" and not (1e-5 <= e <= 2e-3):
        errs.append("%s: reported error %g is not that of float16 factors" % (L["node"], e))
    elif budget == "ratio" and not (0 < e <= 1.5):
        errs.append("%s: reported error %g" % (L["node"], e))
    written[L["node"]] = e
# outputs: Y3 comes from conv3x3, Y1 from conv1x1
r = json.load(open(ort))
outs = {o["name_a"]: o for c in r["comparisons"] for o in c["outputs"]}
for name, node in (("Y3", "conv3x3"), ("Y1", "conv1x1")):
    o = outs.get(name)
    rel = o["rel_l2"] if o else None
    if not isinstance(rel, (int, float)) or not math.isfinite(rel):
        errs.append("%s: ONNX Runtime rel. L2 %r" % (name, rel))
        continue
    bound = 2e-3 if budget == "tol0" else 1.5 * written.get(node, 0) + 2e-3
    if rel > bound:
        errs.append("%s: ONNX Runtime rel. L2 %g > %g" % (name, rel, bound))
print("; ".join(errs))
sys.exit(1 if errs else 0)
PYEOF
      ); then
        pass=$((pass + 1))
      else
        bad "$what: $msg $(head -c 300 "$T/err")"
      fi
    done
  done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
