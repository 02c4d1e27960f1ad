#!/usr/bin/env bash
# Data-free vs calibrated compression, side by side in one run: for each
# budget, `compress --target-params F` without and with `--act-stats`
# (activation statistics from ONNX Runtime runs on calibration inputs that
# are not among the evaluation inputs), then output fidelity against the
# original on the evaluation inputs (bench/fidelity/eval.js, no timing).
#
#   bash bench/fidelity_calib.sh [TASK] [BUDGETS...]
#
# TASK: isnet (default) | det | cls. BUDGETS default: 0.7 0.5 0.35.
# Environment: OUT (default bench/out/fidelity_calib), BIN (build/onnxtd),
# METHOD (tucker2), PHOTOS (skimage's data images; default: extracted from
# Debian's python3-skimage package as fidelity.sh does), EXTRA (more
# compress options for both runs).
# MODES (default "datafree moment calibrated"): "moment" uses the
# statistics without their channel means (moment whitening only, as files
# from before the means), "calibrated" the whole file (means: bias
# correction, covariance where exact).
# Results: $OUT/TASK.jsonl (one line per model) and a table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/fidelity_calib}
BIN=${BIN:-build/onnxtd}
METHOD=${METHOD:-tucker2}
EXTRA=${EXTRA:-}
PY=/usr/bin/python3
TASK=${1:-isnet}
shift || true
BUDGETS=${*:-0.7 0.5 0.35}
declare -A MODEL=(
  [isnet]=bench/models/isnet_fp16.onnx
  [det]=bench/models/ch_PP-OCRv4_det_infer.onnx
  [cls]=bench/models/ch_ppocr_mobile_v2.0_cls_infer.onnx
)
declare -A DIMS=(
  [isnet]=""
  [det]="--dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=640 --dim p2o.DynamicDimension.2=640"
  [cls]="--dim p2o.DynamicDimension.0=32 --dim p2o.DynamicDimension.1=48 --dim p2o.DynamicDimension.2=192"
)
src=${MODEL[$TASK]}
[ -x "$BIN" ] || { echo "fidelity_calib.sh: build $BIN first" >&2; exit 2; }
[ -f "$src" ] || { echo "fidelity_calib.sh: $src missing (bash bench/fetch_models.sh)" >&2; exit 2; }
mkdir -p "$OUT/models" "$OUT/cache"

# ---- inputs: evaluation (prep.py) and calibration (calib_prep.py)
if [ -z "${PHOTOS:-}" ]; then
  PHOTOS=$OUT/skim/usr/lib/python3/dist-packages/skimage/data
  if [ ! -d "$PHOTOS" ]; then
    ( cd "$OUT" && apt-get download python3-skimage >/dev/null && dpkg-deb -x python3-skimage_*.deb skim )
  fi
fi
[ -f "$OUT/eval/$TASK.json" ] || "$PY" bench/fidelity/prep.py --photos "$PHOTOS" --out "$OUT/eval" >&2
[ -f "$OUT/calib/$TASK.json" ] || "$PY" bench/fidelity/calib_prep.py --photos "$PHOTOS" --out "$OUT/calib" >&2

# ---- statistics: the model with Gram outputs, run on the calibration inputs
stats=$OUT/$TASK.stats.onnx
if [ ! -f "$stats" ]; then
  "$BIN" stats-model "$src" -o "$OUT/$TASK.gram.onnx"
  STATS_CMD="node tools/ort/calib_stats.js $OUT/$TASK.gram.onnx $stats --manifest $OUT/calib/$TASK.json --threads 2"
  echo "== $STATS_CMD" >&2
  /usr/bin/time -f 'calib_stats: %e s, peak RSS %M KB' $STATS_CMD >&2
fi

moment=$OUT/$TASK.stats_moment.onnx
"$PY" - "$stats" "$moment" <<'PYEOF'
import sys
import onnx
m = onnx.load(sys.argv[1])
keep = [t for t in m.graph.initializer if not t.name.startswith("mean/")]
del m.graph.initializer[:]
m.graph.initializer.extend(keep)
onnx.save(m, sys.argv[2])
PYEOF

res=$OUT/$TASK.jsonl
: > "$res"
for f in $BUDGETS; do
  for mode in ${MODES:-datafree moment calibrated}; do
    tag=$TASK-$METHOD-tp$f-$mode
    dst=$OUT/models/$tag.onnx
    rep=$OUT/models/$tag.report.json
    opt=""
    [ "$mode" = calibrated ] && opt="--act-stats $stats"
    [ "$mode" = moment ] && opt="--act-stats $moment"
    # shellcheck disable=SC2086
    cmd="$BIN compress $src -o $dst --method $METHOD --target-params $f $opt $EXTRA ${DIMS[$TASK]} --report $rep --quiet"
    echo "== $tag: $cmd" >&2
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    OPENBLAS_NUM_THREADS=1 $cmd
    secs=$(echo "$(date +%s.%N) - $t0" | bc)
    evcmd="node bench/fidelity/eval.js $src $dst --task $TASK --manifest $OUT/eval/$TASK.json --cache $OUT/cache --no-time --json"
    # shellcheck disable=SC2086
    ev=$($evcmd 2>/dev/null)
    "$PY" - "$tag" "$f" "$mode" "$cmd" "$evcmd" "$secs" "$rep" "$ev" >> "$res" <<'PYEOF'
import json, sys
tag, f, mode, cmd, evcmd, secs, rep, ev = sys.argv[1:]
r = json.load(open(rep))
t = r["totals"]
e = json.loads(ev)
print(json.dumps({"tag": tag, "budget": float(f), "mode": mode,
                  "compress_cmd": cmd, "eval_cmd": evcmd, "compress_s": float(secs),
                  "params_ratio": t["model_params_before"] / t["model_params_after"],
                  "replaced": sum(1 for l in r["layers"] if l["method"] != "keep"),
                  "eval": e}))
PYEOF
    tail -n 1 "$res" >&2
  done
done

"$PY" - "$res" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = [p["input"].split("_", 1)[-1] for p in rows[0]["eval"].get("per_input", [])] if rows else []
print("| budget | statistics | params | layers replaced | fidelity (mean / worst) | per input (%s) | compress s |" % ", ".join(names))
print("|---|---|---|---|---|---|---|")
for r in rows:
    e = r["eval"]
    if "iou_mean" in e:
        fid = "IoU %.4f / %.4f" % (e["iou_mean"], e["iou_min"])
        per = " ".join("%.3f" % p["iou"] for p in e["per_input"])
    else:
        fid = "agreement %.4f" % e["agreement"]
        per = ""
    print("| %.2f | %s | %.2fx fewer | %d | %s | %s | %.1f |" % (
        r["budget"], r["mode"], r["params_ratio"], r["replaced"], fid, per, r["compress_s"]))
PYEOF
