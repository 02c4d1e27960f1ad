#!/usr/bin/env bash
# Held-out models: real trained models of kinds the allocation was not tuned
# on, judged by their task metric on real inputs, at every kind of budget.
#
#   bash bench/heldout.sh [TASK...]      # TASK: vad vad-if rec det cls face (default: all)
#
# Per task, the original's own metric, then `onnxtd compress` under each
# configuration of $CONFIGS (default: default calib calib-0.7 calib-0.5):
#   default      no options, no data (data-free, --ratio 0.5 per layer)
#   calib        --calib CAL, no budget: the smallest model within the
#                default bound (rel. L2 0.05, top-1 agreement 0.98)
#   calib-bound  --calib CAL --max-error 0.05 (the same, said explicitly)
#   calib-slower --calib CAL --allow-slower: the same without the speed
#                rule (what the bound alone reaches)
#   calib-agree  --calib CAL --max-error off --min-agreement 0.95: the
#                agreement alone bounds (rec: what CTC decoding reads);
#                calib-agree97 the same at 0.97
#   calib-plain  --calib CAL --softmax-metric off (a softmax head factored
#                in the plain output error, as before the metric)
#   calib-nobound --calib CAL --max-error off: no bound, what a budget
#                alone gives (calib-nobound+slower+t0.667)
#   calib-0.7    --calib CAL --target-params 0.7 (under the default bound)
#   calib-0.5    --calib CAL --target-params 0.5
#   calib-sens   --calib CAL --sensitivity measured (the default bound,
#                its 8 probe groups); calib-senslayers the same with
#                --sens-groups layers
#   calib-iou95  --calib CAL --max-error off --min-iou 0.95: a
#                probability map's IoU alone bounds (at 0.3 for det)
#   calib-judge  --calib CAL --max-error off --min-agreement off --judge
#                JUDGE --min-score MIN_SCORE (0.985): the task metric
#                itself bounds, on inputs of the judge's own (rec:
#                heldout/judge_rec.sh's char accuracy; vad:
#                heldout/judge_vad.sh's F1; no other task)
#   CONFIG+lL    any of them with --act-lambda L (calib+l1, calib-0.7+l1);
#                +slower adds --allow-slower, +refit --refit, +chain
#                --refit-chain, +tP
#                --target-params P
#                (calib-agree97+slower+t0.667); suffixes combine
# CAL (calibration inputs) and the evaluation inputs are disjoint (other
# sentences and voices, other text lines, other pages and photos). A row is
# the exit code (a refusal's message), the parameters, the deviation the
# tool measured on its held-out calibration inputs, and, for a written
# model, the task metric on the evaluation inputs against the original:
#   vad     Silero VAD v5 lifted to its 16 kHz branch (heldout/vad16k.py):
#           F1 / agreement of per-frame speech decisions (p > 0.5) against
#           the original's, on 8 clips of espeak-ng speech in noise, each run
#           chunk by chunk with the model's own state (heldout/task_eval.js);
#           calibrated on every chunk of 6 other clips, in order, with
#           --state state=stateN (the held-out last quarter measured with
#           each model carrying its own state)
#   vad-if  the same model as shipped (both rates behind an If)
#   rec     PP-OCRv4 rec: char accuracy (greedy CTC) on 48 rendered lines
#   det     PP-OCRv4 det: IoU of the maps binarised at 0.3 on 6 rendered pages
#           and skimage's page.png and text.png (bench/fidelity/eval.js)
#   cls     PP-OCR cls: top-1 agreement on 32 rendered crops
#   face    RetinaFace MobileNet-0.25: F1 of the faces found (probability
#           >= 0.5, box IoU >= 0.5) against the original's, on skimage's
#           astronaut and 7 scenes of real faces (lfw_subset) pasted on
#           photos; calibrated on camera and 11 scenes of other faces on
#           other photos (heldout/prep.py face)
# A written model whose metric is below 0.9 x the original's is marked
# COLLAPSED (exit 0 there is what must not happen silently); within 0.97 x
# is "kept". Results: $OUT/rows.jsonl (appended) and the table
# (heldout/table.py) on stdout.
#
# Environment: OUT (bench/out/heldout), BIN (build/onnxtd), CONFIGS,
# PHOTOS (skimage's data images; default: extracted from Debian's
# python3-skimage package as fidelity.sh does), CALIBSET (det and cls: a
# calibration set of bench/fidelity/calib_prep.py other than the task's
# own, e.g. det_aug's 32 pages; rows say CONFIG@CALIBSET).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/heldout}
BIN=${BIN:-build/onnxtd}
CONFIGS=${CONFIGS:-default calib calib-0.7 calib-0.5}
PY=/usr/bin/python3
TASKS=${*:-vad vad-if rec det cls face}
MODELS=bench/models
mkdir -p "$OUT/models"
bash bench/fetch_models.sh >/dev/null

