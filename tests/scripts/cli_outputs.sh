#!/usr/bin/env bash
# Output paths and shared options (run by ctest):
#   bash tests/scripts/cli_outputs.sh BINARY SRCDIR
#
# A --report/--report-html naming the model read or written is refused
# before any work (exit 1, nothing written, the input byte-identical);
# a report whose folder is missing fails before the model is written;
# reports are written whole; convert, stats-model and compress share
# -o, --external-data, --size-threshold and --mem-limit, and name an
# unknown option.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
cp "$SRCDIR/tests/onnx_models/small_cnn.onnx" "$T/in.onnx"
in_sum=$(sha256sum "$T/in.onnx" | cut -d' ' -f1)
expect() {  # expect WHAT RC TEXT COMMAND...
  local what=$1 want=$2 text=$3
  shift 3
  "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  [ "$rc" = "$want" ] || bad "$what: exit $rc, expected $want ($(cat "$T/err"))"
  grep -qF -- "$text" "$T/err" || bad "$what: message lacks '$text': $(cat "$T/err")"
}

expect "report over input" 1 "'$T/in.onnx' (--report) is '$T/in.onnx' (the model read)" \
  "$BIN" compress "$T/in.onnx" -o "$T/o.onnx" --report "$T/in.onnx" --quiet
expect "html report over output" 1 "'$T/o.onnx' (--report-html) and '$T/o.onnx' (the output model) are the same file" \
  "$BIN" compress "$T/in.onnx" -o "$T/o.onnx" --report-html="$T/o.onnx" --quiet
ln "$T/in.onnx" "$T/hard.onnx"
expect "report over a hard link of the input" 1 "'$T/hard.onnx' (--report) is '$T/in.onnx' (the model read)" \
  "$BIN" compress "$T/in.onnx" -o "$T/o.onnx" --report "$T/hard.onnx" --quiet
[ ! -e "$T/o.onnx" ] || bad "a refused report still wrote the model"
[ "$(sha256sum "$T/in.onnx" | cut -d' ' -f1)" = "$in_sum" ] || bad "input changed"

expect "report in a missing folder" 1 "$T/nowhere/r.json" \
  "$BIN" compress "$T/in.onnx" -o "$T/o.onnx" --report "$T/nowhere/r.json" --quiet
[ ! -e "$T/o.onnx" ] || bad "a report that cannot be written still let the model be written"
"$BIN" compress "$T/in.onnx" -o "$T/o.onnx" --report "$T/r.json" --quiet --allow-slower ||
  bad "compress with a report failed"
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["layers"]' \
  "$T/r.json" 2>/dev/null || [ ! -x /usr/bin/python3 ] || bad "report is not whole JSON"
ls -A "$T" | grep -q '^\.' && bad "temp files left: $(ls -A "$T")"

for cmd in convert stats-model compress; do
  expect "$cmd --mem-limit" 1 "more than the limit of 1024 bytes" \
    "$BIN" $cmd "$T/in.onnx" -o "$T/m.onnx" --mem-limit 1K
  expect "$cmd unknown option" 2 "$cmd: unknown option '--bogus'" \
    "$BIN" $cmd "$T/in.onnx" -o "$T/m.onnx" --bogus
  expect "$cmd second input" 2 "$cmd: unexpected argument 'extra'" \
    "$BIN" $cmd "$T/in.onnx" extra -o "$T/m.onnx"
done
[ ! -e "$T/m.onnx" ] || bad "a refused command wrote its output"

mkdir "$T/sm"
"$BIN" stats-model "$T/in.onnx" -o "$T/sm/s.onnx" --external-data s.bin \
  --size-threshold 0 2> "$T/err" || bad "stats-model --external-data: $(cat "$T/err")"
[ -s "$T/sm/s.bin" ] || bad "stats-model wrote no sidecar"
"$BIN" convert "$T/sm/s.onnx" -o "$T/sm/inline.onnx" 2> "$T/err" ||
  bad "the stats model with external data does not load: $(cat "$T/err")"
"$BIN" stats-model "$T/in.onnx" -o "$T/sm/ref.onnx" 2> /dev/null
cmp -s "$T/sm/inline.onnx" "$T/sm/ref.onnx" ||
  bad "stats model through external data differs from the inline one"

# Quantized layers are named with the reason they stay, one line per kind,
# and the model is still written (nothing else to do there is not an error).
Q=/usr/share/libonnx-testdata/data/node
for m in test_basic_convinteger:ConvInteger test_qlinearconv:QLinearConv \
         test_matmulinteger:MatMulInteger test_qlinearmatmul_2D:QLinearMatMul; do
  expect "compress ${m%%:*}" 0 "left as is: 1 ${m#*:}: quantized (integer weight)" \
    "$BIN" compress "$Q/${m%%:*}/model.onnx" -o "$T/q.onnx" --report "$T/q.json"
  grep -qF "\"op\":\"${m#*:}\",\"reason\":\"quantized" "$T/q.json" ||
    bad "${m%%:*}: the report does not list the quantized node: $(cat "$T/q.json")"
  [ -s "$T/q.onnx" ] || bad "${m%%:*}: no model written"
  rm -f "$T/q.onnx" "$T/q.json"
