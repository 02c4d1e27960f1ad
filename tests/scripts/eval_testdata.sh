#!/usr/bin/env bash
# onnxtd eval on ONNX's own test data (run by ctest):
#   bash tests/scripts/eval_testdata.sh BINARY SRCDIR
#
# For models of varied ops and element types (float16/32/64, int32/64,
# uint8, bool; one to three inputs; one to three outputs), with the inputs
# and outputs stored beside them (test_data_set_N/input_K.pb, output_K.pb):
# - one model: ONNX Runtime's outputs agree with the stored ones within the
#   test data's tolerance, numpy.allclose(rtol=1e-3, atol=1e-7), exit 0;
# - the model against itself: deviation exactly 0, exit 0 under --rtol 0;
# - a stored output changed by 1 % fails (exit 1): the check can fail;
# - a stored output of another dtype, sequence and string inputs: refused.
set -u
BIN="$1"
SRCDIR="$2"
DATA=/usr/share/libonnx-testdata/data
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$SRCDIR/tests/lsan-ort.supp:print_suppressions=0}"
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

MODELS="node/test_add node/test_where_example node/test_and2d node/test_equal
node/test_cast_FLOAT_to_FLOAT16 node/test_cast_FLOAT16_to_FLOAT
node/test_cast_FLOAT_to_DOUBLE node/test_dequantizelinear
node/test_quantizelinear node/test_gather_0 node/test_top_k
node/test_reshape_reordered_all_dims node/test_conv_with_strides_padding
node/test_maxpool_2d_default node/test_averagepool_2d_default
node/test_matmul_2d node/test_softmax_example node/test_batchnorm_example
node/test_concat_2d_axis_0 node/test_transpose_default node/test_lstm_defaults
node/test_gemm_default_no_bias node/test_argmax_default_axis_example
node/test_mod_mixed_sign_int64 node/test_matmulinteger node/test_convtranspose
node/test_resize_upsample_scales_linear node/test_einsum_batch_matmul
node/test_nonzero_example node/test_range_int32_type_negative_delta
node/test_layer_normalization_2d_axis0 pytorch-converted/test_Conv2d
pytorch-converted/test_Embedding pytorch-converted/test_ConvTranspose2d
pytorch-converted/test_Conv1d"
n=0
for m in $MODELS; do
  d="$DATA/$m"
  [ -f "$d/model.onnx" ] || { bad "$m: not in libonnx-testdata"; continue; }
  n=$((n + 1))
  "$BIN" eval "$d/model.onnx" --inputs "$d" --elementwise 1e-3,1e-7 --runs 0 \
    --json > "$T/out" 2> "$T/err"
  rc=$?
  [ "$rc" = 0 ] || bad "$m vs stored outputs: exit $rc: $(cat "$T/err") $(cat "$T/out")"
  grep -q '"elem_mismatches":0' "$T/out" || bad "$m: no elementwise count"
  if grep -q '"elem_mismatches":[1-9]' "$T/out"; then bad "$m: mismatches"; fi
  "$BIN" eval "$d/model.onnx" "$d/model.onnx" --inputs "$d" --rtol 0 --runs 2 \
    --json > "$T/out" 2> "$T/err"
  rc=$?
  [ "$rc" = 0 ] || bad "$m vs itself: exit $rc: $(cat "$T/err")"
  /usr/bin/python3 - "$T/out" "$m" <<'PY' || bad "$m vs itself: report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["pass"] and r["latency"]["runs"] == 2, r
for o in r["outputs"]:
    assert o["rel_l2"] == 0 and o["max_abs"] == 0 and o["cosine"] == 1, (sys.argv[2], o)
    assert o["elements"] > 0
PY
done
[ "$n" -ge 35 ] || bad "only $n models checked"

# The check can fail: a stored output off by 1 % is caught elementwise and
# by --rtol, and the report names the output.
cp -r "$DATA/node/test_conv_with_strides_padding" "$T/conv"
/usr/bin/python3 - "$T/conv/test_data_set_0/output_0.pb" <<'PY'
import sys
import onnx
from onnx import numpy_helper
t = onnx.TensorProto()
t.ParseFromString(open(sys.argv[1], "rb").read())
a = numpy_helper.to_array(t) * 1.01
open(sys.argv[1], "wb").write(numpy_helper.from_array(a, t.name).SerializeToString())
PY
"$BIN" eval "$T/conv/model.onnx" --inputs "$T/conv" --elementwise 1e-3,1e-7 \
  --runs 0 > "$T/out" 2> "$T/err"
rc=$?
[ "$rc" = 1 ] || bad "perturbed output: exit $rc, expected 1"
grep -q "output 'y': .* elements over" "$T/out" || bad "perturbed: $(cat "$T/out")"
"$BIN" eval "$T/conv/model.onnx" --inputs "$T/conv" --rtol 0.005 --runs 0 \
  > "$T/out" 2> "$T/err"
[ $? = 1 ] || bad "perturbed output under --rtol 0.005: not exit 1"
grep -q -- "rel. L2 0.0099.* > --rtol 0.005" "$T/out" || bad "perturbed rtol: $(cat "$T/out")"

# Several samples add up: the same set twice is two samples.
"$BIN" eval "$DATA/node/test_add/model.onnx" --inputs "$DATA/node/test_add" \
  --inputs "$DATA/node/test_add/test_data_set_0" --runs 0 --json > "$T/out" 2>&1
grep -q '"samples":2' "$T/out" || bad "two sources: $(cat "$T/out")"

# What eval cannot compare is refused by name: a stored output of another
# element type than the model's (ONNX keeps bfloat16 results as uint16),
# inputs that are sequences or strings.
refused() {  # refused MODEL TEXT
  "$BIN" eval "$DATA/node/$1/model.onnx" --inputs "$DATA/node/$1" --runs 0 \
    > "$T/out" 2> "$T/err"
  local rc=$?
  [ "$rc" = 1 ] && [ ! -s "$T/out" ] && grep -qF -- "$2" "$T/err" ||
    bad "$1: exit $rc, expected 1 and '$2': $(cat "$T/err")"
}
refused test_cast_FLOAT_to_BFLOAT16 "output 'output' is bfloat16 but the stored output_0.pb holds uint16"
refused test_identity_sequence "input 'x' is not a tensor (a sequence, map or optional)"
refused test_cast_STRING_to_FLOAT "input 'input' is string; eval feeds numeric tensors only"

[ "$fail" = 0 ] && echo "eval_testdata: $n models pass" && exit 0
exit 1
