#!/bin/bash
# diff for CI: pairs of models that differ in exactly one way (a ~1e-7
# weight change, a renamed node, a node renamed and edited, metadata, a
# doc_string, an added node, an int64 element, a moved NaN) against --atol/--rtol and --ignore; the
# sorted, marked text lines and the summary line checked literally; JSON
# parsed with python's json.
# Usage: bash diff_ci.sh BINARY SRCDIR   (exit 0 pass, 1 fail)
set -u
BIN=$1
SRC=$2
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
FAIL=0
fail() { echo "FAIL: $*"; FAIL=1; }

"$PY" "$SRC/tests/tools/make_diff_ci.py" "$T" > "$T/gen" || {
    echo "FAIL: make_diff_ci.py"; exit 1; }
read -r _ WDIFF < "$T/gen"

# expect RC B [options...]: diff base.onnx B.onnx exits RC
expect() {
    local rc=$1 b=$2
    shift 2
    "$BIN" diff "$T/base.onnx" "$T/$b.onnx" "$@" > "$T/out" 2> "$T/err"
    local got=$?
    [ $got -eq "$rc" ] || fail "diff base $b $*: exit $got, expected $rc: $(cat "$T/out" "$T/err")"
}
# body FILE: the report without its two header lines
body() { tail -n +3 "$1"; }

expect 0 copy
[ "$(body "$T/out")" = "diff: same" ] || fail "copy: $(cat "$T/out")"

