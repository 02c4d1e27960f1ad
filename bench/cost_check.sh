#!/usr/bin/env bash
# How well the compress pass's latency model predicts ONNX Runtime: single
# Conv models of several shapes, each replaced by a Tucker-2, CP or SVD
# chain (--allow-slower so every chain is built), timed against the layer
# with tools/ort/ort_time.js (interleaved runs, one thread). Prints, per
# case, the predicted and the measured latency ratio chain/layer and
# whether "chain is faster" was predicted right.
#   bash bench/cost_check.sh BINARY [RUNS]
set -u
BIN="$1"
RUNS="${2:-15}"
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mk() {  # mk OUT CIN COUT K HW
  "$PY" - "$@" <<'PYEOF'
import sys, numpy as np, onnx
from onnx import TensorProto, helper, numpy_helper
out, cin, cout, k, hw = sys.argv[1], *map(int, sys.argv[2:])
w = np.random.default_rng(0).standard_normal((cout, cin, k, k)).astype(np.float32)
n = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[k // 2] * 4)
g = helper.make_graph([n], "c", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, hw, hw])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                      [numpy_helper.from_array(w, "w")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 8
onnx.save(m, out)
PYEOF
}
printf "%-24s %-8s %-10s %9s %9s %s\n" case method ranks predicted measured agree
right=0; total=0
for shape in "64 64 3 128" "128 128 3 64" "256 256 3 32" "512 512 3 16" "32 32 3 256" "256 256 1 32" "64 256 3 64"; do
  set -- $shape
  mk "$T/l.onnx" $@
  for spec in "tucker2 --ratio 0.5" "tucker2 --ratio 0.2" "cp --ratio 0.3" "svd --ratio 0.5"; do
    set -- $spec
    m=$1; shift
    "$BIN" compress "$T/l.onnx" -o "$T/c.onnx" --method $m "$@" --allow-slower --quiet \
      --report "$T/r.json" 2>/dev/null || continue
    pred=$("$PY" -c "import json; l=json.load(open('$T/r.json'))['layers'][0]; print(l['est_latency_after']/l['est_latency_before'] if l['method']!='keep' and 'est_latency_after' in l else '')")
    [ -n "$pred" ] || continue
    ranks=$("$PY" -c "import json; print(','.join(map(str,json.load(open('$T/r.json'))['layers'][0]['ranks'])))")
    meas=$(node "$SRC/tools/ort/ort_time.js" "$T/l.onnx" "$T/c.onnx" --runs $RUNS --threads 1 --json 2>/dev/null |
           "$PY" -c "import json,sys; print(json.load(sys.stdin)['ratio_b_over_a'])")
    agree=$("$PY" -c "print('yes' if ($pred < 1) == ($meas < 1) else 'NO')")
    [ "$agree" = yes ] && right=$((right + 1))
    total=$((total + 1))
    printf "%-24s %-8s %-10s %9.3f %9.3f %s\n" "$shape" $m "$ranks" $pred $meas $agree
  done
done
echo "faster/slower predicted right in $right of $total cases"
