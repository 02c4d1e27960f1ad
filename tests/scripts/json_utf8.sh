#!/bin/bash
# Names are bytes: a node name holding ill-formed UTF-8 (a stray 0xFF, a
# truncated sequence, an encoded surrogate), a control character, a quote
# and a backslash must still give valid JSON from info --json, diff --json
# and compress --report, and valid UTF-8 HTML from --report-html, with each
# ill-formed subpart shown as U+FFFD.
# Usage: bash json_utf8.sh BINARY SRCDIR   (exit 0 pass, 1 fail)
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
SRC=$SRCDIR

# protobuf's Python API only takes str: write a placeholder of the same
# length and swap the bytes in the serialized model.
"$PY" - "$SRC/tests/onnx_models/small_cnn.onnx" "$T" <<'EOF_PY' || exit 1
import sys
import onnx
src, out = sys.argv[1], sys.argv[2]
bad = b"c\xffo\xc3n\xed\xa0\x80v\x01\"\\"
place = b"QQQQQQQQQQQQ"
assert len(bad) == len(place)
for name, pads in (("a", None), ("b", [0, 0, 0, 0])):
    m = onnx.load(src)
    conv = [n for n in m.graph.node if n.name == "conv1"][0]
    conv.name = place.decode()
    if pads:
        [a for a in conv.attribute if a.name == "pads"][0].ints[:] = pads
    data = m.SerializeToString()
    assert data.count(place) == 1
    open("%s/%s.onnx" % (out, name), "wb").write(data.replace(place, bad))
EOF_PY

# the name as it must read once the JSON is decoded
cat > "$T/check.py" <<'EOF_PY'
import json, sys
kind, path = sys.argv[1], sys.argv[2]
want = "c\ufffdo\ufffdn\ufffd\ufffd\ufffdv\x01\"\\"
text = open(path, "rb").read().decode("utf-8")  # strict: fails on bad bytes
if kind == "html":
    sys.exit(0 if "c&#xFFFD;o&#xFFFD;n&#xFFFD;&#xFFFD;&#xFFFD;v&#xFFFD;"
             "&quot;\\" in text else 1)
j = json.loads(text)
if kind == "info":
    names = [c["name"] for c in j["convs"]]
elif kind == "diff":
    names = [c["name"] for c in j["nodes"]["changed"]]
else:
    names = [l["node"] for l in j["layers"]]
sys.exit(0 if want in names else 1)
EOF_PY

"$BIN" info "$T/a.onnx" --json > "$T/info.json" 2> "$T/e" ||
    fail "info: $(cat "$T/e")"
"$PY" "$T/check.py" info "$T/info.json" || fail "info --json: invalid or wrong name"

"$BIN" diff "$T/a.onnx" "$T/b.onnx" --json > "$T/diff.json" 2> "$T/e"
[ $? -eq 1 ] || fail "diff: expected exit 1 (different): $(cat "$T/e")"
"$PY" "$T/check.py" diff "$T/diff.json" || fail "diff --json: invalid or wrong name"

"$BIN" compress "$T/a.onnx" -o "$T/c.onnx" --quiet --allow-slower --report "$T/r.json" \
    --report-html "$T/r.html" 2> "$T/e" || fail "compress: $(cat "$T/e")"
"$PY" "$T/check.py" report "$T/r.json" || fail "--report: invalid or wrong name"
"$PY" "$T/check.py" html "$T/r.html" || fail "--report-html: not UTF-8 or name not escaped"

td_done json_utf8
