#!/usr/bin/env bash
# The never-slower rule's outcomes (run by ctest):
#   bash tests/scripts/speed_rule.sh BINARY SRCDIR
#
# A model whose only layer is kept for speed is a refusal, not a success:
# the default compress and a global budget exit 1 (nothing written) naming
# how many layers were kept for speed and the first, and --allow-slower;
# a chain the user named (--method, --include) is written with a warning
# and its predicted slow-down in the JSON; every method's chain has a
# latency estimate in the JSON (TR, RSDTR, CP, Tucker-2, SVD on Conv and
# Gemm). These are the cost model's verdicts: --no-measure (measured ones
# are latency_measured.sh's).
set -u
BIN="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect() {  # expect WHAT RC TEXT COMMAND...
  local what=$1 want=$2 text=$3
  shift 3
  "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  [ "$rc" = "$want" ] || bad "$what: exit $rc, expected $want ($(cat "$T/err"))"
  [ -z "$text" ] || grep -qF -- "$text" "$T/err" || bad "$what: message lacks '$text': $(cat "$T/err")"
}
json() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

/usr/bin/python3 - "$T" <<'PY'
import sys, numpy as np, onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as P
rng = np.random.default_rng(3)
def model(path, nodes, inits, x, y):
    g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", P.FLOAT, x)],
                     [h.make_tensor_value_info("y", P.FLOAT, y)], inits)
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), path)
def w(name, *shape):
    return nh.from_array(rng.standard_normal(shape).astype(np.float32), name)
d = sys.argv[1]
# a 24-channel 1x1 conv on a small map: any chain costs more than it saves
model(d + "/pw.onnx", [h.make_node("Conv", ["x", "pw_w"], ["y"], name="pw")],
      [w("pw_w", 24, 24, 1, 1)], [1, 24, 8, 8], [1, 24, 8, 8])
# a 3x3 conv big enough for every method, and a Gemm
model(d + "/c3.onnx", [h.make_node("Conv", ["x", "c3_w"], ["y"], name="c3",
                                   pads=[1, 1, 1, 1])],
      [w("c3_w", 32, 32, 3, 3)], [1, 32, 16, 16], [1, 32, 16, 16])
model(d + "/fc.onnx", [h.make_node("Gemm", ["x", "fc_w"], ["y"], name="fc",
                                   transB=1)],
      [w("fc_w", 256, 256)], [4, 256], [4, 256])
PY

expect "default, every chain slower" 1 "nothing could be compressed without being slower: 1 of the 1 layers is kept because every chain is predicted slower than the layer (the first, 'pw' (Conv)); --allow-slower" \
  "$BIN" compress "$T/pw.onnx" -o "$T/q.onnx" --no-measure
[ ! -e "$T/q.onnx" ] || bad "a refused compression wrote a model"
expect "global budget, layer kept for speed" 1 "--target-flops 0.5 cannot be met: the smallest ranks allowed keep 1.0000 of the model's MACs; 1 layer is kept because every chain is predicted slower than the layer (the first, 'pw' (Conv)); --allow-slower" \
  "$BIN" compress "$T/pw.onnx" -o "$T/q.onnx" --target-flops 0.5 --no-measure
[ ! -e "$T/q.onnx" ] || bad "a refused budget wrote a model"
expect "default with --allow-slower" 0 "" \
  "$BIN" compress "$T/pw.onnx" -o "$T/q.onnx" --allow-slower --quiet
[ -e "$T/q.onnx" ] || bad "--allow-slower wrote no model"
rm -f "$T/q.onnx"

# named chains: given as asked, with a warning and the predicted slow-down
for named in "--method svd" "--include pw --ratio 0.25"; do
  expect "named chain ($named)" 0 "warning: pw: the svd chain asked for is written, but the latency model predicts it" \
    "$BIN" compress "$T/pw.onnx" -o "$T/q.onnx" $named --no-measure --report "$T/q.json"
  [ "$(json "$T/q.json" "r['layers'][0]['method']")" = svd ] ||
    bad "$named: the named chain was not written: $(cat "$T/q.json")"
  [ "$(json "$T/q.json" "r['layers'][0]['predicted_slower_by'] > 1 and r['layers'][0]['est_latency_after'] >= r['layers'][0]['est_latency_before']")" = True ] ||
    bad "$named: no consistent predicted slow-down in the JSON: $(cat "$T/q.json")"
  rm -f "$T/q.onnx" "$T/q.json"
done

# every method's chain is costed: the JSON carries both estimates
for case in "c3 tucker2" "c3 cp" "c3 tr" "c3 rsdtr" "fc svd"; do
  set -- $case
  "$BIN" compress "$T/$1.onnx" -o "$T/q.onnx" --method "$2" --ratio 0.5 \
    --allow-slower --quiet --report "$T/q.json" 2> "$T/err" ||
    bad "$case: compress failed: $(cat "$T/err")"
  got=$(json "$T/q.json" "'%s %s' % (r['layers'][0]['method'], r['layers'][0].get('est_latency_after', 0) > 0 and r['layers'][0].get('est_latency_before', 0) > 0)")
  [ "$got" = "$2 True" ] || bad "$case: chain not costed in the JSON ($got): $(cat "$T/q.json")"
  rm -f "$T/q.onnx" "$T/q.json"
done

[ $fail -eq 0 ] && echo "speed_rule: all passed"
[ $fail -eq 0 ]
