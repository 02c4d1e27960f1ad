#!/bin/bash
# diff compares meaning, not representation: a file with a repeated
# attribute, opset import or graph-input name is "same" as itself, and
# integer, BOOL and FLOAT8 initializers stored in their typed field and as
# raw_data compare by value; the real differences next to them are still
# found (an initializer's one changed element counted as one).
# Usage: bash diff_repr.sh BINARY SRCDIR   (exit 0 pass, 1 fail)
set -u
BIN=$1
SRC=$2
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
FAIL=0
fail() { echo "FAIL: $*"; FAIL=1; }

"$PY" "$SRC/tests/tools/make_diff_pairs.py" "$T" > "$T/list" || {
    echo "FAIL: make_diff_pairs.py"; exit 1; }
[ "$(wc -l < "$T/list")" -ge 30 ] || fail "too few pairs generated"

while read -r a b verdict; do
    "$BIN" diff "$T/$a.onnx" "$T/$b.onnx" --json > "$T/j" 2> "$T/e"
    rc=$?
    want=0
    [ "$verdict" = different ] && want=1
    if [ $rc -ne $want ]; then
        fail "diff $a $b: exit $rc, expected $want ($verdict): $(head -c 400 "$T/j") $(cat "$T/e")"
        continue
    fi
    "$PY" - "$T/j" "$verdict" "$a" <<'EOF_PY' || fail "diff $a $b: report $(head -c 600 "$T/j")"
import json, sys
j = json.load(open(sys.argv[1]))
verdict, a = sys.argv[2], sys.argv[3]
if verdict == "same":
    sys.exit(0 if j["same"] and j["differences"] == 0 else 1)
if j["same"] or j["differences"] != 1:
    sys.exit(1)
if a.startswith("typed_"):
    ch = j["initializers"]["changed"]
    # FLOAT8 codes are compared, not decoded: no numeric difference
    n = None if a.endswith("float8") else 1
    ok = len(ch) == 1 and ch[0]["name"] == "C" and ch[0]["n_diff"] == n
    sys.exit(0 if ok else 1)
EOF_PY
done < "$T/list"

# A name or dim_param holding a newline or another control character is
# written escaped: each difference stays one line of the text report, the
# same number of lines either way round, and nothing raw reaches the
# terminal.
"$PY" - "$T" <<'EOF_PY' || fail "make control-character pair"
import sys, onnx
from onnx import helper as h, TensorProto as T
def mk(name, alpha, dim):
    x = h.make_tensor_value_info("x", T.FLOAT, [dim, 3])
    z = h.make_tensor_value_info("z", T.FLOAT, [dim, 3])
    g = h.make_graph([h.make_node("LeakyRelu", ["x"], ["y"], name=name, alpha=alpha),
                      h.make_node("Relu", ["y"], ["z"], name=name + "2")],
                     "g", [x], [z])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
onnx.save(mk("a\nb\x1b[2J", 0.1, "N\nM"), sys.argv[1] + "/ctl_a.onnx")
onnx.save(mk("ab", 0.2, "N"), sys.argv[1] + "/ctl_b.onnx")
EOF_PY
"$BIN" diff "$T/ctl_a.onnx" "$T/ctl_b.onnx" > "$T/ab" 2>&1
"$BIN" diff "$T/ctl_b.onnx" "$T/ctl_a.onnx" > "$T/ba" 2>&1
[ "$(wc -l < "$T/ab")" -eq 8 ] && [ "$(wc -l < "$T/ba")" -eq 8 ] ||
    fail "control characters: $(wc -l < "$T/ab") and $(wc -l < "$T/ba") lines, expected 8: $(cat "$T/ab")"
grep -qF "~ node 'a\nb\x1b[2J' (LeakyRelu): attribute alpha" "$T/ab" ||
    fail "control characters not escaped: $(cat "$T/ab")"
grep -qF "FLOAT [N, 3] -> FLOAT [N\nM, 3]" "$T/ba" ||
    fail "dim_param not escaped: $(cat "$T/ba")"
! grep -q $'\x1b' "$T/ab" "$T/ba" || fail "raw escape character in the report"

# A tensor of a type diff does not read as numbers, whose dims multiply to
# 2^34 elements: its bytes differ, and that is the report (not an attempt
# to convert 2^34 values, which ran out of memory).
"$PY" - "$T" <<'EOF_PY' || fail "make untyped pair"
import sys, onnx
from onnx import helper as h, TensorProto as T
def mk(raw):
    t = onnx.TensorProto(); t.name = "w"; t.data_type = 99
    t.dims.extend([1 << 31, 8]); t.raw_data = raw
    g = h.make_graph([h.make_node("Identity", ["w"], ["y"])], "g", [],
                     [h.make_tensor_value_info("y", T.FLOAT, None)], [t])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
onnx.save(mk(b"ab"), sys.argv[1] + "/untyped_a.onnx")
onnx.save(mk(b"cd"), sys.argv[1] + "/untyped_b.onnx")
EOF_PY
"$BIN" diff "$T/untyped_a.onnx" "$T/untyped_b.onnx" > "$T/ut" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -qF "~ initializer 'w': values differ" "$T/ut" ||
    fail "untyped tensor of 2^34 elements: exit $rc: $(cat "$T/ut")"

[ $FAIL -eq 0 ] && echo "diff_repr: all passed"
exit $FAIL
