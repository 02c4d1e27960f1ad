#!/usr/bin/env bash
# Data-free protection, on by default, on the bundled small CNN: under a
# global budget (--target-params) and under the default per-layer ratio,
# without calibration data, the first conv on the input (conv0) and the
# layer feeding the output (fc, the classifier) are left as is, each listed
# under "skipped" with its reason naming the graph input or output; the
# written model keeps their weights byte for byte; the output deviates less
# from the original on 8 rendered inputs than with --no-protect (where fc
# is factored; as with an --include pattern, --rank, --tol or --calib,
# where nothing is protected); --protect (the old opt-in) is the default's
# bytes; a layer factored beyond rel. error 0.5 is named in a warning.
#
#   bash tests/scripts/protect.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
MODEL=$SRCDIR/tests/onnx_models/small_cnn.onnx
td_use_ort
"$PY" "$SRCDIR/tests/tools/make_images.py" "$T/in" 8 64 --seed 5 >/dev/null ||
  { echo "FAIL: making the images"; exit 1; }

# the layer error cap (layer_error_cap.sh) would refuse this budget
BUDGET=(--target-params 0.1 --allow-slower --threads 1 --max-layer-error off)
"$BIN" compress "$MODEL" -o "$T/p.onnx" "${BUDGET[@]}" --report "$T/p.json" 2> "$T/p.txt" ||
  { cat "$T/p.txt"; fail "compress (protected by default)"; }
"$BIN" compress "$MODEL" -o "$T/n.onnx" "${BUDGET[@]}" --no-protect --report "$T/n.json" 2> "$T/n.txt" ||
  fail "compress --no-protect"
"$BIN" compress "$MODEL" -o "$T/i.onnx" "${BUDGET[@]}" --include . --report "$T/i.json" 2>/dev/null ||
  fail "compress --include ."
"$BIN" compress "$MODEL" -o "$T/q.onnx" "${BUDGET[@]}" --protect 2>/dev/null || fail "compress --protect"
cmp -s "$T/p.onnx" "$T/q.onnx" || fail "--protect did not write the default's bytes"
# --target-flops counts the protected layers' MACs: the whole stays within
# the budget, and the report's model_flops_* hold them (flops_* do not)
"$BIN" compress "$MODEL" -o "$T/f.onnx" --target-flops 0.3 --allow-slower --threads 1 \
  --max-layer-error off --report "$T/f.json" 2> "$T/f.txt" || { cat "$T/f.txt"; fail "--target-flops 0.3"; }
"$PY" - "$T/f.json" "$T/n.json" <<'PYEOF' || fail "MACs of the protected layers in a FLOPs budget"
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
free = {l["node"]: l for l in json.load(open(sys.argv[2]))["layers"]}
left = free["conv0"]["flops_before"] + free["fc"]["flops_before"]
assert t["flops_left_out"] == left > 0, (t, left)
assert t["model_flops_before"] == t["flops_before"] + left, t
assert t["model_flops_after"] == t["flops_after"] + left, t
got = t["model_flops_after"] / t["model_flops_before"]
assert 0.3 * 0.98 <= got <= 0.3 + 1e-12, got
print("--target-flops 0.3 with conv0 and fc protected: %.4f of every layer's MACs, "
      "%.4f of the factored layers'" % (got, t["flops_after"] / t["flops_before"]))
PYEOF
grep -q "; with the $("$PY" -c "import json; print(json.load(open('$T/f.json'))['totals']['flops_left_out'])") of the layers left as they are, " "$T/f.txt" ||
  fail "the summary does not give the MACs with the layers left as they are"
# the default per-layer ratio: protected too; a rank or a tolerance given: not
PER=(--allow-slower --threads 1 --max-layer-error off)
"$BIN" compress "$MODEL" -o "$T/d.onnx" "${PER[@]}" --report "$T/d.json" 2>/dev/null || fail "default compress"
"$BIN" compress "$MODEL" -o "$T/r.onnx" "${PER[@]}" --rank 4 --report "$T/r.json" 2>/dev/null || fail "--rank 4"
"$BIN" compress "$MODEL" -o "$T/t.onnx" "${PER[@]}" --tol 0.3 --report "$T/t.json" 2>/dev/null || fail "--tol 0.3"

"$PY" - "$T" "$MODEL" <<'PYEOF' || fail "protected layers"
import json, sys
import numpy as np
import onnx
from onnx import numpy_helper as nh
T, model = sys.argv[1:]
p = json.load(open(T + "/p.json"))
skipped = {s["node"]: s["reason"] for s in p["skipped"]}
assert "a first layer, it reads graph input 'input'" in skipped.get("conv0", ""), p["skipped"]
assert "a head, its output reaches graph output 'logits'" in skipped.get("fc", ""), p["skipped"]
factored = {l["node"] for l in p["layers"] if l["method"] != "keep"}
assert factored and not factored & {"conv0", "fc"}, factored
d = json.load(open(T + "/d.json"))
dskip = {s["node"]: s["reason"] for s in d["skipped"]}
assert "a first layer" in dskip.get("conv0", "") and "a head" in dskip.get("fc", ""), d["skipped"]
assert {l["node"] for l in d["layers"] if l["method"] != "keep"} == {"conv1", "conv2", "conv3", "proj"}, d["layers"]
for name in ("n", "i", "r", "t"):
    r = json.load(open("%s/%s.json" % (T, name)))
    f = {l["node"] for l in r["layers"] if l["method"] != "keep"}
    assert "fc" in f, (name, f)
    assert not any("protected" in s["reason"] for s in r["skipped"]), r["skipped"]
# the protected model keeps fc's and conv0's weights as they were
orig = onnx.load(model).graph
out = onnx.load(T + "/p.onnx").graph
w = {t.name: nh.to_array(t) for t in out.initializer}
fc = [n for n in out.node if n.name == "fc"]
assert fc and fc[0].op_type == "Gemm", [n.name for n in out.node]
o = {t.name: nh.to_array(t) for t in orig.initializer}
src = [n for n in orig.node if n.name == "fc"][0]
assert np.array_equal(w[fc[0].input[1]], o[src.input[1]]), "fc's weight changed"
PYEOF

# the deviation on rendered inputs: protected below unprotected
dev() {
  "$BIN" eval "$MODEL" "$1" --inputs "$T/in" --runs 0 --json |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["outputs"][0]["rel_l2"])'
}
p=$(dev "$T/p.onnx") && n=$(dev "$T/n.onnx") || fail "eval"
"$PY" -c "import sys; p, n = float(sys.argv[1]), float(sys.argv[2]); print('rel. L2 protected %.4g, with --no-protect %.4g' % (p, n)); assert p < n" "$p" "$n" ||
  fail "protection did not lower the deviation"

# calibrated: nothing protected (the measurement decides)
"$BIN" compress "$MODEL" -o "$T/c.onnx" "${BUDGET[@]}" --calib "$T/in" --runs 0 \
  --report "$T/c.json" 2>/dev/null || fail "compress --calib"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert not any("protected" in s["reason"] for s in r["skipped"]), r["skipped"]' \
  "$T/c.json" || fail "--calib: layers protected"

# a layer factored beyond a sane error is named
"$BIN" compress "$MODEL" -o "$T/w.onnx" --method tucker2 --rank 1 --force --threads 1 2> "$T/w.txt" ||
  fail "compress --rank 1"
grep -q "^warning: 'conv3' factored data-free at rel. error 0\.[5-9]" "$T/w.txt" ||
  fail "no warning naming conv3: $(grep -i warn "$T/w.txt")"

td_done protect