photos() {
  if [ -z "${PHOTOS:-}" ]; then
    PHOTOS=$OUT/skim/usr/lib/python3/dist-packages/skimage/data
    [ -d "$PHOTOS" ] ||
      ( cd "$OUT" && apt-get download python3-skimage >/dev/null && dpkg-deb -x python3-skimage_*.deb skim )
  fi
}

# prepare TASK: sets SRC (model), CAL (calibration source), EVAL (metric command prefix)
prepare() {
  LOOP=""
  IOU_T=0.5   # where the task binarises its map (calib-iou95)
  JUDGE=""    # the task metric as a --judge command (calib-judge)
  case $1 in
    vad|vad-if)
      local d=$OUT/vad
      SRC=$MODELS/silero_vad_v5.onnx
      if [ "$1" = vad ]; then
        SRC=$OUT/models/silero_vad_v5_16k.onnx
        [ -f "$SRC" ] || "$PY" bench/heldout/vad16k.py $MODELS/silero_vad_v5.onnx "$SRC" >&2
      fi
      [ -f $d/eval/clips.json ] || "$PY" bench/heldout/prep.py audio $d/eval --clips 8 --seed 2 --pool eval >&2
      [ -f $d/calib/clips.json ] || "$PY" bench/heldout/prep.py audio $d/calib --clips 6 --seed 1 --pool calib >&2
      # every chunk, in order, with the state the original had there: the
      # held-out last quarter is measured with each model in its own loop
      [ -f $d/calib_seq/calib.txt ] ||
        node bench/heldout/task_eval.js vad $MODELS/silero_vad_v5.onnx --clips $d/calib \
          --write-calib $d/calib_seq --every 1 >&2
      # the judge's own clips (calib-judge): neither set above
      [ -f $d/val/clips.json ] || "$PY" bench/heldout/prep.py audio $d/val --clips 4 --seed 3 --pool calib >&2
      [ "$1" = vad ] && JUDGE="bench/heldout/judge_vad.sh"
      CAL=$d/calib_seq/calib.txt
      LOOP="--state state=stateN"
      EVAL="node bench/heldout/task_eval.js vad --json --clips $d/eval" ;;
    rec)
      local d=$OUT/rec
      SRC=$MODELS/ch_PP-OCRv4_rec_infer.onnx
      [ -f $d/eval/lines.json ] || "$PY" bench/heldout/prep.py rec $d/eval --lines 48 --seed 2 >&2
      [ -f $d/calib/lines.json ] || "$PY" bench/heldout/prep.py rec $d/calib --lines 24 --seed 1 >&2
      # the judge's own lines (calib-judge): neither set above
      [ -f $d/val/lines.json ] || "$PY" bench/heldout/prep.py rec $d/val --lines 24 --seed 3 >&2
      JUDGE="bench/heldout/judge_rec.sh"
      CAL=$d/calib/npy
      EVAL="node bench/heldout/task_eval.js rec --json --lines $d/eval --keys $MODELS/ppocr_keys_v1.txt" ;;
    face)
      local d=$OUT/face
      photos
      SRC=$MODELS/retinaface_mnet025.onnx
      [ -f $d/eval/faces.json ] ||
        "$PY" bench/heldout/prep.py face $d/eval --photos "$PHOTOS" --seed 2 --pool eval >&2
      [ -f $d/calib/faces.json ] ||
        "$PY" bench/heldout/prep.py face $d/calib --photos "$PHOTOS" --seed 1 --pool calib --scenes 11 >&2
      CAL=$d/calib/npy
      EVAL="node bench/heldout/task_eval.js face --json --images $d/eval" ;;
    det|cls)
      local d=$OUT/img split=""
      photos
      [ "$1" = det ] && SRC=$MODELS/ch_PP-OCRv4_det_infer.onnx || SRC=$MODELS/ch_ppocr_mobile_v2.0_cls_infer.onnx
      [ "$1" = det ] && IOU_T=0.3   # PaddleOCR's DB threshold
      [ -f $d/eval/$1.json ] || "$PY" bench/fidelity/prep.py --photos "$PHOTOS" --out $d/eval >&2
      [ -f $d/calib/$1.json ] || "$PY" bench/fidelity/calib_prep.py --photos "$PHOTOS" --out $d/calib >&2
      [ "$1" = cls ] && split=--split   # one batch of 16 crops: 16 inputs
      local set=${CALIBSET:-$1}
      [ -f $d/calib/$set.json ] || { echo "heldout.sh: no calibration set $d/calib/$set.json" >&2; exit 2; }
      [ -d $d/calib_npy/$set ] ||
        "$PY" bench/fidelity/manifest_npy.py $d/calib/$set.json "$SRC" $d/calib_npy/$set $split >&2
      CAL=$d/calib_npy/$set
      EVAL="node bench/fidelity/eval.js --task $1 --manifest $d/eval/$1.json --cache $OUT/cache --no-time --json" ;;
    *) echo "heldout.sh: unknown task '$1'" >&2; exit 2 ;;
  esac
}

