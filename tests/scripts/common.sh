# The start every script test shares; sourced first thing, with the
# test's own arguments:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
#
# $1 is the onnxtd binary, $2 the source tree (default: the tree this file
# is in). Sets BIN, SRCDIR, PY (the Python with onnx and numpy), a private
# temporary folder T removed on exit, and the failure count: fail and bad
# (the same) print "FAIL: ..." and count; td_done NAME prints the verdict
# and exits 0 when nothing failed, else 1. The td_need_* helpers check
# what some tests need; a missing dependency is a failure, not a skip
# (everything is installed where the suite runs).
set -u
BIN=${1:?usage: TEST.sh ONNXTD_BINARY [SRCDIR]}
SRCDIR=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
bad() { fail "$@"; }

td_done() {
  if [ "$fails" -eq 0 ]; then echo "$1: ok"; exit 0; fi
  echo "$1: $fails failure(s)"
  exit 1
}

# json FILE EXPR: prints the Python expression EXPR over the JSON in FILE (r)
json() { "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# within VALUE TARGET: 0.98 x TARGET <= VALUE <= TARGET (a budget met, not
# overshot by more than the allocation's rounding)
within() {
  "$PY" -c "import sys; v,t=map(float,sys.argv[1:]); sys.exit(0 if 0.98*t <= v <= t + 1e-12 else 1)" "$1" "$2"
}

# td_misuse MODEL TEXT OPTIONS...: `compress MODEL OPTIONS` is a usage
# error: exit 2, a message holding TEXT, and nothing written.
td_misuse() {
  local model=$1 text=$2
  shift 2
  rm -f "$T/x.onnx"
  "$BIN" compress "$model" -o "$T/x.onnx" "$@" 2> "$T/err.txt"
  local rc=$?
  [ $rc -eq 2 ] || fail "$*: exit $rc, wanted 2"
  grep -qF -- "$text" "$T/err.txt" || fail "$*: message lacks '$text': $(cat "$T/err.txt")"
  [ ! -e "$T/x.onnx" ] || fail "$*: an output was written"
}

# ONNX Runtime in the process (--calib, eval, end-of-compress timing): the
# library found the default way, and its one-time allocations suppressed
# in the ASan build's leak check.
td_use_ort() {
  export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$SRCDIR/tests/lsan-ort.supp:print_suppressions=0}"
  unset ONNXTD_ORT_LIB
}

# onnxruntime-node in tools/ort, for ort_compare.js and the other tools
td_need_node_ort() {
  (cd "$SRCDIR/tools/ort" && node -e 'require("onnxruntime-node")') >/dev/null 2>&1 ||
    { echo "FAIL: onnxruntime-node is not installed (tools/ort)"; exit 1; }
}

# td_worst_rel_l2 ORIG COMP SEED...: the largest rel. L2 of COMP's first
# output against ORIG's over ort_compare.js's random inputs of the seeds
# given (seeds the calibration did not use: held out)
td_worst_rel_l2() {
  local orig=$1 comp=$2 worst=0 e seed
  shift 2
  for seed in "$@"; do
    e=$(node "$SRCDIR/tools/ort/ort_compare.js" "$orig" "$comp" --seed "$seed" --rtol 1 --json |
        "$PY" -c 'import json, sys; print(json.load(sys.stdin)["comparisons"][0]["outputs"][0]["rel_l2"])') ||
      return 1
    worst=$("$PY" -c "print(max($worst, $e))")
  done
  echo "$worst"
}

# td_strip_means IN OUT: the statistics file IN without its channel means
# (mean/X), as files written before stats-model had the sums: moment
# whitening only, no bias correction
td_strip_means() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys
import onnx
m = onnx.load(sys.argv[1])
keep = [t for t in m.graph.initializer if not t.name.startswith("mean/")]
assert len(keep) < len(m.graph.initializer), "no means in " + sys.argv[1]
del m.graph.initializer[:]
m.graph.initializer.extend(keep)
onnx.save(m, sys.argv[2])
PYEOF
}

# The bench models (bench/models), fetched when one of FILES is missing.
td_need_bench_models() {
  local f
  for f in "$@"; do
    [ -f "$SRCDIR/bench/models/$f" ] && continue
    bash "$SRCDIR/bench/fetch_models.sh" >/dev/null 2>&1 ||
      { echo "FAIL: cannot fetch the bench models"; exit 1; }
    return
  done
}
