#!/usr/bin/env bash
# PP-OCRv4 rec's softmax head factored alone, in the logits' plain metric
# (whitened SVD, as compress --calib does) and in the softmax's Fisher
# metric (bench/heldout/head_fisher.py says how): per-step agreement,
# probabilities and char accuracy on the 48 evaluation lines, with the
# statistics from the 24 calibration lines of heldout.sh.
#
#   bash bench/head_fisher.sh
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
  $D/eval/lines.json bench/models/ppocr_keys_v1.txt "$@"
