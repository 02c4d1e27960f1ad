#!/bin/bash
# onnxtd info and diff on real Conv models: MACs and parameters checked
# against numbers computed here independently (onnx + numpy), JSON parsed,
# and diff's verdicts and exit codes on converted, perturbed, edited and
# external-data copies.
# Usage: bash cli_info_diff.sh BINARY SRCDIR   (exit 0 pass, 1 fail, 77 skip)
set -u
BIN=$1
PY=/usr/bin/python3
DATA=/usr/share/libonnx-testdata/data/pytorch-converted
if ! "$PY" -c 'import onnx, numpy' 2>/dev/null; then
    echo "skip: $PY lacks onnx or numpy"; exit 77
fi
if [ ! -d "$DATA" ]; then
    echo "skip: $DATA not installed"; exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
FAIL=0
fail() { echo "FAIL: $*"; FAIL=1; }

# ---- info: every Conv test model, MACs and params computed in Python ----
cat > "$T/expect.py" <<'EOF'
import json, sys
import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

model_path, report_path = sys.argv[1], sys.argv[2]
m = onnx.load(model_path)
g = m.graph
inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
for n in g.node:
    if n.op_type == "Constant":
        for a in n.attribute:
            if a.name == "value":
                inits[n.output[0]] = numpy_helper.to_array(a.t)
report = json.load(open(report_path))

def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default

# Shapes from ONNX's own inference, to check the output sizes we derive.
inferred = shape_inference.infer_shapes(m)
shapes = {}
for v in list(inferred.graph.value_info) + list(inferred.graph.output) + \
        list(inferred.graph.input):
    shapes[v.name] = [d.dim_value if d.HasField("dim_value") else None
                      for d in v.type.tensor_type.shape.dim]

errors = []
convs = [n for n in g.node if n.op_type == "Conv"]
if len(convs) != len(report["convs"]):
    errors.append("conv count %d vs %d" % (len(convs), len(report["convs"])))
for n, r in zip(convs, report["convs"]):
    w = inits[n.input[1]]
    x = shapes[n.input[0]]
    k = list(w.shape[2:])
    ns = len(k)
    s = attr(n, "strides", [1] * ns)
    d = attr(n, "dilations", [1] * ns)
    p = attr(n, "pads", [0] * (2 * ns))
    grp = attr(n, "group", 1)
    out = [(x[2 + i] + p[i] + p[ns + i] - d[i] * (k[i] - 1) - 1) // s[i] + 1
           for i in range(ns)]
    want_out = shapes[n.output[0]][2:]
    if out != want_out:
        errors.append("script's own output %s vs onnx %s" % (out, want_out))
    macs = int(np.prod(out)) * w.shape[0] * (w.shape[1]) * int(np.prod(k))
    # Cin/group is W[1]: check it against the input channels as well
    if w.shape[1] * grp != x[1]:
        errors.append("group arithmetic")
    params = w.size + (inits[n.input[2]].size if len(n.input) > 2 and n.input[2] else 0)
    got = (r["macs"], r["params"], r["group"], r["kernel"], r["strides"],
           r["dilations"], r["pads"], r["output_spatial"], r["weight_shape"])
    want = (macs, params, grp, k, s, d, p, out, list(w.shape))
    if got != want:
        errors.append("%s: got %s want %s" % (model_path, got, want))
total = sum(int(np.prod(t.dims)) for t in g.initializer)
if report["parameters"]["total"] != total:
    errors.append("total params %s vs %s" % (report["parameters"]["total"], total))
if report["ir_version"] != m.ir_version:
    errors.append("ir_version")
ops = {o["op_type"]: o["count"] for o in report["ops"]}
for n in g.node:
    ops[n.op_type] -= 1
if any(ops.values()):
    errors.append("op counts %s" % ops)
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
EOF

n=0
for model in "$DATA"/test_Conv1d*/model.onnx "$DATA"/test_Conv2d*/model.onnx \
             "$DATA"/test_Conv3d*/model.onnx; do
    [ -f "$model" ] || continue
    n=$((n + 1))
    if ! "$BIN" info "$model" --json > "$T/r.json"; then
        fail "info --json $model exited $?"; continue
    fi
    "$PY" "$T/expect.py" "$model" "$T/r.json" || fail "info numbers for $model"
done
[ "$n" -ge 20 ] || fail "only $n Conv models found"

# the text table shows the same MACs
M=$DATA/test_Conv2d_strided/model.onnx
"$BIN" info "$M" > "$T/r.txt" || fail "info text exit"
want=$("$BIN" info "$M" --json | "$PY" -c \
    'import json,sys; print(json.load(sys.stdin)["convs"][0]["macs"])')
grep -Eq "Conv .* $want\$" "$T/r.txt" || fail "text table lacks MACs $want"

# ---- --dim: a symbolic spatial dim makes MACs unknown until given ----
"$PY" - "$M" "$T/sym.onnx" <<'EOF' || fail "making sym.onnx"
import sys, onnx
m = onnx.load(sys.argv[1])
dims = m.graph.input[0].type.tensor_type.shape.dim
dims[0].dim_param = "N"
dims[2].dim_param = "H"
for o in m.graph.output:
    o.type.tensor_type.ClearField("shape")
