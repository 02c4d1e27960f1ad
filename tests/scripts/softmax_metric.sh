#!/usr/bin/env bash
# A head feeding a softmax, factored in the softmax's metric
# (--softmax-metric, decompose/svd_metric.c), against numpy.
# tests/tools/softmax_head_model.py writes a small model whose 60-class
# head has 8 classes the inputs use and 52 that never come near winning
# but carry most of the logits' energy, and 16 calibration inputs:
# - stats-model exposes the head's metric (gram/fisher/z, rows/fisher/z);
# - compress --calib --include '^head$' --rank 7 writes the head chain
#   numpy computes from the same inputs (the metric's leading directions,
#   mu 0.1; the input centred, its mean shift going into the chain's
#   bias), to 1e-4, and the report says softmax_metric; with
#   --softmax-metric off numpy's plain whitened SVD, and the two differ;
#   the same network as a PyTorch Linear exports it (Gemm, transB, opset
#   11, Softmax(axis=1)) gets the same factors;
# - the metric keeps the probabilities (held-out rel. L2 < 0.1, agreement
#   > 0.95) where the plain error at the same rank loses them (rel. L2
#   > 0.5), on inputs held out of the statistics too;
# - the statistics saved by --save-stats, and those calib_stats.js sums
#   from stats-model's outputs, carry the metric: --act-stats with either
#   writes the same bytes as --calib;
# - misuse: --softmax-metric without --calib/--act-stats, or not a
#   positive number or 'off': exit 2, nothing written.
#
#   bash tests/scripts/softmax_metric.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
td_use_ort
td_need_node_ort
HM=$SRCDIR/tests/tools/softmax_head_model.py

"$PY" "$HM" make "$T" || { echo "FAIL: making the model"; exit 1; }
M=$T/head.onnx
OPTS=(--include '^head$' --rank 7 --runs 0 --allow-slower --threads 1)

# ---- the statistics model has the metric's outputs
"$BIN" stats-model "$M" -o "$T/sm.onnx" 2>/dev/null || fail "stats-model"
"$BIN" info "$T/sm.onnx" > "$T/sm.txt" 2>&1 || fail "info of the statistics model"
grep -q 'gram/fisher/z *FLOAT \[24, 24\]' "$T/sm.txt" &&
  grep -q 'rows/fisher/z' "$T/sm.txt" ||
  fail "stats-model: no metric outputs: $(grep -c gram/ "$T/sm.txt") gram outputs"

# ---- the factors against numpy's, both metrics
for mu in 0.1 off; do
  "$BIN" compress "$M" -o "$T/all_$mu.onnx" --calib "$T/cal" --holdout 0 \
    --softmax-metric $mu "${OPTS[@]}" --report "$T/all_$mu.json" \
    --save-stats "$T/stats_$mu.onnx" 2> "$T/all_$mu.txt" ||
    { fail "compress --softmax-metric $mu: $(tail -2 "$T/all_$mu.txt")"; continue; }
  d=$("$PY" "$HM" expect "$T" "$T/all_$mu.onnx" 7 $mu) || { fail "numpy ($mu)"; continue; }
  other=$([ $mu = off ] && echo 0.1 || echo off)
  o=$("$PY" "$HM" expect "$T" "$T/all_$mu.onnx" 7 $other) || { fail "numpy ($other)"; continue; }
  echo "softmax metric $mu: head against numpy $d (against the other metric's $o)"
  "$PY" -c "import sys; d,o=map(float,sys.argv[1:]); sys.exit(0 if d < 1e-4 and o > 0.1 else 1)" "$d" "$o" ||
    fail "softmax metric $mu: head differs from numpy by $d (the other metric's: $o)"
  flag=$(json "$T/all_$mu.json" '[l.get("softmax_metric", False) for l in r["layers"] if l["node"] == "head"]')
  want=$([ $mu = off ] && echo False || echo True)
  [ "$flag" = "[$want]" ] || fail "softmax metric $mu: report says $flag"
