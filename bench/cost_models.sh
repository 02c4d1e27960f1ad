#!/usr/bin/env bash
# The latency model at the level of whole models: for each compression,
# the ratio the pass predicts (sum of est_latency_after over sum of
# est_latency_before in the JSON report, kept layers included) against the
# ratio ONNX Runtime measures (tools/ort/ort_time.js: runs interleaved,
# medians, one intra-op thread so that the model's per-conv rates apply).
#   bash bench/cost_models.sh BINARY [RUNS]
# Needs bench/models (bash bench/fetch_models.sh) and tools/ort.
set -u
BIN="$1"
RUNS="${2:-10}"
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
M="$SRC/bench/models"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
DET="--dim p2o.DynamicDimension.1=640 --dim p2o.DynamicDimension.2=640"
printf "%-14s %-34s %9s %9s %s\n" model options predicted measured agree
run() {  # run NAME MODEL "DIMS" OPTIONS...
  local name=$1 model=$2 dims=$3
  shift 3
  [ -f "$model" ] || return
  # shellcheck disable=SC2086
  "$BIN" compress "$model" -o "$T/c.onnx" "$@" $dims --quiet --report "$T/r.json" \
    2>"$T/err" || { printf "%-14s %-34s refused: %s\n" "$name" "$*" "$(tail -1 "$T/err")"; return; }
  pred=$("$PY" -c "
import json; r = json.load(open('$T/r.json'))['layers']
b = sum(l.get('est_latency_before', 0) for l in r); a = sum(l.get('est_latency_after', 0) for l in r)
print(a / b if b else '')")
  # shellcheck disable=SC2086
  meas=$(node "$SRC/tools/ort/ort_time.js" "$model" "$T/c.onnx" --runs "$RUNS" --threads 1 \
         $dims --json 2>/dev/null | "$PY" -c "import json,sys; print(json.load(sys.stdin)['ratio_b_over_a'])")
  [ -n "$pred" ] && [ -n "$meas" ] || { printf "%-14s %-34s no estimate or timing\n" "$name" "$*"; return; }
  agree=$("$PY" -c "print('yes' if ($pred < 1) == ($meas < 1) else 'NO')")
  printf "%-14s %-34s %9.3f %9.3f %s\n" "$name" "$*" "$pred" "$meas" "$agree"
}
run isnet "$M/isnet_fp16.onnx" "" --target-params 0.5
run isnet "$M/isnet_fp16.onnx" "" --target-params 0.35
run isnet "$M/isnet_fp16.onnx" "" --target-flops 0.5
run isnet "$M/isnet_fp16.onnx" "" --method tucker2 --ratio 0.5
run ppocr_det "$M/ch_PP-OCRv4_det_infer.onnx" "$DET" --target-params 0.7
run ppocr_det "$M/ch_PP-OCRv4_det_infer.onnx" "$DET" --target-params 0.5
run ppocr_cls "$M/ch_ppocr_mobile_v2.0_cls_infer.onnx" "--dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=48 --dim p2o.DynamicDimension.2=192" --target-params 0.7
run vgg16 "$M/vgg16.onnx" "" --target-params 0.4
run vgg16 "$M/vgg16.onnx" "" --target-flops 0.5
