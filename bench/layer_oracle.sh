#!/usr/bin/env bash
# What a per-layer rank allocation could reach at best, measured on the
# evaluation inputs themselves (bench/fidelity/oracle.py): statistics
# gathered on the evaluation inputs, each layer alone at each ratio, then
# greedy choices under growing loss budgets, built and measured whole.
# It is a ceiling to judge the bound against, not a way to compress.
#
#   bash bench/layer_oracle.sh det
#   SWEEP=det_real bash bench/layer_oracle.sh det
#
# With SWEEP=CALIBSET the same allocation is made out of sample, as
# AIMET's per-layer curves would be: statistics from a calibration set
# of fidelity_bound.sh's, each layer's loss on its inputs but those
# matching SWEEP_SKIP (default: the license plate, whose map is a few
# pixels and flips IoU between 1 and 0), the choices still measured on
# the evaluation inputs and det_real's held-out sign photos.
#
# det only: a classifier's top-1 agreement on a few dozen crops is too
# coarse a loss for one layer at a time (PP-OCR cls: nearly every layer
# alone, even at ratio 0.1, flipped no crop, and the sum of such losses
# says nothing of the whole).
#
# Environment: OUT (bench/out/fidelity_bound: shares fidelity_bound.sh's
# evaluation inputs), BIN (build/onnxtd), PHOTOS (skimage's data images),
# RATIOS, BUDGETS, FLOOR (oracle.py's --ratios, --budgets, --floor),
# SWEEP, SWEEP_SKIP. Results: JSON lines in $OUT/oracle-TASK[-SWEEP].jsonl,
# printed too.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/fidelity_bound}
BIN=${BIN:-build/onnxtd}
TASK=$1
[ "$TASK" = det ] || { echo "layer_oracle.sh: det only, not '$TASK'" >&2; exit 2; }
. bench/fidelity/env.sh
tag=$TASK${SWEEP:+-$SWEEP}
work=$OUT/oracle-$tag
mkdir -p "$work"
man=$OUT/eval/$TASK.json
sweep=()
if [ -n "${SWEEP:-}" ]; then
  npy=$OUT/calib_npy/$SWEEP
  [ -d "$npy" ] || { echo "layer_oracle.sh: no $npy: run CALIBSET=$SWEEP bash bench/fidelity_bound.sh first" >&2; exit 2; }
  "$PY" bench/fidelity/manifest_join.py "$work/sweep.json.in" "$OUT/calib/$SWEEP.json" \
      --skip "${SWEEP_SKIP-licenseplate}"
  more=()
  [ -f "$OUT/calib/det_real_eval.json" ] && more=("$OUT/calib/det_real_eval.json")
  "$PY" bench/fidelity/manifest_join.py "$work/eval.json" "$OUT/eval/$TASK.json" "${more[@]}"
  man=$work/eval.json
  sweep=(--sweep-manifest "$work/sweep.json.in")
else
  npy=$OUT/eval_npy/$TASK
  [ -d "$npy" ] || "$PY" bench/fidelity/manifest_npy.py "$OUT/eval/$TASK.json" "$src" "$npy" >&2
fi
stats=$work/stats.onnx
# the statistics (--ratio 1: nothing is factored; the run only gathers
# and saves them)
[ -f "$stats" ] || OPENBLAS_NUM_THREADS=1 "$BIN" compress "$src" -o "$work/none.onnx" \
    --calib "$npy" --holdout 0 --save-stats "$stats" --runs 0 --max-error off --min-agreement off \
    --ratio 1 >&2
"$PY" bench/fidelity/oracle.py --bin "$BIN" --model "$src" \
    --manifest "$man" "${sweep[@]}" --stats "$stats" --work "$work" \
    --cache "$OUT/cache" ${RATIOS:+--ratios $RATIOS} ${BUDGETS:+--budgets $BUDGETS} ${FLOOR:+--floor $FLOOR} |
  tee "$OUT/oracle-$tag.jsonl"