done
# the same network as PyTorch exports a Linear (Gemm, transB, opset 11,
# Softmax(axis=1) on 2-D rows): the same factors
"$BIN" compress "$T/head_gemm.onnx" -o "$T/gemm.onnx" --calib "$T/cal" --holdout 0 \
  "${OPTS[@]}" 2> "$T/gemm.txt" || fail "Gemm head: $(tail -2 "$T/gemm.txt")"
d=$("$PY" "$HM" expect "$T" "$T/gemm.onnx" 7 0.1) || fail "numpy (Gemm)"
echo "Gemm head (transB, opset 11) against numpy: $d"
"$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 1e-4 else 1)" "$d" ||
  fail "Gemm head differs from numpy by $d"
grep -q '^softmax metric: 1 of them' "$T/gemm.txt" || fail "Gemm head: not in the metric"
grep -q '^softmax metric: 1 of them feed a softmax' "$T/all_0.1.txt" ||
  fail "the summary does not say the metric was used"
if grep -q '^softmax metric' "$T/all_off.txt"; then fail "off: the summary says the metric"; fi

# ---- what it keeps, on held-out inputs (the default hold-out: 4 of 16)
for mu in 0.1 off; do
  "$BIN" compress "$M" -o "$T/h_$mu.onnx" --calib "$T/cal" --softmax-metric $mu \
    "${OPTS[@]}" --report "$T/h_$mu.json" 2>/dev/null || fail "held-out run ($mu)"
done
"$PY" - "$T/h_0.1.json" "$T/h_off.json" <<'PYEOF' || fail "held-out deviation"
import json, sys
m, p = (json.load(open(f))["measured"] for f in sys.argv[1:])
assert m["samples"] == 4 and m["inputs"] == "held-out", m
om, op = m["outputs"][0], p["outputs"][0]
print("held-out: metric rel. L2 %.4f agreement %.3f; plain %.4f, %.3f" % (
    om["rel_l2"], om["top1_agreement"], op["rel_l2"], op["top1_agreement"]))
assert om["rel_l2"] < 0.1 and om["top1_agreement"] > 0.95, om
assert op["rel_l2"] > 0.5, op
PYEOF

# ---- saved statistics carry the metric: --act-stats writes the same model
"$BIN" compress "$M" -o "$T/fs.onnx" --act-stats "$T/stats_0.1.onnx" \
  "${OPTS[@]}" --no-measure 2> "$T/fs.txt" || fail "--act-stats: $(tail -2 "$T/fs.txt")"
cmp -s "$T/fs.onnx" "$T/all_0.1.onnx" || fail "--act-stats and --calib wrote different models"

# ---- and so do tools/ort/calib_stats.js's, from stats-model's outputs
args=()
for f in "$T"/cal/*.npy; do args+=(--npy "$f"); done
node "$SRCDIR/tools/ort/calib_stats.js" "$T/sm.onnx" "$T/js_stats.onnx" "${args[@]}" --quiet ||
  fail "calib_stats.js on the statistics model"
"$BIN" compress "$M" -o "$T/js.onnx" --act-stats "$T/js_stats.onnx" \
  "${OPTS[@]}" --no-measure 2>/dev/null || fail "--act-stats from calib_stats.js"
cmp -s "$T/js.onnx" "$T/all_0.1.onnx" || fail "calib_stats.js's statistics wrote another model"

# ---- misuse: exit 2, nothing written
misuse() {  # TEXT OPTIONS...
  local text=$1
  shift
  td_misuse "$M" "$text" "$@"
}
misuse "--softmax-metric needs --calib or --act-stats" --softmax-metric 0.1
misuse "--softmax-metric needs a number in (0, 1e+06] or 'off'" --calib "$T/cal" --softmax-metric 0
misuse "--softmax-metric needs a number in (0, 1e+06] or 'off'" --calib "$T/cal" --softmax-metric x

td_done softmax_metric