options() {  # options CONFIG[+SUFFIX...] -> compress options
  local extra="" x suf=()
  [[ $1 == *+* ]] && IFS=+ read -r -a suf <<< "${1#*+}"
  for x in "${suf[@]}"; do
    case $x in
      slower) extra+=" --allow-slower" ;;
      refit) extra+=" --refit" ;;
      chain) extra+=" --refit-chain" ;;
      t*) extra+=" --target-params ${x#t}" ;;
      l*) extra+=" --act-lambda ${x#l}" ;;
      *) echo "heldout.sh: unknown suffix '+$x'" >&2; exit 2 ;;
    esac
  done
  echo "$(base_options "${1%%+*}")$extra"
}

base_options() {
  case $1 in
    default) echo "" ;;
    calib) echo "--calib $CAL $LOOP" ;;
    calib-bound) echo "--calib $CAL $LOOP --max-error 0.05" ;;
    calib-slower) echo "--calib $CAL $LOOP --allow-slower" ;;
    calib-agree) echo "--calib $CAL $LOOP --max-error off --min-agreement 0.95" ;;
    calib-agree97) echo "--calib $CAL $LOOP --max-error off --min-agreement 0.97" ;;
    calib-plain) echo "--calib $CAL $LOOP --softmax-metric off" ;;
    calib-nobound) echo "--calib $CAL $LOOP --max-error off" ;;
    calib-iou95) echo "--calib $CAL $LOOP --max-error off --min-iou 0.95 --iou-threshold $IOU_T" ;;
    calib-judge) [ -n "${JUDGE:-}" ] || { echo "heldout.sh: no judge for this task" >&2; exit 2; }
                 echo "--calib $CAL $LOOP --max-error off --min-agreement off --judge $JUDGE --min-score ${MIN_SCORE:-0.985}" ;;
    calib-sens) echo "--calib $CAL $LOOP --sensitivity measured" ;;
    calib-senslayers) echo "--calib $CAL $LOOP --sensitivity measured --sens-groups layers" ;;
    calib-0.7) echo "--calib $CAL $LOOP --target-params 0.7" ;;
    calib-0.5) echo "--calib $CAL $LOOP --target-params 0.5" ;;
    *) echo "heldout.sh: unknown configuration '$1'" >&2; exit 2 ;;
  esac
}

row() {  # row TASK CONFIG
  local task=$1 cfg=$2 dst rep log cmd rc=0 t0 secs ev=null label
  # another calibration set than the task's own: said in the row
  label=$cfg
  [ "$cfg" != original ] && [ -n "${CALIBSET:-}" ] && [ "$CALIBSET" != "$task" ] && label="$cfg@$CALIBSET"
  dst=$OUT/models/$task-$label.onnx rep=$OUT/models/$task-$label.json log=$OUT/models/$task-$label.log
  rm -f "$dst" "$rep"
  if [ "$cfg" = original ]; then
    cmd="(the original)"; secs=0
    ev=$($EVAL "$SRC" "$SRC" 2>/dev/null)
  else
    cmd="$BIN compress $SRC -o $dst --report $rep $(options "$cfg")"
    echo "== $cmd" >&2
    t0=$(date +%s.%N)
    OPENBLAS_NUM_THREADS=1 $cmd 2> "$log" || rc=$?
    secs=$(echo "$(date +%s.%N) - $t0" | bc)
    [ $rc -eq 0 ] && ev=$($EVAL "$SRC" "$dst" 2>/dev/null)
  fi
  "$PY" bench/heldout/table.py --row "$task" "$label" "$cmd" "$rc" "$secs" "$rep" "$log" "$ev" |
    tee -a "$OUT/rows.jsonl" >&2
}

start=$(date +%s)
for task in $TASKS; do
  prepare "$task"
  for cfg in original $CONFIGS; do
    row "$task" "$cfg"
  done
done
echo "heldout.sh: $(( $(date +%s) - start )) s" >&2
"$PY" bench/heldout/table.py --table "$OUT/rows.jsonl" --last
