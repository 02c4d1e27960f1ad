#!/usr/bin/env bash
# Tensor-ring storage as written (run by ctest):
#   bash tests/scripts/tr_storage.sh BINARY SRCDIR
# For TR and RSDTR at several tolerances on ONNX's 2-D/3-D Conv cases and
# our rectangular-kernel idioms: the report's params_after (sum of
# r_{k-1} n_k r_k over the cores, plus the bias) equals the float elements
# of the model's initializers that the chain reads (each middle core stored
# once; Tile builds the grouped kernel), and the error stays <= tol.
set -u
BIN="$1"
SRCDIR="$2"
PY=/usr/bin/python3
DATA=/usr/share/libonnx-testdata/data/pytorch-converted
[ -d "$DATA" ] || { echo "SKIP: libonnx-testdata not installed"; exit 77; }
"$PY" -c 'import onnx' 2>/dev/null || { echo "SKIP: python3-onnx not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$PY" "$SRCDIR/tests/tools/make_idioms.py" "$T/id" >/dev/null
pass=0 fail=0
for f in "$DATA"/test_Conv2d/model.onnx "$DATA"/test_Conv2d_strided/model.onnx \
         "$DATA"/test_Conv3d/model.onnx "$T"/id/rect_axes.onnx "$T"/id/same_lower.onnx; do
  for m in tr rsdtr; do
    for tol in 0 0.2 0.5; do
      if ! "$BIN" compress "$f" -o "$T/o.onnx" --method $m --tol $tol --force --quiet \
           --report "$T/r.json" 2>"$T/err"; then
        echo "FAIL: $f $m $tol: $(cat "$T/err")"; fail=$((fail + 1)); continue
      fi
      if "$PY" - "$T/o.onnx" "$T/r.json" "$tol" <<'PYEOF'
import json, sys
import numpy as np
import onnx
m = onnx.load(sys.argv[1])
r = json.load(open(sys.argv[2]))
tol = float(sys.argv[3])
L = r["layers"][0]
floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE}
read = {i for n in m.graph.node for i in n.input}
stored = sum(int(np.prod(t.dims)) for t in m.graph.initializer
             if t.data_type in floats and t.name in read)
ok = L["method"] in ("tr", "rsdtr") and stored == L["params_after"] and L["rel_error"] <= tol + 1e-6
if not ok:
    print("stored", stored, "report", L["params_after"], "err", L["rel_error"], "method", L["method"])
sys.exit(0 if ok else 1)
PYEOF
      then pass=$((pass + 1)); else echo "FAIL: $f $m $tol"; fail=$((fail + 1)); fi
    done
  done
done
# Through external data with --size-threshold 0, the chains still load in
# ONNX Runtime (the Tile repeats stay inline: ORT reads them while loading)
# and give the original's outputs.
for m in tr rsdtr; do
  mkdir -p "$T/x$m"
  if "$BIN" compress "$DATA/test_Conv2d/model.onnx" -o "$T/x$m/o.onnx" --method $m \
       --tol 0 --force --quiet --external-data w.bin --size-threshold 0 2>"$T/err" &&
     "$BIN" eval "$DATA/test_Conv2d/model.onnx" "$T/x$m/o.onnx" --random 2 \
       --rtol 1e-4 >"$T/ev" 2>>"$T/err"; then
    pass=$((pass + 1))
  else
    echo "FAIL: $m through external data: $(cat "$T/err") $(cat "$T/ev" 2>/dev/null)"
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