# ---- tolerance on a weight moved by about 1e-7 ----
expect 1 weight
[ "$(body "$T/out")" = "~ initializer 'W': max_abs_diff 8.94069672e-08, max_rel_diff 3.58e-07 (1 of 108 values differ)
diff: 1 tensor differs (max abs 8.94e-08, max rel 3.58e-07)" ] \
    || fail "weight text: $(cat "$T/out")"
expect 0 weight --atol 1e-6
[ "$(body "$T/out")" = "diff: same" ] || fail "weight --atol 1e-6: $(cat "$T/out")"
expect 1 weight --atol 1e-8
expect 0 weight --atol=1e-6
expect 0 weight --rtol 1e-6     # 1e-6 * 0.25 covers 8.9e-8
expect 1 weight --rtol 1e-7     # 2.5e-8 does not
expect 1 weight --atol 1e-8 --json
"$PY" - "$T/out" "$WDIFF" <<'EOF_PY' || fail "weight JSON: $(cat "$T/out")"
import json, sys
r = json.load(open(sys.argv[1]))
d = float(sys.argv[2])
ch = r["initializers"]["changed"]
assert len(ch) == 1 and ch[0]["name"] == "W" and ch[0]["n_diff"] == 1, ch
assert abs(ch[0]["max_abs_diff"] - d) <= 1e-15, ch
assert abs(ch[0]["max_rel_diff"] - d / (0.25 + d)) <= 1e-9, ch
s = r["summary"]
assert s["tensors_differ"] == 1 and s["other"] == 0, s
assert abs(s["max_abs_diff"] - d) <= 1e-15, s
assert r["options"] == {"atol": 1e-8, "rtol": 0, "ignore": []}, r["options"]
assert r["same"] is False and r["differences"] == 1
EOF_PY

# integers: exact unless a tolerance is given
expect 1 intk
expect 0 intk --atol 1
expect 1 intk --atol 0.5
# NaN matches NaN only in the same position, whatever the tolerance
expect 1 nanmoved --atol 1e9 --rtol 1

# ---- a renamed node is a rename, not a removal and an addition ----
expect 1 renamed
[ "$(body "$T/out")" = "~ node 'conv2' (Conv) renamed -> 'conv2_renamed'
diff: 1 node renamed" ] || fail "renamed text: $(cat "$T/out")"
expect 1 renamed --json
"$PY" - "$T/out" <<'EOF_PY' || fail "renamed JSON: $(cat "$T/out")"
import json, sys
r = json.load(open(sys.argv[1]))
n = r["nodes"]
assert n["added"] == [] and n["removed"] == [] and n["changed"] == [], n
assert n["renamed"] == [{"a": "conv2", "b": "conv2_renamed", "op_type": "Conv",
                         "index_a": 2, "index_b": 2}], n["renamed"]
assert r["summary"]["nodes_renamed"] == 1 and r["differences"] == 1
EOF_PY
expect 0 renamed --ignore names
expect 0 renamed --ignore doc_strings,names
# renamed and edited: still paired (same op and outputs), both reported
expect 1 renedit
[ "$(body "$T/out")" = "~ node 'conv2' (Conv) renamed -> 'conv2_b'
~ node 'conv2' (Conv): attribute auto_pad: (none) -> \"NOTSET\"
diff: 1 node changed, 1 node renamed" ] || fail "renedit text: $(cat "$T/out")"
expect 1 renedit --ignore names
[ "$(body "$T/out")" = "~ node 'conv2' (Conv): attribute auto_pad: (none) -> \"NOTSET\"
diff: 1 node changed" ] || fail "renedit --ignore names: $(cat "$T/out")"

# ---- metadata and doc strings ----
expect 1 metadata
expect 0 metadata --ignore metadata
expect 0 metadata --ignore names --ignore metadata
expect 1 metadata --ignore names,doc_strings
expect 0 metadata --ignore metadata --json
"$PY" - "$T/out" <<'EOF_PY' || fail "metadata JSON: $(cat "$T/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["same"] is True and r["model"] == [], r
assert r["metadata"] == {"added": [], "removed": [], "changed": []}, r
assert r["options"]["ignore"] == ["metadata"], r["options"]
EOF_PY
expect 1 doc
expect 0 doc --ignore doc_strings
expect 1 doc --ignore metadata

# ---- an added node ----
expect 1 added
[ "$(body "$T/out")" = "+ node 'extra' (Relu) added
diff: 1 node added" ] || fail "added text: $(cat "$T/out")"
expect 1 added --ignore names,metadata,doc_strings --json
"$PY" - "$T/out" <<'EOF_PY' || fail "added JSON: $(cat "$T/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert [a["name"] for a in r["nodes"]["added"]] == ["extra"], r["nodes"]
assert r["summary"]["nodes_added"] == 1 and r["differences"] == 1
EOF_PY

# unnamed nodes are named by index, in numeric order (#9 before #10)
expect 1 unnamed
body "$T/out" > "$T/lines"
"$PY" - "$T/lines" <<'EOF_PY' || fail "unnamed order: $(cat "$T/out")"
import sys
lines = open(sys.argv[1]).read().splitlines()
want = ["+ node #%d (Relu) added" % i for i in range(3, 15)]
assert lines == want + ["diff: 12 nodes added"], lines
EOF_PY

# ---- several differences: sorted by section, then name; -, + marks ----
"$BIN" diff "$T/multi_a.onnx" "$T/multi_b.onnx" > "$T/out"
[ $? -eq 1 ] || fail "multi: exit not 1"
[ "$(body "$T/out")" = "~ metadata 'rev': \"v1\" -> \"v2\"
~ initializer 'W': max_abs_diff 8.94069672e-08, max_rel_diff 3.58e-07 (1 of 108 values differ)
- node 'extra_a' (Relu) removed
+ node 'extra_z' (Relu) added
diff: 1 node added, 1 node removed, 1 tensor differs (max abs 8.94e-08, max rel 3.58e-07), 1 other difference" ] \
    || fail "multi text: $(cat "$T/out")"

# ---- bad options: exit 2 and a message naming the option ----
for bad in "--atol -1" "--atol abc" "--rtol inf" "--ignore bogus" "--ignore names,"; do
    # shellcheck disable=SC2086
    "$BIN" diff "$T/base.onnx" "$T/copy.onnx" $bad > /dev/null 2> "$T/err"
    rc=$?
    [ $rc -eq 2 ] || fail "diff $bad: exit $rc, expected 2"
    grep -q -- "${bad%% *}" "$T/err" || fail "diff $bad: message $(cat "$T/err")"
done
"$BIN" diff "$T/base.onnx" "$T/copy.onnx" --atol > /dev/null 2>&1
[ $? -eq 2 ] || fail "--atol without a value should exit 2"

[ $FAIL -eq 0 ] && echo "diff_ci: all passed"
exit $FAIL
