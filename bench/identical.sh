#!/usr/bin/env bash
# Do two onnxtd binaries compress alike? Runs OLD_BIN and NEW_BIN over a
# fixed matrix of models x methods x budgets and compares, per run, the exit
# code, stderr (--quiet: a refusal's message), the written model byte for
# byte (cmp) and the --report JSON. The JSON is compared with its "seconds"
# fields (wall-clock time per layer and in total) removed; every other field,
# the cost model's estimated latencies included, must match exactly.
#
#   nice -n 5 bash bench/identical.sh OLD_BIN NEW_BIN [OUTDIR]
#
# Each binary's results are kept in OUTDIR/runs-HASH, one directory per run,
# and reused while the binary and the inputs are unchanged, so rerunning
# against the same baseline only runs a new NEW_BIN. To run both binaries at
# once: `identical.sh --runs-only OLD_BIN OUTDIR & identical.sh --runs-only
# NEW_BIN OUTDIR; wait`, then the usual command only compares. Exit 0: every run identical;
# 1: some run differs (listed); 2: usage or setup error.
set -u
RUNS_ONLY=0
if [ "${1:-}" = --runs-only ]; then
  # fill OUTDIR's results for one binary and stop (to run the two binaries
  # at the same time, then compare with the usual command)
  RUNS_ONLY=1
  shift
  set -- "$1" "$1" "${2:-}"
fi
if [ $# -lt 2 ] || [ -z "${3-x}" ]; then
  echo "usage: $0 OLD_BIN NEW_BIN [OUTDIR]  or  $0 --runs-only BIN OUTDIR" >&2
  exit 2
fi
OLD=$(readlink -f "$1")
NEW=$(readlink -f "$2")
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${3:-$(mktemp -d)}
mkdir -p "$OUT" || exit 2
OUT=$(readlink -f "$OUT")
MODELS=$SRC/bench/models
CNN=$SRC/tests/onnx_models/small_cnn.onnx
for f in "$OLD" "$NEW" "$CNN" "$MODELS/ch_PP-OCRv4_det_infer.onnx"; do
  [ -e "$f" ] || { echo "missing: $f" >&2; exit 2; }
done

# The matrix: one line per run, "NAME MODEL ARGS...".
matrix() {
  local m
  for model in small_cnn:$CNN det:$MODELS/ch_PP-OCRv4_det_infer.onnx \
               rec:$MODELS/ch_PP-OCRv4_rec_infer.onnx \
               cls:$MODELS/ch_ppocr_mobile_v2.0_cls_infer.onnx; do
    local tag=${model%%:*} path=${model#*:}
    for m in auto tucker2 cp svd tr rsdtr; do
      echo "$tag-$m-ratio0.5 $path --method $m --ratio 0.5"
      echo "$tag-$m-tol0.3 $path --method $m --tol 0.3"
      echo "$tag-$m-params0.6 $path --method $m --target-params 0.6"
      echo "$tag-$m-flops0.6 $path --method $m --target-flops 0.6"
      case $m in
        # a refusal names the first layer that failed, and with several
        # threads which layers have failed when the pool stops is timing
        tr|rsdtr) echo "$tag-$m-rank4-threads1 $path --method $m --rank 4 --threads 1" ;;
        *) echo "$tag-$m-rank4 $path --method $m --rank 4" ;;
      esac
    done
  done
  # activation statistics: the small CNN's, from random calibration inputs
  for m in auto tucker2 cp svd tr rsdtr; do
    echo "small_cnn-$m-stats-ratio0.5 $CNN --method $m --ratio 0.5 --act-stats @STATS@"
    echo "small_cnn-$m-stats-params0.6 $CNN --method $m --target-params 0.6 --act-stats @STATS@"
  done
  # ISNet: 5-40 s a run; CP and auto under --tol take minutes and are left out
  local isnet=$MODELS/isnet_fp16.onnx
  for m in tucker2 svd tr rsdtr auto; do
    echo "isnet-$m-params0.5 $isnet --method $m --target-params 0.5"
  done
  echo "isnet-tucker2-ratio0.5 $isnet --method tucker2 --ratio 0.5"
  # VGG16 from bench/make_vgg16.py (torchvision's export when torch is
  # installed, else the same layer shapes with seeded NumPy weights)
  echo "vgg16-tucker2-params0.5 $OUT/vgg16.onnx --method tucker2 --target-params 0.5"
  echo "vgg16-svd-ratio0.5 $OUT/vgg16.onnx --method svd --ratio 0.5"
}

