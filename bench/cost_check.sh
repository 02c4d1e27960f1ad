#!/usr/bin/env bash
# How well the compress pass's latency model predicts ONNX Runtime: single
# Conv models of several shapes, each replaced by a Tucker-2, CP or SVD
# chain (--allow-slower so every chain is built), timed against the layer
# with tools/ort/ort_time.js (interleaved runs, one thread). Prints, per
# case, the predicted and the measured latency ratio chain/layer and
# whether "chain is faster" was predicted right.
#   bash bench/cost_check.sh BINARY [RUNS]
# Real-model mode: compress MODEL with ARGS plus --allow-slower (so every
# chain the allocation wants is built), then time each replaced Conv of it
# against its chain as single-layer models of the same shapes and dtype
# (bench/cost_layers.py), and summarise: rank correlation of predicted and
# measured ratios, how often faster/slower was called right, worst miss.
#   bash bench/cost_check.sh BINARY --real TAG MODEL [RUNS] -- ARGS...
# THREADS (default 1) sets ORT's intra-op threads; JSONL=FILE appends one
# line per layer.
set -u
BIN="$1"
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
THREADS=${THREADS:-1}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ "${2:-}" = --real ]; then
  TAG="$3"; MODEL="$4"; RUNS=15
  shift 4
  if [ "${1:-}" != -- ]; then RUNS="$1"; shift; fi
  [ "${1:-}" = -- ] && shift
  "$BIN" compress "$MODEL" -o "$T/c.onnx" "$@" --allow-slower --quiet --report "$T/r.json" ||
    { echo "cost_check.sh: compress failed" >&2; exit 1; }
  dims=()
  while [ $# -gt 0 ]; do
    [ "$1" = --dim ] && dims+=(--dim "$2")
    shift
  done
  "$PY" "$SRC/bench/cost_layers.py" "$MODEL" "$T/r.json" "$T/layers" "${dims[@]}" >/dev/null || exit 1
  : > "$T/rows.jsonl"
  "$PY" -c "import json,sys; [print(x['orig'], x['chain'], i) for i, x in enumerate(json.load(open(sys.argv[1])))]" \
    "$T/layers/manifest.json" | while read -r a b i; do
    node "$SRC/tools/ort/ort_time.js" "$a" "$b" --runs "$RUNS" --threads "$THREADS" --json 2>/dev/null |
      "$PY" -c "
import json, sys
t = json.load(sys.stdin); x = json.load(open(sys.argv[1]))[int(sys.argv[2])]
x.update(tag=sys.argv[3], threads=int(sys.argv[4]), measured=t['ratio_b_over_a'],
         predicted=x['pred_after'] / x['pred_before'])
print(json.dumps(x))" "$T/layers/manifest.json" "$i" "$TAG" "$THREADS" >> "$T/rows.jsonl"
  done
  [ -n "${JSONL:-}" ] && cat "$T/rows.jsonl" >> "$JSONL"
  "$PY" "$SRC/bench/cost_summary.py" "$T/rows.jsonl"
  exit 0
fi
RUNS="${2:-15}"
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
