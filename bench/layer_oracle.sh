#!/usr/bin/env bash
# What a per-layer rank allocation could reach at best, measured on the
# evaluation inputs themselves (bench/fidelity/oracle.py): statistics
# gathered on the evaluation inputs, each layer alone at each ratio, then
# greedy choices under growing loss budgets, built and measured whole.
# It is a ceiling to judge the bound against, not a way to compress.
#
#   bash bench/layer_oracle.sh det
#
# det only: a classifier's top-1 agreement on a few dozen crops is too
# coarse a loss for one layer at a time (PP-OCR cls: nearly every layer
# alone, even at ratio 0.1, flipped no crop, and the sum of such losses
# says nothing of the whole).
#
# Environment: OUT (bench/out/fidelity_bound: shares fidelity_bound.sh's
# evaluation inputs), BIN (build/onnxtd), PHOTOS (skimage's data images),
# RATIOS, BUDGETS, FLOOR (oracle.py's --ratios, --budgets, --floor).
# Results: JSON lines in $OUT/oracle-TASK.jsonl, printed too.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/fidelity_bound}
BIN=${BIN:-build/onnxtd}
TASK=$1
[ "$TASK" = det ] || { echo "layer_oracle.sh: det only, not '$TASK'" >&2; exit 2; }
mkdir -p "$OUT/oracle-$TASK"
. bench/fidelity/env.sh
npy=$OUT/eval_npy/$TASK
[ -d "$npy" ] || "$PY" bench/fidelity/manifest_npy.py "$OUT/eval/$TASK.json" "$src" "$npy" >&2
stats=$OUT/oracle-$TASK/stats.onnx
# the statistics of the evaluation inputs themselves (--ratio 1: nothing
# is factored; the run only gathers and saves them)
[ -f "$stats" ] || OPENBLAS_NUM_THREADS=1 "$BIN" compress "$src" -o "$OUT/oracle-$TASK/none.onnx" \
    --calib "$npy" --holdout 0 --save-stats "$stats" --runs 0 --max-error off --min-agreement off \
    --ratio 1 >&2
"$PY" bench/fidelity/oracle.py --bin "$BIN" --model "$src" \
    --manifest "$OUT/eval/$TASK.json" --stats "$stats" --work "$OUT/oracle-$TASK" \
    --cache "$OUT/cache" ${RATIOS:+--ratios $RATIOS} ${BUDGETS:+--budgets $BUDGETS} ${FLOOR:+--floor $FLOOR} |
  tee "$OUT/oracle-$TASK.jsonl"
