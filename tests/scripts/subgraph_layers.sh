#!/usr/bin/env bash
# Layers inside If/Loop/Scan bodies and model-local functions (run by
# ctest):  bash tests/scripts/subgraph_layers.sh BINARY SRCDIR
#
# Models from tests/tools/make_subgraph_models.py: a Conv in both branches
# of an If (one weight of the branch, one from the main graph), in a Loop
# body (Constant weight), in a Scan body with a MatMul, in a model-local
# function (Constant weight; another function takes its weight as an
# input), an If inside a Loop reading a main graph weight a main graph Conv
# also reads, and the If model at IR 3.
# 1. info lists every layer with its graph path.
# 2. compress --tol 0 --force, and --ratio 0.5 --method tucker2 (weights of
#    multilinear rank 2: still exact), replace every such layer; the output
#    passes onnx.checker (full_check) and ONNX Runtime gives the original's
#    outputs (onnxtd eval --elementwise 1e-4,1e-5, every sample: both If
#    branches). A rank-1 chain must fail that same bound.
# 3. The function-input weight is kept with its reason; a weight still read
#    elsewhere (conv_main excluded) stays; factor names do not shadow main
#    graph names; --target-flops names the layer whose size is unknown.
set -u
BIN="$1"
SRCDIR="$2"
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

"$PY" "$SRCDIR/tests/tools/make_subgraph_models.py" "$T" || { echo "FAIL: generator"; exit 1; }

checker() {  # FILE -> "ok" or the error
  "$PY" -c "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('ok')" "$1" 2>&1 | tail -1
}
methods() {  # REPORT -> "node=method" per layer, one a line
  "$PY" -c "import json,sys
for l in json.load(open(sys.argv[1]))['layers']: print(l['node'] + '=' + l['method'])" "$1"
}

declare -A LAYERS=(
  [if]="If_0/then_branch/conv_then If_0/else_branch/conv_else"
  [ir3]="If_0/then_branch/conv_then If_0/else_branch/conv_else"
  [loop]="Loop_0/body/conv_body"
  [scan]="Scan_0/body/conv_scan Scan_0/body/matmul_scan"
  [func]="fn:Block/conv_fn"
  [nested]="conv_main Loop_0/body/If_in/then_branch/conv_deep"
)

run() {  # MODEL TAG ARGS... : compress, then every check on the output
  local m=$1 tag=$2
  shift 2
  local out="$T/$m.$tag.onnx"
  if ! "$BIN" compress "$T/$m.onnx" -o "$out" --quiet --report "$T/r.json" "$@" \
       2>"$T/err"; then
    bad "$m $tag: compress failed: $(cat "$T/err")"; return
  fi
  methods "$T/r.json" >"$T/methods"
  for l in ${LAYERS[$m]}; do
    case "$m $tag $l" in
      *"nested excl conv_main") continue ;;
      *"ratio Scan_0/body/matmul_scan") continue ;;  # no Tucker-2 for MatMul
    esac
    if grep -qx "$l=keep" "$T/methods" || ! grep -q "^$l=" "$T/methods"; then
      bad "$m $tag: layer $l not replaced: $(tr '\n' ' ' <"$T/methods")"
    else ok; fi
  done
  local c
  c=$(checker "$out")
  [ "$c" = ok ] && ok || bad "$m $tag: onnx.checker: $c"
  if "$BIN" eval "$T/$m.onnx" "$out" --inputs "$T/${m}_in" \
       --elementwise 1e-4,1e-5 >"$T/eval" 2>&1; then ok
  else bad "$m $tag: outputs differ: $(tail -3 "$T/eval")"; fi
}

for m in if ir3 loop scan func nested; do
  "$BIN" info "$T/$m.onnx" >"$T/info" 2>&1 || bad "$m: info failed"
  for l in ${LAYERS[$m]}; do
    case $l in *matmul*) continue ;; esac  # info lists convolutions
    grep -q "^  $l " "$T/info" && ok || bad "$m: info does not list $l"
  done
  run "$m" exact --tol 0 --force
  # --no-protect: every layer is to be factored here, the main graph's
  # first layer and head included (protected by default without data)
  run "$m" ratio --ratio 0.5 --method tucker2 --allow-slower --no-protect
done

# The bound can fail: a rank-1 chain of a rank-2 weight is not exact.
"$BIN" compress "$T/if.onnx" -o "$T/if.r1.onnx" --quiet --method tucker2 \
  --rank 1 --force 2>/dev/null
if "$BIN" eval "$T/if.onnx" "$T/if.r1.onnx" --inputs "$T/if_in" \
     --elementwise 1e-4,1e-5 >/dev/null 2>&1; then
  bad "rank 1 passed the bound: the check cannot fail"
else ok; fi

# A weight passed into a function is kept, with the reason.
"$BIN" compress "$T/func.onnx" -o "$T/f.onnx" --quiet --tol 0 --force \
  --report "$T/r.json"
"$PY" -c "import json,sys
s = json.load(open(sys.argv[1]))['skipped']
sys.exit(0 if any(k['node'] == 'fn:BlockW/conv_fnw' and 'input of the function'
                  in k['reason'] for k in s) else 1)" "$T/r.json" && ok ||
  bad "func: fn:BlockW/conv_fnw not listed as kept with its reason"
# The model's parameters count the function body's Constant weight (16 x 8
# x 3 x 3) besides the main graph's w_in (8 x 16 x 3 x 3).
"$PY" -c "import json,sys
sys.exit(json.load(open(sys.argv[1]))['totals']['model_params_before'] != 2304)" \
  "$T/r.json" && ok || bad "func: model_params_before leaves the function out"

# w_shared is read by conv_main (excluded) and conv_deep (factored): it
# stays, or the output would not load.
run nested excl --tol 0 --force --exclude '^conv_main$'
"$PY" -c "import onnx,sys
m = onnx.load(sys.argv[1])
sys.exit(0 if 'w_shared' in [t.name for t in m.graph.initializer] else 1)" \
  "$T/nested.excl.onnx" && ok || bad "nested: w_shared removed though read"

# Factors of the If branches are named apart from the main graph's values
# named as they would be (conv_then_td1_w, conv_else_td1_w).
"$PY" -c "import onnx,sys
m = onnx.load(sys.argv[1])
outer = {o for n in m.graph.node for o in n.output}
inner = {t.name for a in m.graph.node[0].attribute for t in a.g.initializer}
sys.exit(1 if outer & inner or len(inner) < 4 else 0)" "$T/if.exact.onnx" &&
  ok || bad "if: a factor name shadows a main graph value"

# --target-flops cannot know a Scan slice's size: refused, naming the layer.
"$BIN" compress "$T/scan.onnx" -o "$T/s.onnx" --target-flops 0.5 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "Scan_0/body/conv_scan" "$T/err"; then ok
else bad "scan --target-flops: exit $rc: $(cat "$T/err")"; fi

echo "subgraph_layers: $pass passed, $fail failed"
[ $fail -eq 0 ]
