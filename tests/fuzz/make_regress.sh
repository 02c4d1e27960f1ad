#!/bin/bash
# Writes the seed inputs of fuzz_compress and fuzz_diff kept in
# tests/fuzz/regress/ (replayed by tests/scripts/fuzz_short.sh), made from
# two small real models cut to a few kilobytes:
#   cls8: the first 28 nodes of PP-OCR's mobile v2.0 text-direction
#         classifier (weights in Constant nodes, Conv+BN, hard-swish,
#         depthwise conv, a squeeze-excite block);
#   cnn2: the first two conv blocks of tests/onnx_models/small_cnn.onnx.
# regress/compress/: each model behind the 4 option bytes fuzz_compress
# reads (every method and every kind of target at least once).
# regress/diff/: pairs in fuzz_diff's layout (4-byte length of A, A, B):
# a model and itself, and a model and its compressed form, both ways.
# regress/diff/ctl-names is kept by hand: two models whose node names and
# dim_params hold newlines (once reported on more lines one way round).
# usage: make_regress.sh BINARY SRCDIR
set -eu
bin=$(readlink -f "${1:?usage: make_regress.sh BINARY SRCDIR}")
src=$(readlink -f "${2:?usage: make_regress.sh BINARY SRCDIR}")
PY=/usr/bin/python3
cls=$src/bench/models/ch_ppocr_mobile_v2.0_cls_infer.onnx
[ -f "$cls" ] || bash "$src/bench/fetch_models.sh" >/dev/null
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$PY" - "$cls" "$src/tests/onnx_models/small_cnn.onnx" "$T" <<'PYEOF'
import sys
import onnx
from onnx import utils

cls, cnn, out = sys.argv[1:]
# Up to the BN after the ninth Conv (node 27 counting non-Constant nodes).
utils.extract_model(cls, f"{out}/cls8.onnx", ["x"], ["batch_norm_6.tmp_3"])
m = onnx.load(cnn)
first = [n for n in m.graph.node if n.op_type == "Relu"][1].output[0]
utils.extract_model(cnn, f"{out}/cnn2.onnx", [m.graph.input[0].name], [first])
PYEOF
dst=$src/tests/fuzz/regress
mkdir -p "$dst/compress" "$dst/diff"
# Option bytes: byte 0 = method + 6 x target (methods auto, tucker2, cp,
# svd, tr, rsdtr; targets rank, ratio, tol, params, flops), byte 1 the
# target's value, byte 2 flags, byte 3 sweeps.
# Each model gets five, together every method and each gets every target.
opts_cls8="00:40:00:01 07:80:01:00 0e:30:02:01 15:c0:04:00 1c:60:08:02"
opts_cnn2="05:02:00:00 0a:08:00:01 13:90:03:00 1a:ff:00:03 04:18:0c:00"
for m in cls8 cnn2; do
  eval "opts=\$opts_$m"
  "$bin" compress "$T/$m.onnx" -o "$T/${m}_c.onnx" --ratio 0.3 --force --quiet \
    --dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=32 \
    --dim p2o.DynamicDimension.2=32 2>/dev/null ||
    "$bin" compress "$T/$m.onnx" -o "$T/${m}_c.onnx" --ratio 0.3 --force --quiet
  for o in $opts; do
    { printf "\\x${o//:/\\x}"; cat "$T/$m.onnx"; } >"$dst/compress/$m-${o//:/}"
  done
done
pair() {  # pair NAME A B
  local n
  n=$(stat -c %s "$2")
  # the escapes are made first, then printf turns them into bytes
  { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((n & 255)) \
      $((n >> 8 & 255)) $((n >> 16 & 255)) $((n >> 24 & 255)))"
    cat "$2" "$3"; } >"$dst/diff/$1"
}
pair cls8-same "$T/cls8.onnx" "$T/cls8.onnx"
pair cls8-compressed "$T/cls8.onnx" "$T/cls8_c.onnx"
pair cnn2-compressed "$T/cnn2_c.onnx" "$T/cnn2.onnx"
pair cls8-cnn2 "$T/cls8.onnx" "$T/cnn2.onnx"
ls -l "$dst/compress" "$dst/diff"
