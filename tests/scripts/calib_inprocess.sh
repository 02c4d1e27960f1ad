#!/usr/bin/env bash
# Statistics gathered in the process (`compress --calib ... --save-stats`)
# are the Node route's (`stats-model` + tools/ort/calib_stats.js on the same
# inputs): every moment/, mean/ and count/ tensor, to 1e-6 relative (counts
# exactly), on the bundled small CNN and on PP-OCRv4 det (4 rendered
# 64x64 images, tests/tools/make_images.py). A saved file is taken by
# --act-stats and gives the same model as --calib. Without a usable ONNX
# Runtime (--ort-lib missing, not a library, too old) --calib exits 1 with
# a message naming what to install, and writes nothing.
#
#   bash tests/scripts/calib_inprocess.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
set -u
BIN=$1
SRCDIR=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PY=/usr/bin/python3
CAL=$SRCDIR/tools/ort/calib_stats.js
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$SRCDIR/tests/lsan-ort.supp:print_suppressions=0}"
unset ONNXTD_ORT_LIB
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# compare A.onnx B.onnx: the same tensor names, values to 1e-6 relative
compare() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys
import numpy as np
import onnx
from onnx import numpy_helper as nh
a = {t.name: nh.to_array(t) for t in onnx.load(sys.argv[1]).graph.initializer}
b = {t.name: nh.to_array(t) for t in onnx.load(sys.argv[2]).graph.initializer}
if sorted(a) != sorted(b):
    sys.exit("tensors differ: only in-process %s, only Node %s"
             % (sorted(set(a) - set(b)), sorted(set(b) - set(a))))
worst = 0.0
for k in sorted(a):
    x, y = a[k].astype(np.float64), b[k].astype(np.float64)
    if x.shape != y.shape:
        sys.exit("%s: shape %s in-process, %s Node" % (k, x.shape, y.shape))
    if k.startswith("count/"):
        if not np.array_equal(x, y):
            sys.exit("%s: %s in-process, %s Node" % (k, x, y))
        continue
    rel = np.abs(x - y).max() / max(np.abs(y).max(), 1e-30)
    worst = max(worst, rel)
    if not rel <= 1e-6:
        sys.exit("%s: relative difference %.3g" % (k, rel))
n = sum(k.startswith("moment/") for k in a)
print("%d tensors (%d moments), largest relative difference %.3g" % (len(a), n, worst))
PYEOF
}

# same_stats NAME MODEL INPUT_DIR [compress options]: --calib (no input held
# out) against stats-model + calib_stats.js on every .npy in INPUT_DIR
same_stats() {
  local name=$1 model=$2 dir=$3
  shift 3
  local npys=()
  for f in "$dir"/*.npy; do npys+=(--npy "$f"); done
  "$BIN" stats-model "$model" -o "$T/$name.cal.onnx" 2>/dev/null &&
    node "$CAL" "$T/$name.cal.onnx" "$T/$name.node.onnx" "${npys[@]}" --quiet ||
    { fail "$name: the Node route failed"; return; }
  "$BIN" compress "$model" -o "$T/$name.out.onnx" --calib "$dir" --holdout 0 \
    --save-stats "$T/$name.stats.onnx" --runs 0 --quiet "$@" ||
    { fail "$name: compress --calib failed"; return; }
  local r
  r=$(compare "$T/$name.stats.onnx" "$T/$name.node.onnx") &&
    echo "$name: $r" || fail "$name: $r"
}

"$PY" "$SRCDIR/tests/tools/make_images.py" "$T/cnn" 4 64 --seed 1 &&
  "$PY" "$SRCDIR/tests/tools/make_images.py" "$T/det" 4 64 --seed 2 --norm imagenet ||
  { echo "FAIL: making the images"; exit 1; }
same_stats small_cnn "$SRCDIR/tests/onnx_models/small_cnn.onnx" "$T/cnn" \
  --method tucker2 --ratio 0.3
same_stats det "$SRCDIR/bench/models/ch_PP-OCRv4_det_infer.onnx" "$T/det" \
  --method svd --ratio 0.5 --include 'conv2d_1[0-9][0-9]'

# the saved statistics, given back with --act-stats, make the same model
"$BIN" compress "$SRCDIR/tests/onnx_models/small_cnn.onnx" -o "$T/again.onnx" \
  --act-stats "$T/small_cnn.stats.onnx" --method tucker2 --ratio 0.3 --quiet &&
  cmp -s "$T/again.onnx" "$T/small_cnn.out.onnx" ||
  fail "--act-stats with the saved file: not the model --calib wrote"

# ---- no usable ONNX Runtime: exit 1, what to install, nothing written
HINT="install ONNX Runtime with 'bash scripts/setup.sh'"
refused() {  # WHAT TEXT [VAR=VALUE ...] -- [compress options ...]
  local what=$1 text=$2 envs=()
  shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  rm -f "$T/none.onnx" "$T/none.json" "$T/none.stats"
  env "${envs[@]}" "$BIN" compress "$SRCDIR/tests/onnx_models/small_cnn.onnx" \
    -o "$T/none.onnx" --calib "$T/cnn" --ratio 0.5 --report "$T/none.json" \
    --save-stats "$T/none.stats" "$@" 2> "$T/err.txt"
  local rc=$?
  [ $rc -eq 1 ] || fail "$what: exit $rc, wanted 1 ($(cat "$T/err.txt"))"
  grep -qF -- "$text" "$T/err.txt" || fail "$what: message lacks '$text': $(cat "$T/err.txt")"
  grep -qF -- "$HINT" "$T/err.txt" || fail "$what: no install hint: $(cat "$T/err.txt")"
  for f in none.onnx none.json none.stats; do
    [ ! -e "$T/$f" ] || fail "$what: $f was written"
  done
  echo "$what: $(head -c 160 "$T/err.txt")"
}
refused "missing --ort-lib" "/nonexistent/libonnxruntime.so.1: no such file" \
  -- --ort-lib /nonexistent/libonnxruntime.so.1
refused "missing ONNXTD_ORT_LIB" "ONNXTD_ORT_LIB=/nonexistent/x.so: no such file" \
  ONNXTD_ORT_LIB=/nonexistent/x.so --
LIBM=$(ldconfig -p | awk '/libm\.so\.6 .*x86-64/ {print $NF; exit}')
refused "not ONNX Runtime" "has no OrtGetApiBase" -- --ort-lib "${LIBM:-libm.so.6}"
# an ONNX Runtime too old for the C API version asked for: a stand-in
cat > "$T/old.c" <<'C'
#include <stddef.h>
#include <stdint.h>
static const void *get_api(uint32_t version) { (void)version; return NULL; }
static const char *version(void) { return "0.5.0"; }
static const struct { const void *(*get_api)(uint32_t); const char *(*v)(void); }
    base = {get_api, version};
const void *OrtGetApiBase(void) { return &base; }
C
cc -shared -fPIC -o "$T/libold.so" "$T/old.c" || fail "cannot build the stand-in"
refused "too old" "ONNX Runtime 0.5.0 does not offer C API version" \
  -- --ort-lib "$T/libold.so"

[ $fails -eq 0 ] && echo "calib_inprocess: ok" || echo "calib_inprocess: $fails failure(s)"
[ $fails -eq 0 ]
