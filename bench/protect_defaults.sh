#!/usr/bin/env bash
# Data-free defaults on the bench models: the task metric of default
# compress (per-layer --ratio 0.5) and of --target-params 0.7 / 0.5, each
# without protection (--no-protect), with it (heads and first layers left
# as they are), and with a per-layer error cap on top (--max-layer-error).
#
#   bash bench/protect_defaults.sh [MODELS...]    # isnet det cls rec isnetq
#
# Metrics (bench/fidelity/eval.js, against the original's outputs):
# ISNet mask IoU at 0.5 on 6 photos (mean / worst), PP-OCR det map IoU at
# 0.3 on 8 pages (mean / worst), cls top-1 agreement on 32 crops, rec char
# accuracy of the greedy CTC decoding on 24 rendered lines.
# Environment: OUT (bench/out/protect), BIN (build/onnxtd), CONFIGS (a
# subset of the names below), EXTRA (more compress arguments, e.g.
# --allow-slower for cls, whose every chain is predicted slower).
# Results: $OUT/results.jsonl, one JSON object per run, and a table on
# stdout (bench/protect_table.py).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/protect}
BIN=${BIN:-build/onnxtd}
PY=/usr/bin/python3
FID=bench/out/fidelity
EXTRA=${EXTRA:-}
mkdir -p "$OUT" "$FID/cache"

declare -A MODEL=(
  [isnet]=bench/models/isnet_fp16.onnx
  [isnetq]=bench/models/isnet_quint8.onnx
  [det]=bench/models/ch_PP-OCRv4_det_infer.onnx
  [cls]=bench/models/ch_ppocr_mobile_v2.0_cls_infer.onnx
  [rec]=bench/models/ch_PP-OCRv4_rec_infer.onnx
)
declare -A DIMS=(
  [isnet]="" [isnetq]=""
  [det]="--dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=640 --dim p2o.DynamicDimension.2=640"
  [cls]="--dim p2o.DynamicDimension.0=32 --dim p2o.DynamicDimension.1=48 --dim p2o.DynamicDimension.2=192"
  [rec]="--dim p2o.DynamicDimension.0=24 --dim p2o.DynamicDimension.1=320"
)
declare -A TASK=([isnet]=isnet [isnetq]=isnet [det]=det [cls]=cls [rec]=rec)

# ---- inputs (as bench/fidelity.sh; rec lines from rec_prep.py)
if [ ! -f "$FID/inputs/rec.json" ]; then
  PHOTOS=$FID/skim/usr/lib/python3/dist-packages/skimage/data
  if [ ! -d "$PHOTOS" ]; then
    ( cd "$FID" && apt-get download python3-skimage >/dev/null && dpkg-deb -x python3-skimage_*.deb skim )
  fi
  "$PY" bench/fidelity/prep.py --photos "$PHOTOS" --out "$FID/inputs" >&2
  ( cd bench/fidelity && "$PY" rec_prep.py --out "../out/fidelity/inputs" >&2 )
fi

# BUDGET+VARIANT -> compress arguments. BUDGET: default (per-layer ratio
# 0.5), tp0.7, tp0.5 (--target-params). VARIANT: none (--no-protect
# --max-layer-error off: no protection, no cap), prot (protection only),
# capE (protection and --max-layer-error E; cap0.4 is the default).
CONFIGS=${CONFIGS:-"default+none default+prot default+cap0.4 default+cap0.3
  tp0.7+none tp0.7+prot tp0.7+cap0.4 tp0.5+none tp0.5+prot tp0.5+cap0.4"}
args_of() {
  local b=${1%%+*} v=${1#*+}
  case $b in default) ;; tp*) printf -- '--target-params %s ' "${b#tp}" ;; esac
  case $v in
    none) echo "--no-protect --max-layer-error off" ;;
    prot) echo "--max-layer-error off" ;;
    cap*) echo "--max-layer-error ${v#cap}" ;;
  esac
}

run() { # model config
  local m=$1 c=$2 t=${TASK[$1]}
  local dst=$OUT/$m.$c.onnx rep=$OUT/$m.$c.json log=$OUT/$m.$c.log
  # shellcheck disable=SC2046,SC2086
  local cmd="$BIN compress ${MODEL[$m]} -o $dst $(args_of $c) $EXTRA ${DIMS[$m]} --no-measure --quiet --report $rep"
  echo "== $m $c: $cmd" >&2
  local t0=$SECONDS
  # shellcheck disable=SC2086
  if ! OPENBLAS_NUM_THREADS=1 nice -n 5 $cmd 2> "$log"; then
    "$PY" -c 'import json,sys; print(json.dumps({"model": sys.argv[1], "config": sys.argv[2], "extra": sys.argv[5], "cmd": sys.argv[3], "refused": open(sys.argv[4]).read().strip()}))' \
      "$m" "$c" "$cmd" "$log" "$EXTRA" >> "$OUT/results.jsonl"
    echo "   refused: $(cat "$log")" >&2
    return 0
  fi
  local secs=$((SECONDS - t0))
  local ev
  ev=$(nice -n 5 node bench/fidelity/eval.js "${MODEL[$m]}" "$dst" --task "$t" \
       --manifest "$FID/inputs/$t.json" --cache "$FID/cache" --no-time --json)
  "$PY" - "$m" "$c" "$cmd" "$rep" "$secs" "$ev" "$EXTRA" >> "$OUT/results.jsonl" <<'PYEOF'
import json, sys
m, c, cmd, rep, secs, ev = sys.argv[1:7]
r, e = json.load(open(rep)), json.loads(ev)
lay = [l for l in r["layers"] if l["method"] != "keep"]
prot = [s["node"] for s in r["skipped"] if "protected" in s["reason"]]
capped = [l["node"] for l in r["layers"] if l["method"] == "keep" and "error cap" in (l.get("reason") or "")]
print(json.dumps({"model": m, "config": c, "extra": sys.argv[7], "cmd": cmd, "seconds": int(secs),
    "params_ratio": r["totals"]["model_params_before"] / r["totals"]["model_params_after"],
    "factored": len(lay), "protected": len(prot), "capped": len(capped),
    "over_0.5": sum(1 for l in lay if l["rel_error"] > 0.5),
    "max_rel_error": max([l["rel_error"] for l in lay] or [0]),
    "eval": {k: v for k, v in e.items() if k not in ("per_input", "orig", "comp")},
    "per_input": [{k: v for k, v in p.items() if k in ("input", "iou", "agreement", "char_acc")} for p in e["per_input"]]}))
PYEOF
  tail -n 1 "$OUT/results.jsonl" >&2
  rm -f "$dst"
}

for m in ${*:-cls rec det isnet}; do
  for c in $CONFIGS; do run "$m" "$c"; done
done
