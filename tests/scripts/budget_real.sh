#!/usr/bin/env bash
# Global budgets on real models (run by ctest; fetched when missing, skip 77
# when they cannot be):
#   bash tests/scripts/budget_real.sh BINARY SRCDIR
# - PP-OCRv4 det (weights in Constant nodes, symbolic dims given 640):
#   --target-params 0.5 and --target-flops 0.5 land within 2 % below;
# - PP-OCRv4 det --rank-multiple 8: ranks multiples of 8, budget met;
# - ISNet fp16: --target-params 0.5 within 2 % below, methods mixed by
#   auto, every replaced layer reporting the candidates it weighed;
# - ISNet --target-params 0.4 --target-flops 0.5: both hold, params binding;
# each result runs in ONNX Runtime (when tools/ort is installed).
set -u
BIN="$1"
SRCDIR="$2"
PY=/usr/bin/python3
M="$SRCDIR/bench/models"
det="$M/ch_PP-OCRv4_det_infer.onnx"
isnet="$M/isnet_fp16.onnx"
if [ ! -f "$det" ] || [ ! -f "$isnet" ]; then
  bash "$SRCDIR/bench/fetch_models.sh" >/dev/null 2>&1 || { echo "SKIP: cannot fetch the models"; exit 77; }
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
json() { "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
within() {
  "$PY" -c "import sys; v,t=map(float,sys.argv[1:]); sys.exit(0 if 0.98*t <= v <= t + 1e-12 else 1)" "$1" "$2"
}
ORT=0
(cd "$SRCDIR/tools/ort" && node -e 'require("onnxruntime-node")') >/dev/null 2>&1 && ORT=1
CMP="$SRCDIR/tools/ort/ort_compare.js"

if [ -f "$det" ]; then
  D="--dim p2o.DynamicDimension.1=640 --dim p2o.DynamicDimension.2=640"
  for kind in params flops; do
    if "$BIN" compress "$det" -o "$T/det_$kind.onnx" --target-$kind 0.5 $D --quiet \
         --report "$T/det_$kind.json"; then
      if [ $kind = params ]; then
        got=$(json "$T/det_$kind.json" "r['totals']['model_params_after']/r['totals']['model_params_before']")
      else
        got=$(json "$T/det_$kind.json" "r['totals']['flops_after']/r['totals']['flops_before']")
      fi
      echo "det --target-$kind 0.5: $got"
      within "$got" 0.5 || bad "det --target-$kind 0.5 reached $got"
      if [ "$ORT" = 1 ]; then
        node "$CMP" "$det" "$T/det_$kind.onnx" $D --rtol 1e9 >/dev/null 2>&1 ||
          bad "det --target-$kind: does not run in ONNX Runtime"
      fi
    else
      bad "det --target-$kind failed"
    fi
  done
fi

if [ -f "$det" ]; then
  # --rank-multiple 8: every rank a multiple of 8, the budget still met.
  if "$BIN" compress "$det" -o "$T/det_m8.onnx" --target-params 0.5 --rank-multiple 8 \
       $D --quiet --report "$T/det_m8.json"; then
    got=$(json "$T/det_m8.json" "r['totals']['model_params_after']/r['totals']['model_params_before']")
    echo "det --target-params 0.5 --rank-multiple 8: $got"
    within "$got" 0.5 || bad "det --rank-multiple 8 reached $got"
    odd=$(json "$T/det_m8.json" "[(l['node'], l['ranks']) for l in r['layers'] if any(x % 8 for x in l['ranks'])]")
    [ "$odd" = "[]" ] || bad "det --rank-multiple 8: ranks not multiples of 8: $odd"
  else
    bad "det --rank-multiple 8 failed"
  fi
fi

if [ -f "$isnet" ]; then
  if "$BIN" compress "$isnet" -o "$T/isnet.onnx" --target-params 0.5 --quiet \
       --report "$T/isnet.json"; then
    got=$(json "$T/isnet.json" "r['totals']['model_params_after']/r['totals']['model_params_before']")
    echo "isnet --target-params 0.5: $got"
    within "$got" 0.5 || bad "isnet --target-params 0.5 reached $got"
    # The default method is auto: it must mix methods on ISNet, and every
    # replaced layer's report lists the candidates it weighed (method,
    # ranks, params, error), the chosen one among them.
    "$PY" - "$T/isnet.json" <<'PYEOF' || bad "isnet auto: methods not mixed or candidates missing"
import json, sys
r = json.load(open(sys.argv[1]))
done = [l for l in r["layers"] if l["method"] != "keep"]
methods = sorted({l["method"] for l in done})
print("isnet auto methods:", methods, "over", len(done), "replaced layers")
ok = len(methods) >= 2
for l in done:
    c = l.get("candidates", [])
    fields = all({"method", "ranks", "params", "rel_error"} <= set(x) for x in c)
    chosen = any(x["method"] == l["method"] and x["ranks"] == l["ranks"] for x in c)
    if not c or not fields or not chosen:
        print("layer", l["node"], "candidates:", c)
        ok = False
# CP is weighed only where its ALS is affordable: on the smaller layers
several = sum(len(l.get("candidates", [])) >= 2 for l in done)
print("layers with two or more candidates:", several)
sys.exit(0 if ok and several > 0 else 1)
PYEOF
    if [ "$ORT" = 1 ]; then
      node "$CMP" "$isnet" "$T/isnet.onnx" --rtol 1e9 >/dev/null 2>&1 ||
        bad "isnet --target-params: does not run in ONNX Runtime"
    fi
  else
    bad "isnet --target-params failed"
  fi
fi
if [ -f "$isnet" ]; then
  # both budgets: 2.5x fewer parameters and at most half the MACs
  if "$BIN" compress "$isnet" -o "$T/isnet_j.onnx" --target-params 0.4 --target-flops 0.5 \
       --quiet --report "$T/isnet_j.json"; then
    p=$(json "$T/isnet_j.json" "r['totals']['model_params_after']/r['totals']['model_params_before']")
    f=$(json "$T/isnet_j.json" "r['totals']['flops_after']/r['totals']['flops_before']")
    echo "isnet --target-params 0.4 --target-flops 0.5: params $p, MACs $f"
    "$PY" -c "import sys; p,f=map(float,sys.argv[1:]); sys.exit(0 if 0.392 <= p <= 0.4+1e-12 and f <= 0.5+1e-12 else 1)" "$p" "$f" ||
      bad "isnet joint budgets: params $p, MACs $f"
    if [ "$ORT" = 1 ]; then
      node "$CMP" "$isnet" "$T/isnet_j.onnx" --rtol 1e9 >/dev/null 2>&1 ||
        bad "isnet joint budgets: does not run in ONNX Runtime"
    fi
  else
    bad "isnet joint budgets failed"
  fi
fi
if [ -f "$isnet" ]; then
  # --target-flops with --rank-multiple 8: met from just below, and every
  # rank a multiple of 8, also where the speed cap limits a layer's ranks
  # (that cap was once left unrounded: [21, 24], [202, 312]).
  if "$BIN" compress "$isnet" -o "$T/isnet_f8.onnx" --method tucker2 --target-flops 0.5 \
       --rank-multiple 8 --quiet --report "$T/isnet_f8.json"; then
    got=$(json "$T/isnet_f8.json" "r['totals']['flops_after']/r['totals']['flops_before']")
    echo "isnet --target-flops 0.5 --rank-multiple 8: $got"
    within "$got" 0.5 || bad "isnet --target-flops 0.5 --rank-multiple 8 reached $got"
    odd=$(json "$T/isnet_f8.json" "[(l['node'], l['ranks']) for l in r['layers'] if l['method'] != 'keep' and any(x % 8 for x in l['ranks'])]")
    [ "$odd" = "[]" ] || bad "isnet --rank-multiple 8: ranks not multiples of 8: $odd"
  else
    bad "isnet --target-flops 0.5 --rank-multiple 8 failed"
  fi
fi
[ "$fail" -eq 0 ] && echo "budget_real: all passed"
[ "$fail" -eq 0 ]
