#!/usr/bin/env bash
# The output-error bound on real models: `compress --calib` on calibration
# inputs (bench/fidelity/calib_prep.py, disjoint from the evaluation ones),
# with the compress options given, timed; then the task metric against the
# original on the evaluation inputs (bench/fidelity/eval.js: mask IoU for
# ISNet and det, agreement for cls; for det also the F1 of the text boxes
# DB's post-processing finds). A refusal is a row with its message.
#
#   bash bench/fidelity_bound.sh TASK TAG [COMPRESS OPTIONS...]
#   bash bench/fidelity_bound.sh isnet half-e05 --method tucker2 --target-params 0.5
#
# TASK: isnet | det | cls. Environment: CALIBSET (the calibration
# manifest calib_prep.py wrote, default TASK; det_photo: det's 4 rendered
# pages and 4 photo-like ones; det_hand: those and 4 hand-like ones;
# det_real: the 4 rendered pages and 10 real photographs of text from
# Debian's opencv-doc, extracted here unless OPENCV names its examples
# folder, evaluated also on OpenCV's 5 segmented-word photos; isnet_real:
# 8 other OpenCV photos of objects and scenes for ISNet; eval: the
# evaluation inputs themselves), CVEVAL (1: ISNet evaluated also on 10
# of OpenCV's photos of objects), OUT (bench/out/fidelity_bound),
# BIN (build/onnxtd), PHOTOS (skimage's data images; default: extracted
# from Debian's python3-skimage package, as fidelity.sh does).
# Results: one JSON line per run appended to $OUT/TASK.jsonl, printed too.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/fidelity_bound}
BIN=${BIN:-build/onnxtd}
TASK=$1
TAG=$2
shift 2
mkdir -p "$OUT/models"
. bench/fidelity/env.sh
CALIBSET=${CALIBSET:-$TASK}
if [ "$CALIBSET" = eval ]; then
  # the evaluation inputs themselves (in sample: with --holdout 0, the
  # bound is judged on what is evaluated; a ceiling, not a result)
  man=$OUT/eval/$TASK.json npy=$OUT/eval_npy/$TASK
else
  man=$OUT/calib/$CALIBSET.json npy=$OUT/calib_npy/$CALIBSET
fi
# OpenCV's photographs, held out of every calibration set: det_real's
# 5 segmented-word photos, or with CVEVAL=1 ISNet's 10 object photos
extra=""
[ "$CALIBSET" = det_real ] && extra=$OUT/calib/det_real_eval.json
[ "$TASK" = isnet ] && [ "${CVEVAL:-0}" = 1 ] && extra=$OUT/calib/isnet_cv_eval.json
cv=()
if [ -n "$extra" ] || [ "$CALIBSET" = isnet_real ]; then
  opencv_examples
  cv=(--opencv "$OPENCV")
fi
if [ "$CALIBSET" != eval ] && { [ ! -f "$man" ] || { [ -n "$extra" ] && [ ! -f "$extra" ]; }; }; then
  "$PY" bench/fidelity/calib_prep.py --photos "$PHOTOS" --out "$OUT/calib" "${cv[@]}" >&2
fi
split=""
[ "$TASK" = cls ] && split=--split   # one batch of 16 crops: 16 inputs
[ -d "$npy" ] || "$PY" bench/fidelity/manifest_npy.py "$man" "$src" "$npy" $split >&2

dst=$OUT/models/$TASK-$TAG.onnx
rep=$OUT/models/$TASK-$TAG.report.json
log=$OUT/models/$TASK-$TAG.log
rm -f "$dst" "$rep"
cmd="$BIN compress $src -o $dst --calib $npy --runs 0 --report $rep $*"
echo "== $cmd" >&2
t0=$(date +%s.%N)
rc=0
OPENBLAS_NUM_THREADS=1 $cmd 2> "$log" || rc=$?
secs=$(echo "$(date +%s.%N) - $t0" | bc)
ev=null
if [ $rc -eq 0 ]; then
  ev=$(node bench/fidelity/eval.js "$src" "$dst" --task "$TASK" --manifest "$OUT/eval/$TASK.json" \
       --cache "$OUT/cache" --no-time --json 2>/dev/null)
  if [ -n "$extra" ]; then
    ev2=$(node bench/fidelity/eval.js "$src" "$dst" --task "$TASK" --manifest "$extra" \
          --cache "$OUT/cache" --no-time --json 2>/dev/null)
    ev=$("$PY" -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); a["per_input"]+=b["per_input"]; a["cv_iou_mean"]=b["iou_mean"]; a["cv_iou_min"]=b["iou_min"]; print(json.dumps(a))' "$ev" "$ev2")
  fi
fi
"$PY" - "$TASK" "$TAG" "$cmd" "$rc" "$secs" "$rep" "$log" "$ev" <<'PYEOF' | tee -a "$OUT/$TASK.jsonl"
import json, os, sys
task, tag, cmd, rc, secs, rep, log, ev = sys.argv[1:]
row = {"task": task, "tag": tag, "cmd": cmd, "exit": int(rc), "seconds": float(secs)}
if int(rc):
    row["message"] = [l.strip() for l in open(log) if l.startswith("onnxtd:")][-1:]
    # a refusal writes no report; the progress lines say what was measured
    row["log_tail"] = [l.strip() for l in open(log) if l.startswith(("sensitivity", "bound"))][-2:]
else:
    r = json.load(open(rep))
    t, m = r["totals"], r["measured"]
    row["params_ratio"] = t["model_params_before"] / t["model_params_after"]
    row["held_out"] = {o["name"]: o["rel_l2"] for o in m["outputs"]}
    b = m.get("bound")
    if b:
        row["bound"] = {k: b.get(k) for k in ("max_rel_l2", "min_top1_agreement", "asked", "chosen", "model_runs", "seconds",
                                              "layers_factored", "layers_reused")}
        row["bound"]["steps"] = [(s["target"], s["max_rel_l2"], s["within"]) for s in b["steps"]]
    si = m.get("sensitivity")
    if si:
        row["sensitivity"] = {k: si[k] for k in ("groups", "inputs", "from_cache", "model_runs", "seconds", "weight_min", "weight_max")}
    e = json.loads(ev)
    row["eval"] = {k: e[k] for k in ("iou_mean", "iou_min", "agreement", "cv_iou_mean", "cv_iou_min") if k in e}
    if "iou_mean" in e:
        row["eval"]["per_input"] = {r["input"]: round(r["iou"], 4) for r in e["per_input"]}
    if "box_f1_mean" in e:   # det: the text boxes' F1 (eval.js's dbBoxes)
        row["eval"]["box_f1"] = {r["input"]: round(r["box_f1"], 3) for r in e["per_input"]}
print(json.dumps(row))
PYEOF
