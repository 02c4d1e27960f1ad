#!/usr/bin/env bash
# Global budgets on real models (run by ctest; skip 77 without them):
#   bash tests/scripts/budget_real.sh BINARY SRCDIR
# - PP-OCRv4 det (weights in Constant nodes, symbolic dims given 640):
#   --target-params 0.5 and --target-flops 0.5 land within 2 % below;
# - ISNet fp16: --target-params 0.5 within 2 % below;
# each result runs in ONNX Runtime (when tools/ort is installed).
set -u
BIN="$1"
SRCDIR="$2"
PY=/usr/bin/python3
M="$SRCDIR/bench/models"
det="$M/ch_PP-OCRv4_det_infer.onnx"
isnet="$M/isnet_fp16.onnx"
[ -f "$det" ] || [ -f "$isnet" ] || { echo "SKIP: no models in bench/models"; exit 77; }
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

if [ -f "$isnet" ]; then
  if "$BIN" compress "$isnet" -o "$T/isnet.onnx" --target-params 0.5 --quiet \
       --report "$T/isnet.json"; then
    got=$(json "$T/isnet.json" "r['totals']['model_params_after']/r['totals']['model_params_before']")
    echo "isnet --target-params 0.5: $got"
    within "$got" 0.5 || bad "isnet --target-params 0.5 reached $got"
    if [ "$ORT" = 1 ]; then
      node "$CMP" "$isnet" "$T/isnet.onnx" --rtol 1e9 >/dev/null 2>&1 ||
        bad "isnet --target-params: does not run in ONNX Runtime"
    fi
  else
    bad "isnet --target-params failed"
  fi
fi
[ "$fail" -eq 0 ] && echo "budget_real: all passed"
[ "$fail" -eq 0 ]
