#!/usr/bin/env bash
# ONNX semantics kept (run by ctest):  bash tests/scripts/onnx_semantics.sh BINARY SRCDIR
# On models from tests/tools/make_semantics.py:
# - a Conv whose weight is an overridable initializer (also a graph input,
#   IR 7) is left alone, listed as skipped with the reason, and the output
#   keeps the same graph inputs;
# - a Conv whose weight is a sparse initializer is valid (no "dangling
#   input"), kept with a reason; info gives its weight shape and MACs;
# - a sparse initializer holding the name a factor would get: the output's
#   names stay unique and it runs in ONNX Runtime with the same outputs;
# - diff sees a sparse initializer's other value, or its other position
#   (exit 1), and the same model as same (exit 0).
set -u
BIN="$1"
SRCDIR="$2"
PY=/usr/bin/python3
CMP="$SRCDIR/tools/ort/ort_compare.js"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
"$PY" "$SRCDIR/tests/tools/make_semantics.py" "$T" || { echo "FAIL: generator"; exit 1; }
inputs() { "$PY" -c "import onnx,sys; print([i.name for i in onnx.load(sys.argv[1]).graph.input])" "$1"; }
skipped() { "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print('|'.join(s['node'] + ': ' + s['reason'] for s in r['skipped']))" "$1"; }

for m in overridable sparse_w sparse_name; do
  rm -f "$T/r.json"
  if ! "$BIN" compress "$T/$m.onnx" -o "$T/$m.out.onnx" --method tucker2 --tol 0 --force \
       --quiet --report "$T/r.json" 2>"$T/err"; then
    bad "$m: compress failed: $(cat "$T/err")"; continue
  fi
  res=$(node "$CMP" "$T/$m.onnx" "$T/$m.out.onnx" --rtol 1e-5 2>&1 | tail -1)
  case "$res" in PASS*) ;; *) bad "$m: ORT: $res" ;; esac
  [ "$(inputs "$T/$m.onnx")" = "$(inputs "$T/$m.out.onnx")" ] ||
    bad "$m: graph inputs changed: $(inputs "$T/$m.onnx") -> $(inputs "$T/$m.out.onnx")"
  s=$(skipped "$T/r.json")
  case "$m" in
    overridable) [ "$s" = "conv: weight is an overridable initializer (also a graph input): factoring it would change the model's inputs" ] ||
                   bad "overridable: skipped '$s'" ;;
    sparse_w) [ "$s" = "conv: weight is a sparse initializer: kept as stored" ] || bad "sparse_w: skipped '$s'" ;;
    sparse_name)
      meth=$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['layers'][0]['method'])" "$T/r.json")
      [ "$meth" = tucker2 ] || bad "sparse_name: conv not factored ($meth)"
      dup=$("$PY" -c "
import onnx,sys
g=onnx.load(sys.argv[1]).graph
names=[t.name for t in g.initializer]+[s.values.name for s in g.sparse_initializer]+[o for n in g.node for o in n.output]
print(sorted({x for x in names if names.count(x)>1}))" "$T/$m.out.onnx")
      [ "$dup" = "[]" ] || bad "sparse_name: names defined twice: $dup" ;;
  esac
done

"$BIN" info "$T/sparse_w.onnx" > "$T/info.txt" 2>&1 || bad "info sparse_w failed: $(cat "$T/info.txt")"
grep -Eq "^ +conv +Conv +\[8, 6, 3, 3\] .* 432 +27648$" "$T/info.txt" ||
  bad "info sparse_w: conv row without weight shape or MACs: $(grep -A3 convolutions "$T/info.txt")"

for other in b c; do
  "$BIN" diff "$T/sparse_a.onnx" "$T/sparse_$other.onnx" > "$T/d.txt" 2>&1
  rc=$?
  [ "$rc" = 1 ] || bad "diff sparse_a sparse_$other: exit $rc, $(cat "$T/d.txt")"
  grep -q "~ sparse initializer 'conv_td1_w'" "$T/d.txt" || bad "diff sparse_a sparse_$other: $(cat "$T/d.txt")"
done
"$BIN" diff "$T/sparse_a.onnx" "$T/sparse_a.onnx" > /dev/null 2>&1 || bad "diff of a model with itself: exit $?"
echo "$fail failed"
[ "$fail" -eq 0 ]
