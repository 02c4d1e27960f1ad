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
# each result runs in ONNX Runtime with its outputs within bounds of the
# original's (about 2.5x the errors measured; ORT missing is a failure).
# These test the allocation over every layer, so the data-free guards are
# off (G); by default, det --target-params 0.5 is refused: layers past the
# error cap (bench/README.md, "Data-free defaults": the map collapses).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
G="--no-protect --max-layer-error off"
M="$SRCDIR/bench/models"
det="$M/ch_PP-OCRv4_det_infer.onnx"
isnet="$M/isnet_fp16.onnx"
if [ ! -f "$det" ] || [ ! -f "$isnet" ]; then
  bash "$SRCDIR/bench/fetch_models.sh" >/dev/null 2>&1 || { echo "SKIP: cannot fetch the models"; exit 77; }
fi
td_need_node_ort
CMP="$SRCDIR/tools/ort/ort_compare.js"
# ort_close A B REL ABS [ARGS]: A and B run in ONNX Runtime on the same
# random inputs (seed 0); the worst output's rel. L2 error and max abs
# difference must be within REL and ABS. Prints what it measured.
ort_close() {
  local a=$1 b=$2 rel=$3 abs=$4
  shift 4
  node "$CMP" "$a" "$b" "$@" --rtol 1e30 --json 2>/dev/null |
    "$PY" "$SRCDIR/tests/tools/ort_bounds.py" "$rel" "$abs"
}

if [ -f "$det" ]; then
  D="--dim p2o.DynamicDimension.1=640 --dim p2o.DynamicDimension.2=640"
  for kind in params flops; do
    if "$BIN" compress "$det" -o "$T/det_$kind.onnx" --target-$kind 0.5 $D --quiet $G \
         --report "$T/det_$kind.json"; then
      if [ $kind = params ]; then
        got=$(json "$T/det_$kind.json" "r['totals']['model_params_after']/r['totals']['model_params_before']")
      else
        got=$(json "$T/det_$kind.json" "r['totals']['flops_after']/r['totals']['flops_before']")
      fi
      echo "det --target-$kind 0.5: $got"
      within "$got" 0.5 || bad "det --target-$kind 0.5 reached $got"
      # The map is near 0 on random inputs: rel. L2 about 1 whatever the
      # chain, the max abs difference is the sharp bound. Measured: rel. L2
      # 1.10 (params) and 1.00 (flops), max abs 5.7e-3 both.
      r=$(ort_close "$det" "$T/det_$kind.onnx" 3 0.015 $D) ||
        bad "det --target-$kind: ONNX Runtime outputs beyond the bounds: $r"
      echo "det --target-$kind 0.5 in ONNX Runtime: $r"
    else
      bad "det --target-$kind failed"
    fi
  done
fi

if [ -f "$det" ]; then
  "$BIN" compress "$det" -o "$T/det_d.onnx" --target-params 0.5 $D --quiet 2> "$T/det_d.err"
  rc=$?
  [ $rc = 1 ] && [ ! -e "$T/det_d.onnx" ] &&
    grep -q "cannot be met.*would pass --max-layer-error 0.3" "$T/det_d.err" ||
    bad "det --target-params 0.5 by default: exit $rc, not refused for the cap: $(cat "$T/det_d.err")"
  # --rank-multiple 8: every rank a multiple of 8, the budget still met.
  if "$BIN" compress "$det" -o "$T/det_m8.onnx" --target-params 0.5 --rank-multiple 8 $G \
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
  if "$BIN" compress "$isnet" -o "$T/isnet.onnx" --target-params 0.5 --quiet $G \
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
    # Measured over its outputs: rel. L2 up to 0.886, max abs 2.43.
    r=$(ort_close "$isnet" "$T/isnet.onnx" 2.2 6) ||
      bad "isnet --target-params: ONNX Runtime outputs beyond the bounds: $r"
    echo "isnet --target-params 0.5 in ONNX Runtime: $r"
  else
    bad "isnet --target-params failed"
  fi
fi
if [ -f "$isnet" ]; then
  # both budgets: 2.5x fewer parameters and at most half the MACs
  if "$BIN" compress "$isnet" -o "$T/isnet_j.onnx" --target-params 0.4 --target-flops 0.5 $G \
       --quiet --report "$T/isnet_j.json"; then
    p=$(json "$T/isnet_j.json" "r['totals']['model_params_after']/r['totals']['model_params_before']")
    f=$(json "$T/isnet_j.json" "r['totals']['flops_after']/r['totals']['flops_before']")
    echo "isnet --target-params 0.4 --target-flops 0.5: params $p, MACs $f"
    # both hold, and the one that binds is met (not overshot): which one
    # binds depends on the chains ONNX Runtime measures slower and keeps
    # (on a loaded machine more of them, and the MACs budget then binds)
    "$PY" -c "import sys; p,f=map(float,sys.argv[1:]); sys.exit(0 if p <= 0.4+1e-12 and f <= 0.5+1e-12 and (p >= 0.392 or f >= 0.49) else 1)" "$p" "$f" ||
      bad "isnet joint budgets: params $p, MACs $f"
    # Measured over its outputs: rel. L2 up to 2.56, max abs 5.09.
    r=$(ort_close "$isnet" "$T/isnet_j.onnx" 6.5 13) ||
      bad "isnet joint budgets: ONNX Runtime outputs beyond the bounds: $r"
    echo "isnet --target-params 0.4 --target-flops 0.5 in ONNX Runtime: $r"
  else
    bad "isnet joint budgets failed"
  fi
fi
if [ -f "$isnet" ]; then
  # --target-flops with --rank-multiple 8: met from just below, and every
  # rank a multiple of 8, also where the speed cap limits a layer's ranks
  # (that cap was once left unrounded: [21, 24], [202, 312]).
  if "$BIN" compress "$isnet" -o "$T/isnet_f8.onnx" --method tucker2 --target-flops 0.5 $G \
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
td_done budget_real
