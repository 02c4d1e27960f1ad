#!/usr/bin/env bash
# Sequential refit against whitening alone, side by side: for each budget,
# `compress --calib --target-params F --max-error off` with --no-refit
# (today's whitened factors) and with --refit (their last factors and
# biases refitted, wave by wave, on what the compressed model gives each
# layer), timed; then the deviation the report measured on the held-out
# calibration inputs and, for isnet/det/cls, the task metric against the
# original on the evaluation inputs (bench/fidelity/eval.js: mask IoU,
# agreement), which no calibration run saw.
#
#   bash bench/fidelity_refit.sh TASK [BUDGETS...]
#
# TASK: isnet | isnet8 (quint8) | det | cls | rec. BUDGETS default 0.7 0.5.
# Environment: OUT (bench/out/fidelity_refit), BIN (build/onnxtd), METHOD
# (per task below), MODES ("norefit refit"; refitN: N waves), EXTRA (more compress
# options), PHOTOS (as fidelity_bound.sh). rec's inputs are text lines
# rendered by bench/fidelity/rec_lines.py (12 for calibration, 3 of them
# held out); its only metric is the report's (held-out rel. L2 and top-1
# agreement per time step).
# Results: $OUT/TASK.jsonl (one line per model) and a table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/fidelity_refit}
BIN=${BIN:-build/onnxtd}
PY=/usr/bin/python3
TASK=$1
shift
BUDGETS=${*:-0.7 0.5}
declare -A MODEL=(
  [isnet]=bench/models/isnet_fp16.onnx
  [isnet8]=bench/models/isnet_quint8.onnx
  [det]=bench/models/ch_PP-OCRv4_det_infer.onnx
  [cls]=bench/models/ch_ppocr_mobile_v2.0_cls_infer.onnx
  [rec]=bench/models/ch_PP-OCRv4_rec_infer.onnx
)
declare -A OPTS=(
  [isnet]="--method tucker2"
  [isnet8]="--method tucker2"
  [det]=""
  [cls]="--allow-slower"
  [rec]="--allow-slower --dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=320"
)
EVAL_TASK=${TASK%8}
src=${MODEL[$TASK]}
[ -x "$BIN" ] || { echo "fidelity_refit.sh: build $BIN first" >&2; exit 2; }
mkdir -p "$OUT/models" "$OUT/cache"

# ---- inputs: evaluation (prep.py), calibration (calib_prep.py), as .npy
if [ "$TASK" = rec ]; then
  [ -d "$OUT/calib_npy/rec" ] || "$PY" bench/fidelity/rec_lines.py "$OUT/calib_npy/rec" 12 7
else
  if [ -z "${PHOTOS:-}" ]; then
    PHOTOS=$OUT/skim/usr/lib/python3/dist-packages/skimage/data
    [ -d "$PHOTOS" ] ||
      ( cd "$OUT" && apt-get download python3-skimage >/dev/null && dpkg-deb -x python3-skimage_*.deb skim )
  fi
  [ -f "$OUT/eval/$EVAL_TASK.json" ] || "$PY" bench/fidelity/prep.py --photos "$PHOTOS" --out "$OUT/eval" >&2
  [ -f "$OUT/calib/$EVAL_TASK.json" ] || "$PY" bench/fidelity/calib_prep.py --photos "$PHOTOS" --out "$OUT/calib" >&2
  split=""
  [ "$TASK" = cls ] && split=--split
  [ -d "$OUT/calib_npy/$EVAL_TASK" ] ||
    "$PY" bench/fidelity/manifest_npy.py "$OUT/calib/$EVAL_TASK.json" "$src" "$OUT/calib_npy/$EVAL_TASK" $split >&2
fi

