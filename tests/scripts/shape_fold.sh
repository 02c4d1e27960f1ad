#!/usr/bin/env bash
# Constant folding in shape inference, and the "unknown shape" refusal
# (run by ctest):   bash tests/scripts/shape_fold.sh BINARY SRCDIR
# - a tf2onnx-style model (static NHWC input 1x320x320x4, Transpose, Pad
#   pads from Split(initializer) -> Concat, Resize sizes from Shape -> Slice
#   -> Concat; tests/tools/make_tf2onnx_shapes.py): --target-flops 0.5
#   succeeds, the MACs before equal the generator's own count, the MACs
#   after are within the budget, and the output runs in ONNX Runtime;
# - PP-OCRv4 det without --dim: one refusal names all its symbolic dims;
# - a Conv fed through NonZero: the refusal names that node and op.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
ref=$("$PY" "$SRCDIR/tests/tools/make_tf2onnx_shapes.py" "$T/tf.onnx") || { echo "FAIL: generator"; exit 1; }
# (random weights: --max-layer-error off, as the data-free cap would
# refuse the budget; --no-protect, as protection would leave the first
# Conv out of the layers counted: what is tested is the MAC count of every
# Conv through the folds)
if "$BIN" compress "$T/tf.onnx" -o "$T/tf.out.onnx" --target-flops 0.5 --allow-slower \
     --no-protect --max-layer-error off \
     --quiet --report "$T/r.json" 2>"$T/err"; then
  read -r before after < <("$PY" -c "import json,sys; t=json.load(open(sys.argv[1]))['totals']; print(t['flops_before'], t['flops_after'])" "$T/r.json")
  echo "tf2onnx-style: MACs $before -> $after (reference $ref)"
  [ "$before" = "$ref" ] || bad "MACs before $before, reference $ref"
  "$PY" -c "import sys; b,a=map(float,sys.argv[1:]); sys.exit(0 if 0 < a <= 0.5*b*1.02 else 1)" "$before" "$after" ||
    bad "MACs after $after not within 0.5 of $before"
  res=$(node "$SRCDIR/tools/ort/ort_compare.js" "$T/tf.onnx" "$T/tf.out.onnx" --rtol 1e30 2>&1 | tail -1)
  case "$res" in PASS*) ;; *) bad "tf2onnx-style output in ORT: $res" ;; esac
else
  bad "tf2onnx-style --target-flops 0.5 refused: $(cat "$T/err")"
fi

det="$SRCDIR/bench/models/ch_PP-OCRv4_det_infer.onnx"
"$BIN" compress "$det" -o "$T/det.onnx" --target-flops 0.5 --quiet 2>"$T/err"
rc=$?
[ "$rc" -ne 0 ] || bad "PP-OCR det without --dim accepted"
[ "$(grep -vc "^see 'onnxtd" "$T/err")" -eq 1 ] || bad "PP-OCR det: not one message: $(cat "$T/err")"
for d in 0 1 2; do
  grep -q "'p2o.DynamicDimension.$d'" "$T/err" ||
    bad "PP-OCR det: dim $d not named: $(cat "$T/err")"
done
grep -q -- "--dim NAME=N" "$T/err" || bad "PP-OCR det: no flag to give the dims: $(cat "$T/err")"
[ -e "$T/det.onnx" ] && bad "refused compress wrote its output"

"$PY" - "$T/nz.onnx" <<'PYEOF' || bad "NonZero generator"
import sys, numpy as np, onnx
from onnx import helper as h, TensorProto as TP, numpy_helper as nh
nodes = [h.make_node("NonZero", ["m"], ["nz"], name="find"),
         h.make_node("Shape", ["nz"], ["s0"], name="shp"),
         h.make_node("Concat", ["c13", "s0"], ["s2"], axis=0, name="cat"),
         h.make_node("Reshape", ["x", "s2"], ["xr"], name="resh"),
         h.make_node("Conv", ["xr", "w"], ["y"], name="conv")]
g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", TP.FLOAT, [1, 3, 8, 8]),
                              h.make_tensor_value_info("m", TP.FLOAT, [2, 5])],
                 [h.make_tensor_value_info("y", TP.FLOAT, None)],
                 [nh.from_array(np.ones((4, 3, 3, 3), np.float32), "w"),
                  nh.from_array(np.array([1, 3], np.int64), "c13")])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), sys.argv[1])
PYEOF
"$BIN" compress "$T/nz.onnx" -o "$T/nz.out.onnx" --target-flops 0.5 --quiet 2>"$T/err" &&
  bad "NonZero model accepted"
grep -q "node 'find' (NonZero) is unknown, and with it the input size of Conv 'conv'" "$T/err" ||
  bad "NonZero model: message does not name the node: $(cat "$T/err")"
td_done shape_fold