done
# A budget with nothing to factor says why (exit 1: the options are valid,
# the model cannot meet them), and writes nothing.
expect "budget, quantized only" 1 "cannot be met: no layer can be factored (1 left out; the first, 'y' (ConvInteger): quantized" \
  "$BIN" compress "$Q/test_basic_convinteger/model.onnx" -o "$T/q.onnx" --target-params 0.5
expect "budget, no layer" 1 "cannot be met: the model has no Conv, Gemm or MatMul to factor" \
  "$BIN" compress /usr/share/libonnx-testdata/data/node/test_relu/model.onnx -o "$T/q.onnx" --target-params 0.5
expect "budget, all filtered out" 1 "cannot be met: --include/--exclude leave no layer to factor (6 left out by them)" \
  "$BIN" compress "$T/in.onnx" -o "$T/q.onnx" --target-params 0.5 --include nomatch
[ ! -e "$T/q.onnx" ] || bad "a budget that cannot be met wrote a model"

# A budget counts only layers the chosen method can factor: a 1x1 conv has
# an SVD spectrum, but --method tucker2 cannot realise a plan on it (this
# once planned 0.50 and wrote a model keeping all of it, exit 0).
/usr/bin/python3 - "$T/pw.onnx" "$T/pw3.onnx" <<'PY'
import sys, numpy as np, onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as P
rng = np.random.default_rng(1)
def conv(name, x, y, cout, cin, k):
    w = nh.from_array(rng.standard_normal((cout, cin, k, k)).astype(np.float32), name + "_w")
    return h.make_node("Conv", [x, name + "_w"], [y], name=name, pads=[k // 2] * 4), w
n1, w1 = conv("pw", "x", "y1", 256, 256, 1)
n3, w3 = conv("c3", "y1", "y", 16, 256, 3)
for path, nodes, inits, out, c in ((sys.argv[1], [n1], [w1], "y1", 256),
                                   (sys.argv[2], [n1, n3], [w1, w3], "y", 16)):
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", P.FLOAT, [1, 256, 8, 8])],
                     [h.make_tensor_value_info(out, P.FLOAT, [1, c, 8, 8])], inits)
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), path)
PY
expect "budget, method fits no layer" 1 "cannot be met: --method tucker2 applies to none of the 1 layer (the first, 'pw' (Conv))" \
  "$BIN" compress "$T/pw.onnx" -o "$T/q.onnx" --method tucker2 --target-params 0.5
expect "budget, method fits a small layer only" 1 "cannot be met: the smallest ranks allowed keep 0." \
  "$BIN" compress "$T/pw3.onnx" -o "$T/q.onnx" --method tucker2 --target-params 0.5 --allow-slower
[ ! -e "$T/q.onnx" ] || bad "a budget the method cannot meet wrote a model"
# (pw's weight is random: its chain at half the size passes the data-free
# layer error cap, which layer_error_cap.sh tests)
expect "budget, svd on the 1x1 conv" 0 "" \
  "$BIN" compress "$T/pw3.onnx" -o "$T/q.onnx" --method svd --target-params 0.5 --allow-slower \
  --max-layer-error off --report "$T/q.json"
grep -qF '"method":"svd"' "$T/q.json" || bad "svd did not factor the 1x1 conv: $(cat "$T/q.json")"
rm -f "$T/q.onnx" "$T/q.json"

# QDQ: the float weight comes out of a DequantizeLinear of an int8 tensor.
/usr/bin/python3 - "$T/qdq.onnx" <<'PY'
import sys, numpy as np, onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as P
w = nh.from_array(np.arange(-64, 64, dtype=np.int8).reshape(8, 16, 1, 1), "w_q")
s = nh.from_array(np.array(0.01, dtype=np.float32), "w_s")
z = nh.from_array(np.array(0, dtype=np.int8), "w_z")
g = h.make_graph(
    [h.make_node("DequantizeLinear", ["w_q", "w_s", "w_z"], ["w"], name="dq"),
     h.make_node("Conv", ["x", "w"], ["y"], name="conv_qdq")],
    "qdq", [h.make_tensor_value_info("x", P.FLOAT, [1, 16, 4, 4])],
    [h.make_tensor_value_info("y", P.FLOAT, [1, 8, 4, 4])], [w, s, z])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), sys.argv[1])
PY
expect "compress QDQ" 0 "left as is: 1 Conv: quantized (QDQ: weight from DequantizeLinear)" \
  "$BIN" compress "$T/qdq.onnx" -o "$T/q.onnx" --report-html "$T/q.html"
grep -qF "first 'conv_qdq'" "$T/err" || bad "QDQ: the node is not named: $(cat "$T/err")"
grep -qF "<tr><td>conv_qdq</td><td>Conv</td><td>quantized (QDQ" "$T/q.html" ||
  bad "QDQ: the HTML report does not list the node left as is"
rm -f "$T/q.onnx" "$T/qdq.onnx" "$T/q.html"

# (by default the small CNN's first conv and head are left as is: protect.sh)
"$BIN" compress "$T/in.onnx" -o "$T/o.onnx" --allow-slower --no-protect 2> "$T/err"
grep -q "^left as is: " "$T/err" &&
  bad "a model with nothing left out prints a 'left as is' line: $(cat "$T/err")"

td_done cli_outputs
