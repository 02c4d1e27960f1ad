#!/usr/bin/env bash
# Self-test of tools/ort/ort_compare.js and ort_time.js (run by ctest).
#
#   bash tests/scripts/ort_tools_selftest.sh BINARY SRCDIR
#
# BINARY is unused here (kept for the common test-script calling convention).
# Exit 0 pass, 1 fail, 77 skip (onnxruntime-node, python3-onnx or the ONNX
# test data not installed: run scripts/setup.sh).
#
# Shows that the comparer passes what is equal AND fails what is not:
#   - a model against itself passes --bitexact
#   - a model against a copy with one Conv weight changed exits 1
#     (default rtol and --bitexact), and passes a very loose --rtol
#   - --expected passes on ONNX's reference outputs for 3 Conv models
#   - a missing model file exits 2
set -u

SRCDIR="${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
CMP="$SRCDIR/tools/ort/ort_compare.js"
TIME="$SRCDIR/tools/ort/ort_time.js"
PY=/usr/bin/python3
DATA=/usr/share/libonnx-testdata/data/pytorch-converted

skip() { echo "SKIP: $*"; exit 77; }
command -v node >/dev/null 2>&1 || skip "node not found"
[ -f "$CMP" ] || { echo "FAIL: $CMP missing"; exit 1; }
(cd "$SRCDIR/tools/ort" && node -e 'require("onnxruntime-node")') >/dev/null 2>&1 ||
  skip "onnxruntime-node not installed in tools/ort (run scripts/setup.sh)"
[ -x "$PY" ] && "$PY" -c 'import onnx, numpy' >/dev/null 2>&1 ||
  skip "python3-onnx / python3-numpy not installed"
[ -d "$DATA/test_Conv2d" ] || skip "libonnx-testdata not installed"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/ort_selftest.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

pass=0; fail=0
# expect <wanted-exit-code> <description> <command...>
expect() {
  local want="$1" what="$2"; shift 2
  "$@" >"$TMP/out" 2>&1
  local rc=$?
  if [ "$rc" = "$want" ]; then
    pass=$((pass + 1)); echo "ok   - $what (exit $rc)"
  else
    fail=$((fail + 1)); echo "FAIL - $what: exit $rc, wanted $want"
    sed 's/^/       /' "$TMP/out" | tail -n 20
  fi
}

MODEL="$DATA/test_Conv2d/model.onnx"

# A copy of the model with one element of the Conv weight changed by 0.05.
"$PY" - "$MODEL" "$TMP/perturbed.onnx" <<'EOF' || { echo "FAIL: cannot make perturbed model"; exit 1; }
import sys
import onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
conv = next(n for n in m.graph.node if n.op_type == "Conv")
w_name = conv.input[1]
for i, t in enumerate(m.graph.initializer):
    if t.name == w_name:
        w = numpy_helper.to_array(t).copy()
        w.flat[0] += 0.05
        m.graph.initializer[i].CopyFrom(numpy_helper.from_array(w, w_name))
        break
else:
    sys.exit("no initializer for Conv weight " + w_name)
onnx.save(m, sys.argv[2])
EOF

expect 0 "model vs itself, --bitexact" node "$CMP" "$MODEL" "$MODEL" --bitexact
expect 0 "model vs itself, --opt none --json" node "$CMP" "$MODEL" "$MODEL" --opt none --json
expect 1 "model vs perturbed Conv weight, default rtol" node "$CMP" "$MODEL" "$TMP/perturbed.onnx"
expect 1 "model vs perturbed Conv weight, --bitexact" node "$CMP" "$MODEL" "$TMP/perturbed.onnx" --bitexact
expect 0 "model vs perturbed Conv weight, --rtol 0.5" node "$CMP" "$MODEL" "$TMP/perturbed.onnx" --rtol 0.5
expect 1 "perturbed model vs reference outputs" \
  node "$CMP" "$TMP/perturbed.onnx" --inputs "$DATA/test_Conv2d/test_data_set_0" --expected --rtol 1e-4

for t in test_Conv2d test_Conv2d_depthwise test_Conv2d_groups; do
  expect 0 "--expected $t" \
    node "$CMP" "$DATA/$t/model.onnx" --inputs "$DATA/$t/test_data_set_0" --expected --rtol 1e-4
done

# float16 tensors in input/output files
F16="/usr/share/libonnx-testdata/data/node/test_cast_FLOAT_to_FLOAT16"
if [ -d "$F16/test_data_set_0" ]; then
  expect 0 "--expected float16 output" \
    node "$CMP" "$F16/model.onnx" --inputs "$F16/test_data_set_0" --expected --rtol 1e-3
fi

expect 2 "missing model file" node "$CMP" "$MODEL" "$TMP/does_not_exist.onnx"
expect 2 "bad option" node "$CMP" "$MODEL" "$MODEL" --no-such-option

if [ -f "$TIME" ]; then
  expect 0 "ort_time.js --json" node "$TIME" "$MODEL" "$MODEL" --runs 3 --warmup 1 --json
  if [ "$pass" -gt 0 ] && ! node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
      if(!(r.a.median_ms>0&&r.b.median_ms>0&&r.ratio_b_over_a>0))process.exit(1)' "$TMP/out" 2>/dev/null; then
    fail=$((fail + 1)); echo "FAIL - ort_time.js JSON lacks medians"
  fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
