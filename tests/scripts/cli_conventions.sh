#!/usr/bin/env bash
# What compress tells its user, and the command-line conventions (run by
# ctest):
#   bash tests/scripts/cli_conventions.sh BINARY SRCDIR
# On a generated model of 40 Conv layers (one with a long name, one too
# small to shrink, symbolic input dims N, H, W):
# - progress off a terminal: with stderr in a file, one line per layer
#   under ONNXTD_PROGRESS_INTERVAL=0, the last one by default, no estimate
#   of the time left before 5% of the work; --quiet prints nothing;
# - the table: names whole up to 48 columns, longer ones cut with "...",
#   a MAC column, a reason on every kept row; after --target-flops the
#   summary gives MACs first; the JSON has a reason for every kept layer
#   and lists layers --exclude left out;
# - the HTML: an overview (model, command, version), layer MACs equal to the
#   JSON's totals (or "unknown" where the JSON says null), one chart dot
#   per layer, a sortable table, the kept layers folded away;
# - the output model's metadata_props name onnxtd's version and options,
#   producer_name stays the exporter's;
# - --input-shape for info, compress and eval; unknown input or dim names
#   refused (exit 2) with the names the model has;
# - help: 'help CMD' = 'CMD --help', every option compress/info/eval parse
#   is in their help, the synopsis lists the main ones, -V; a usage error is
#   two lines; a missing -o and clashing options are named; --threads 0;
#   --report - on stdout.
# Every group fails on the binary before these changes (no progress off a
# terminal, no reasons/MACs in the table, no overview, no metadata, no
# --input-shape, help dumped after errors).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"

LONG=backbone.stage4.block3.expand_conv_with_a_name_longer_than_the_column
"$PY" - "$T/m.onnx" "$LONG" <<'PY' || { echo "FAIL: making the model"; exit 1; }
import sys
import numpy as np
import onnx
from onnx import helper as h, TensorProto as P, numpy_helper as nh
rng = np.random.default_rng(3)
C, nodes, inits, x = 32, [], [], "x"
for i in range(40):
    name = sys.argv[2] if i == 7 else ("conv_%02d_block" % i if i < 30 else "c%d" % i)
    w = rng.standard_normal((C, C, 3, 3)).astype(np.float32)
    inits.append(nh.from_array(w, "w%d" % i))
    nodes.append(h.make_node("Conv", [x, "w%d" % i], ["y%d" % i], name=name,
                             pads=[1, 1, 1, 1]))
    x = "y%d" % i
# too small to shrink: a 1x1 Conv 32 -> 1 (a rank-1 chain is no smaller)
inits.append(nh.from_array(rng.standard_normal((1, C, 1, 1)).astype(np.float32), "wt"))
nodes.append(h.make_node("Conv", [x, "wt"], ["out"], name="tiny_head"))
g = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", P.FLOAT, ["N", C, "H", "W"])],
                 [h.make_tensor_value_info("out", P.FLOAT, ["N", 1, "H", "W"])], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)], producer_name="cli-test-exporter")
onnx.save(m, sys.argv[1])
PY

# The 40 convs have random weights (rel. error ~0.6 at half their size)
# and tiny_head is a head: the data-free guards would keep them all; what
# is tested here is how layers are shown, so they are off (G).
G="--no-protect --max-layer-error off"
# ---- progress ---------------------------------------------------------------
ONNXTD_PROGRESS_INTERVAL=0 "$BIN" compress "$T/m.onnx" -o "$T/o.onnx" $G --ratio 0.5 \
  --threads 1 --report "$T/r.json" 2> "$T/err" || bad "compress: $(tail -3 "$T/err")"
n=$(grep -c "^compress: layer [0-9]* of 41" "$T/err")
[ "$n" = 41 ] || bad "progress off a terminal, interval 0: $n lines for 41 layers"
head -1 "$T/err" | grep -q "left" && bad "an estimate after the first layer: $(head -1 "$T/err")"
grep -q "^compress: layer 41 of 41 (100% of the work)" "$T/err" || bad "no final progress line"
"$BIN" compress "$T/m.onnx" -o "$T/o2.onnx" $G --ratio 0.5 2> "$T/err2" || bad "compress (default interval)"
grep -q "^compress: layer 41 of 41" "$T/err2" || bad "default interval: no progress line in a file"
"$BIN" compress "$T/m.onnx" -o "$T/o3.onnx" $G --ratio 0.5 --quiet 2> "$T/errq" || bad "compress --quiet"
[ -s "$T/errq" ] && bad "--quiet printed: $(head -3 "$T/errq")"