onnx.save(m, sys.argv[2])
EOF
"$BIN" info "$T/sym.onnx" --json > "$T/s1.json" || fail "info sym"
"$BIN" info "$T/sym.onnx" --json --dim H=6 --dim=N=1 > "$T/s2.json" || fail "info --dim"
"$PY" - "$T/s1.json" "$T/s2.json" "$want" <<'EOF' || fail "--dim results"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["inputs"][0]["shape"][:3] == ["N", 3, "H"], a["inputs"][0]
assert a["convs"][0]["macs"] is None, a["convs"][0]
assert a["conv_totals"]["macs_unknown"] == 1
assert b["convs"][0]["macs"] == int(sys.argv[3]), b["convs"][0]
EOF
"$BIN" info "$T/sym.onnx" --dim H > /dev/null 2>&1
[ $? -eq 2 ] || fail "--dim without value should be a usage error"
"$BIN" info > /dev/null 2>&1
[ $? -eq 2 ] || fail "info without a model should exit 2"
"$BIN" info "$T/missing.onnx" 2> "$T/err" >/dev/null
[ $? -eq 1 ] || fail "info on a missing file should exit 1"

# ---- diff ----
"$BIN" convert "$M" -o "$T/conv.onnx" || fail "convert"
"$BIN" diff "$M" "$T/conv.onnx" > "$T/d.txt"
[ $? -eq 0 ] || fail "diff vs converted copy: $(cat "$T/d.txt")"

"$BIN" convert "$M" -o "$T/ext.onnx" --external-data w.bin --size-threshold 0 \
    || fail "convert --external-data"
[ -s "$T/w.bin" ] || fail "external data file not written"
"$BIN" diff "$M" "$T/ext.onnx" > "$T/d.txt"
[ $? -eq 0 ] || fail "diff vs external-data copy: $(cat "$T/d.txt")"
"$BIN" diff --json "$T/ext.onnx" "$M" | "$PY" -c \
    'import json,sys; r=json.load(sys.stdin); sys.exit(0 if r["same"] else 1)' \
    || fail "diff --json external vs inline not same"

# one weight perturbed; the expected difference from numpy in float32
"$PY" - "$M" "$T/pert.onnx" > "$T/pert.txt" <<'EOF' || fail "making pert.onnx"
import sys, onnx, numpy as np
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
t = m.graph.initializer[0]
w = numpy_helper.to_array(t).copy()
old = w.flat[5]
w.flat[5] = np.float32(old + np.float32(0.3))
t.CopyFrom(numpy_helper.from_array(w, t.name))
onnx.save(m, sys.argv[2])
print(t.name, repr(float(abs(np.float64(w.flat[5]) - np.float64(old)))))
EOF
read -r WNAME WDIFF < "$T/pert.txt"
"$BIN" diff --json "$M" "$T/pert.onnx" > "$T/d.json"
[ $? -eq 1 ] || fail "diff vs perturbed weight should exit 1"
"$PY" - "$T/d.json" "$WNAME" "$WDIFF" <<'EOF' || fail "perturbed weight report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["same"] is False
ch = r["initializers"]["changed"]
assert len(ch) == 1 and ch[0]["name"] == sys.argv[2], ch
assert abs(ch[0]["max_abs_diff"] - float(sys.argv[3])) <= 1e-8, ch
assert ch[0]["n_diff"] == 1 and ch[0]["shape_a"] == ch[0]["shape_b"], ch
assert not r["nodes"]["changed"] and not r["nodes"]["added"], r["nodes"]
EOF
"$BIN" diff "$M" "$T/pert.onnx" | grep -q "initializer '$WNAME': max_abs_diff" \
    || fail "text report lacks the perturbed initializer"

# an attribute changed on a named node
"$PY" - "$M" "$T/named.onnx" "$T/attr.onnx" <<'EOF' || fail "making attr.onnx"
import sys, onnx
m = onnx.load(sys.argv[1])
m.graph.node[0].name = "conv1"
onnx.save(m, sys.argv[2])
for a in m.graph.node[0].attribute:
    if a.name == "dilations":
        a.ints[:] = [2, 1]
onnx.save(m, sys.argv[3])
EOF
"$BIN" diff "$T/named.onnx" "$T/attr.onnx" > "$T/d.txt"
[ $? -eq 1 ] || fail "diff vs changed attribute should exit 1"
grep -q "node 'conv1' (Conv): attribute dilations: \[1, 1\] -> \[2, 1\]" "$T/d.txt" \
    || fail "attribute change not named: $(cat "$T/d.txt")"
"$BIN" diff --json "$T/named.onnx" "$T/attr.onnx" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
c = r["nodes"]["changed"]
assert len(c) == 1 and c[0]["name"] == "conv1", c
assert c[0]["changes"][0]["attr"] == "dilations", c
' || fail "JSON attribute change"

# errors: a missing file names it and exits 2, like diff(1)
"$BIN" diff "$M" "$T/nope.onnx" > /dev/null 2> "$T/err"
[ $? -eq 2 ] || fail "diff with a missing file should exit 2"
grep -q "nope.onnx" "$T/err" || fail "error message lacks the file name"
"$BIN" diff "$M" > /dev/null 2>&1
[ $? -eq 2 ] || fail "diff with one model should exit 2"
printf 'garbage' > "$T/bad.onnx"
"$BIN" diff "$T/bad.onnx" "$M" > /dev/null 2>&1
[ $? -eq 2 ] || fail "diff with an invalid model should exit 2"

[ $FAIL -eq 0 ] && echo "cli_info_diff: all passed ($n conv models)"
exit $FAIL