# Statistics for --act-stats, made once per OUTDIR with the old binary's
# stats-model and ONNX Runtime on seeded random inputs.
STATS=$OUT/stats.onnx
if [ ! -s "$STATS" ]; then
  "$OLD" stats-model "$CNN" -o "$OUT/cal.onnx" || exit 2
  node "$SRC/tools/ort/calib_stats.js" "$OUT/cal.onnx" "$STATS" --random 6 \
    --seed 1 --quiet || { echo "calib_stats.js failed" >&2; exit 2; }
fi
if [ ! -s "$OUT/vgg16.onnx" ]; then
  /usr/bin/python3 "$SRC/bench/make_vgg16.py" "$OUT/vgg16.onnx" >/dev/null ||
    { echo "make_vgg16.py failed" >&2; exit 2; }
fi
/usr/bin/python3 -c 'import torch' 2>/dev/null ||
  echo "note: python3 torch is not installed: VGG16 is make_vgg16.py's NumPy build"

# One run of BIN into DIR/NAME: exit code, stderr, model, report.
run_one() {
  local bin=$1 dir=$2 name=$3 model=$4
  shift 4
  local d=$dir/$name
  rm -rf "$d" && mkdir -p "$d"
  (cd "$d" && "$bin" compress "$model" -o model.onnx --report report.json \
     --quiet "${@//@STATS@/$STATS}" 2> stderr; echo $? > rc)
  # wall-clock fields are the only ones allowed to differ
  if [ -e "$d/report.json" ]; then
    sed -E 's/"seconds":[-+0-9.eE]+/"seconds":_/g' "$d/report.json" > "$d/report.cmp"
  fi
}

# reuse: only runs whose directory (named for the run) lacks a result
run_all() {
  local bin=$1 dir=$2 reuse=$3
  matrix | while read -r name model args; do
    [ "$reuse" = 1 ] && [ -e "$dir/$name/rc" ] && continue
    # shellcheck disable=SC2086
    run_one "$bin" "$dir" "$name" "$model" $args
  done
}

# Results are kept per binary (by its hash), one directory per run, and
# reused while the binary and the inputs are unchanged.
results_of() {
  local bin=$1 key
  key=$(sha256sum "$bin" "$CNN" "$STATS" "$OUT/vgg16.onnx" | sha256sum | cut -c1-16)
  echo "$OUT/runs-$key"
}
OLD_DIR=$(results_of "$OLD")
NEW_DIR=$(results_of "$NEW")
run_all "$OLD" "$OLD_DIR" 1
[ "$RUNS_ONLY" = 1 ] && exit 0
run_all "$NEW" "$NEW_DIR" 1

diffs=0 runs=0
while read -r name _; do
  runs=$((runs + 1))
  o=$OLD_DIR/$name n=$NEW_DIR/$name bad=
  cmp -s "$o/rc" "$n/rc" || bad="$bad exit($(cat "$o/rc")->$(cat "$n/rc"))"
  cmp -s "$o/stderr" "$n/stderr" || bad="$bad stderr"
  for f in model.onnx report.cmp; do
    if [ -e "$o/$f" ] || [ -e "$n/$f" ]; then
      cmp -s "$o/$f" "$n/$f" || bad="$bad $f"
    fi
  done
  if [ -n "$bad" ]; then
    echo "DIFF $name:$bad"
    diffs=$((diffs + 1))
  fi
done < <(matrix)
written=$(ls "$NEW_DIR"/*/model.onnx 2>/dev/null | wc -l)
echo "$runs runs ($written models written), $diffs differ; outputs in $OUT"
[ "$diffs" -eq 0 ]