# ---- the table and the JSON -------------------------------------------------
grep -q "^conv_00_block .* MACs *MACs after" "$T/err" || grep -q "MACs after" "$T/err" ||
  bad "no MAC column: $(grep '^node' "$T/err")"
grep -q "^${LONG:0:22}\.\.\." "$T/err" || bad "a long name is not cut visibly: $(grep -F "${LONG:0:10}" "$T/err")"
grep -qF "${LONG: -23}" "$T/err" || bad "a cut name lost its end"
"$PY" - "$T/err" "$T/r.json" <<'PY' || bad "table or JSON: reasons"
import json, sys
rows = [l for l in open(sys.argv[1]) if l.split()[2:3] == ["keep"]]
assert rows, "no kept row in the table"
for l in rows:
    reason = l.split(None, 10)[10:] if len(l.split()) > 10 else []
    assert reason and reason[0].strip(), "kept row without a reason: " + l
r = json.load(open(sys.argv[2]))
kept = [l for l in r["layers"] if l["method"] == "keep"]
assert any(l["node"] == "tiny_head" for l in kept), "tiny_head was not kept"
for l in kept:
    assert l.get("reason"), "kept layer without a reason in the JSON: " + l["node"]
PY
"$BIN" compress "$T/m.onnx" -o "$T/o4.onnx" $G --target-flops 0.6 --allow-slower --input-shape x:1,32,16,16 \
  --exclude 'c3[0-4]' --report "$T/f.json" --report-html "$T/f.html" 2> "$T/errf" ||
  bad "--target-flops with --input-shape: $(tail -3 "$T/errf")"
grep -q "layers replaced.*; layer MACs [0-9]* -> [0-9]* .*; model parameters" "$T/errf" ||
  bad "after --target-flops the summary does not give MACs first: $(grep replaced "$T/errf")"
"$PY" - "$T/f.json" <<'PY' || bad "excluded layers not in the JSON's skipped list"
import json, sys
r = json.load(open(sys.argv[1]))
ex = [s for s in r["skipped"] if "exclude" in s["reason"]]
assert len(ex) == 5, ex
PY

# ---- the HTML ---------------------------------------------------------------
"$PY" - "$T/f.json" "$T/f.html" "$T/m.onnx" <<'PY' || bad "HTML report"
import json, re, sys
r, html = json.load(open(sys.argv[1])), open(sys.argv[2]).read()
for want in ("<h2>Overview</h2>", sys.argv[3], "onnxtd compress ", "onnxtd version",
             "<details>", 'class="s"', "<script>"):
    assert want in html, "HTML lacks " + want
t = r["totals"]
m = re.search(r"layer MACs</th><td>(\d+) &#8594; (\d+)", html)
assert m and int(m.group(1)) == t["flops_before"] and int(m.group(2)) == t["flops_after"], \
    (m and m.groups(), t["flops_before"], t["flops_after"])
assert html.count("<circle") == len(r["layers"]), "one chart dot per layer"
assert not re.search(r"<script[^>]*src|<link|href=|url\(", html), "external resource"
PY
"$BIN" compress "$T/m.onnx" -o "$T/o5.onnx" $G --report "$T/u.json" --report-html "$T/u.html" -q ||
  bad "compress with symbolic dims"
json_null=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['totals']['flops_before'])" "$T/u.json")
[ "$json_null" = None ] || bad "symbolic dims: the JSON knows the MACs ($json_null)"
grep -q "layer MACs</th><td>unknown" "$T/u.html" || bad "the HTML gives a MAC total the JSON does not know"

# ---- metadata in the output model -------------------------------------------
ver=$("$BIN" --version | cut -d' ' -f2)
"$PY" - "$T/o.onnx" "$ver" <<'PY' || bad "output metadata"
import onnx, sys
m = onnx.load(sys.argv[1])
meta = {p.key: p.value for p in m.metadata_props}
assert meta.get("onnxtd.version") == sys.argv[2], meta
assert "method=auto" in meta.get("onnxtd.options", "") and "ratio=0.5" in meta["onnxtd.options"], meta
assert m.producer_name == "cli-test-exporter", m.producer_name
PY

