#!/usr/bin/env bash
# PP-OCRv4 rec's softmax head in the logits' plain metric (whitened SVD)
# and in the softmax's Fisher metric (--softmax-metric; numpy's version in
# bench/heldout/head_fisher.py says how), statistics from the 24
# calibration lines of heldout.sh, char accuracy on its 48 evaluation
# lines:
# 1. the head factored alone, at ranks 20-55, in numpy (per-step
#    agreement, probabilities, char accuracy);
# 2. the whole model: compress --calib --target-params F --max-error off
#    --allow-slower with --softmax-metric 0.1 (the default) and off.
#
#   bash bench/head_fisher.sh [BUDGETS...]     # default: 0.77 0.74 0.7 0.67 0.6
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/heldout}
PY=/usr/bin/python3
MODEL=bench/models/ch_PP-OCRv4_rec_infer.onnx
TAP=transpose_51.tmp_0          # the head MatMul's input, [1, 40, 120]
D=$OUT/rec
bash bench/fetch_models.sh >/dev/null
[ -f $D/eval/lines.json ] || "$PY" bench/heldout/prep.py rec $D/eval --lines 48 --seed 2 >&2
[ -f $D/calib/lines.json ] || "$PY" bench/heldout/prep.py rec $D/calib --lines 24 --seed 1 >&2
BIN=${BIN:-build/onnxtd}
BUDGETS=${*:-0.77 0.74 0.7 0.67 0.6}
W=$OUT/head_fisher
mkdir -p "$W"
"$PY" - "$MODEL" "$W/rec_tap.onnx" "$TAP" <<'PYEOF'
import sys, onnx
from onnx import helper, TensorProto
m = onnx.load(sys.argv[1])
m.graph.output.append(helper.make_tensor_value_info(sys.argv[3], TensorProto.FLOAT, None))
onnx.save(m, sys.argv[2])
PYEOF
node bench/heldout/dump_tap.js "$W/rec_tap.onnx" $D/calib/npy $TAP "$W/x_calib.f32"
node bench/heldout/dump_tap.js "$W/rec_tap.onnx" $D/eval/npy $TAP "$W/x_eval.f32"
"$PY" bench/heldout/head_fisher.py "$MODEL" "$W/x_calib.f32" "$W/x_eval.f32" \
  $D/eval/lines.json bench/models/ppocr_keys_v1.txt

echo
echo "| budget | metric | head rank | held-out rel. L2 | held-out agreement | char acc | without spaces | lines |"
echo "|---|---|---|---|---|---|---|---|"
for f in $BUDGETS; do
  for mu in 0.1 off; do
    OPENBLAS_NUM_THREADS=1 "$BIN" compress "$MODEL" -o "$W/rec.onnx" --report "$W/rec.json" \
      --calib $D/calib/npy --target-params "$f" --max-error off --allow-slower \
      --softmax-metric $mu -q
    ev=$(node bench/heldout/task_eval.js rec --json --lines $D/eval \
      --keys bench/models/ppocr_keys_v1.txt "$MODEL" "$W/rec.onnx")
    "$PY" - "$W/rec.json" "$ev" "$f" "$mu" <<'PYEOF'
import json, sys
r, e = json.load(open(sys.argv[1])), json.loads(sys.argv[2])
head = [l for l in r["layers"] if l["node"] == "p2o.MatMul.24"][0]
o = r["measured"]["outputs"][0]
print("| %s | %s | %s | %.3f | %.3f | %.4f | %.4f | %.3f |" % (
    sys.argv[3], "softmax, 0.1" if sys.argv[4] != "off" else "plain",
    head["ranks"][0] if head["ranks"] else "kept", o["rel_l2"], o["top1_agreement"],
    e["char_acc"], e["char_acc_nospace"], e["line_acc"]))
PYEOF
  done
done