res=$OUT/$TASK.jsonl
for f in $BUDGETS; do
  for mode in ${MODES:-norefit refit}; do
    tag=$TASK-tp$f-$mode
    dst=$OUT/models/$tag.onnx
    rep=$OUT/models/$tag.report.json
    log=$OUT/models/$tag.log
    flag=--no-refit
    case $mode in
      refit) flag=--refit ;;
      refit[0-9]*) flag="--refit --refit-waves ${mode#refit}" ;;
    esac
    cmd="$BIN compress $src -o $dst --calib $OUT/calib_npy/$EVAL_TASK --target-params $f --max-error off --runs 0 $flag ${OPTS[$TASK]} ${METHOD:+--method $METHOD} ${EXTRA:-} --report $rep"
    echo "== $tag: $cmd" >&2
    rm -f "$dst" "$rep"
    t0=$(date +%s.%N)
    rc=0
    # shellcheck disable=SC2086
    OPENBLAS_NUM_THREADS=1 /usr/bin/time -f 'peak RSS %M KB' $cmd 2> "$log" || rc=$?
    secs=$(echo "$(date +%s.%N) - $t0" | bc)
    ev=null
    if [ $rc -eq 0 ] && [ "$TASK" != rec ]; then
      ev=$(node bench/fidelity/eval.js "$src" "$dst" --task "$EVAL_TASK" --manifest "$OUT/eval/$EVAL_TASK.json" \
           --cache "$OUT/cache" --no-time --json 2>/dev/null)
    fi
    "$PY" - "$TASK" "$tag" "$f" "$mode" "$cmd" "$rc" "$secs" "$rep" "$log" "$ev" <<'PYEOF' | tee -a "$res"
import json, sys
task, tag, f, mode, cmd, rc, secs, rep, log, ev = sys.argv[1:]
row = {"task": task, "tag": tag, "budget": float(f), "mode": mode, "cmd": cmd,
       "exit": int(rc), "seconds": float(secs)}
lines = open(log).read().splitlines()
row["peak_rss_kb"] = int(([l for l in lines if l.startswith("peak RSS")] or ["peak RSS 0 KB"])[-1].split()[2])
if int(rc):
    row["message"] = [l.strip() for l in lines if l.startswith("onnxtd:")][-1:]
else:
    r = json.load(open(rep))
    t, m = r["totals"], r["measured"]
    row["params_ratio"] = t["model_params_before"] / t["model_params_after"]
    row["held_out_rel_l2"] = max(o["rel_l2"] for o in m["outputs"])
    ag = [o["top1_agreement"] for o in m["outputs"] if o["top1_agreement"] is not None]
    row["held_out_agreement"] = min(ag) if ag else None
    row["refit"] = m.get("refit")
    e = json.loads(ev)
    if e:
        row["eval"] = {k: e[k] for k in ("iou_mean", "iou_min", "agreement") if k in e}
print(json.dumps(row))
PYEOF
  done
done

"$PY" - "$res" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| model | budget | mode | params | held-out rel. L2 (agreement) | task metric | compress s | refit s, runs |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    if r["exit"]:
        print("| %s | %.2f | %s | exit %d | %s | | %.0f | |" % (r["task"], r["budget"], r["mode"], r["exit"], r.get("message"), r["seconds"]))
        continue
    e = r.get("eval") or {}
    if "iou_mean" in e:
        fid = "IoU %.4f / %.4f" % (e["iou_mean"], e["iou_min"])
    elif "agreement" in e:
        fid = "agreement %.4f" % e["agreement"]
    else:
        fid = ""
    ag = "" if r["held_out_agreement"] is None else " (%.4f)" % r["held_out_agreement"]
    rf = r.get("refit")
    rs = "%.0f, %d" % (rf["seconds"], rf["model_runs"]) if rf else ""
    print("| %s | %.2f | %s | %.2fx | %.4g%s | %s | %.0f | %s |" % (
        r["task"], r["budget"], r["mode"], r["params_ratio"], r["held_out_rel_l2"], ag, fid, r["seconds"], rs))
PYEOF