# ---- input shapes -----------------------------------------------------------
"$BIN" info "$T/m.onnx" --json --input-shape x:1,32,16,16 > "$T/i.json" || bad "info --input-shape"
"$BIN" info "$T/m.onnx" --json --dim N=1 --dim H=16 --dim W=16 > "$T/i2.json" || bad "info --dim"
cmp -s "$T/i.json" "$T/i2.json" || bad "--input-shape and --dim give different info"
grep -q '"macs": *null' "$T/i.json" && bad "info --input-shape: MACs still unknown"
refused() {  # WHAT TEXT CMD...
  local what=$1 text=$2; shift 2
  "$@" > /dev/null 2> "$T/e"; local rc=$?
  [ "$rc" = 2 ] || bad "$what: exit $rc, expected 2"
  grep -qF -- "$text" "$T/e" || bad "$what: message lacks \"$text\": $(cat "$T/e")"
}
refused "info --dim with an input name" "'x' is an input" "$BIN" info "$T/m.onnx" --dim x=16
refused "unknown dim" "no symbolic dimension 'Q' (they have: 'N', 'H', 'W')" "$BIN" info "$T/m.onnx" --dim Q=1
refused "unknown input" "no input 'y' (its inputs: 'x')" "$BIN" info "$T/m.onnx" --input-shape y:1,32,16,16
refused "compress, unknown input" "no input 'img'" "$BIN" compress "$T/m.onnx" -o "$T/x.onnx" --input-shape img:1,3,4,4
refused "eval, unknown dim" "no symbolic dimension 'Q'" "$BIN" eval "$T/m.onnx" "$T/o.onnx" --random 1 --dim Q=1
refused "wrong rank" "has 4 dimensions, 3 given" "$BIN" info "$T/m.onnx" --input-shape x:1,32,16
[ -e "$T/x.onnx" ] && bad "a refused compress wrote its output"
"$BIN" eval "$T/m.onnx" "$T/o.onnx" --random 1 --input-shape "x:1,32,8,8" --runs 0 > /dev/null 2> "$T/e"
[ $? -le 1 ] || bad "eval --input-shape: $(cat "$T/e")"

# ---- help and usage errors --------------------------------------------------
for c in compress info eval diff convert stats-model; do
  cmp -s <("$BIN" help $c) <("$BIN" $c --help) || bad "'help $c' is not '$c --help'"
done
for c in compress info eval; do
  src="$SRCDIR/src/cli/cmd_$c.c"
  for opt in $(grep -o '"--[a-z-]*"' "$src" "$SRCDIR/src/cli/cli_shapes.c" | cut -d'"' -f2 | sort -u); do
    [ "$c" != compress ] && grep -q -- "$opt" "$SRCDIR/src/cli/cli_shapes.c" &&
      ! grep -q -- "cli_shapes" "$src" && continue
    "$BIN" $c --help | grep -q -- "$opt" || bad "$c --help does not mention $opt"
  done
done
for opt in --target-params --target-flops --report-html --act-stats --calib --input-shape -V --version; do
  "$BIN" --help | grep -q -- "$opt" || bad "the synopsis lacks $opt"
done
[ "$("$BIN" -V)" = "$("$BIN" --version)" ] || bad "-V is not --version"
"$BIN" compress "$T/m.onnx" -o "$T/x.onnx" --bogus 2> "$T/e"; rc=$?
[ "$rc" = 2 ] && [ "$(wc -l < "$T/e")" = 2 ] && [ "$(tail -1 "$T/e")" = "see 'onnxtd compress --help'" ] ||
  bad "unknown option: exit $rc, stderr: $(head -5 "$T/e")"
refused "missing -o" "-o is required" "$BIN" compress "$T/m.onnx"
refused "two budgets" "--ratio and --target-params exclude each other" \
  "$BIN" compress "$T/m.onnx" -o "$T/x.onnx" --ratio 0.5 --target-params 0.3
"$BIN" compress "$T/m.onnx" -o "$T/t0.onnx" --threads 0 --rank 2 -q || bad "--threads 0 refused"
"$BIN" compress "$T/m.onnx" -o "$T/s.onnx" --rank 2 -q --report - > "$T/stdout.json" || bad "--report -"
"$PY" -c "import json,sys; json.load(open(sys.argv[1]))['layers']" "$T/stdout.json" ||
  bad "--report - did not print the JSON report"

td_done cli_conventions
