#!/usr/bin/env bash
# ONNX Runtime's telemetry stays off: from 1.29 on, its Linux builds (the
# pinned onnxruntime-node's 1.30.0 among them) write a device id and an
# event cache under ~/.cache/Microsoft, mat-debug-PID.log and .ses in
# $TMPDIR, and upload usage events, unless ORT_DISABLE_TELEMETRY (1.29-1.30)
# or ORT_TELEMETRY_DISABLED (later) is set before ORT initialises. onnxtd
# sets both when the user set neither, and so do the node tools. Each run
# here, with a private HOME and TMPDIR and no CI variable (ORT stays quiet
# in CI by itself, which would hide the check), must leave both empty:
# `onnxtd eval`, `compress --calib` (every model it measures), the Python
# package's eval, and tools/ort/ort_compare.js.
#
#   bash tests/scripts/ort_telemetry.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
td_use_ort
td_need_node_ort

M=$SRCDIR/tests/onnx_models/small_cnn.onnx
"$PY" "$SRCDIR/tests/tools/make_images.py" "$T/calib" 4 64 --seed 3 >/dev/null ||
  { echo "FAIL: making the inputs"; exit 1; }
mkdir "$T/home" "$T/tmp" "$T/out"
unset ORT_DISABLE_TELEMETRY ORT_TELEMETRY_DISABLED CI TF_BUILD GITHUB_ACTIONS \
  GITLAB_CI CIRCLECI TRAVIS JENKINS_URL CODEBUILD_BUILD_ID BUILDKITE \
  TEAMCITY_VERSION ORT_RUNNING_UNIT_TESTS

# untouched WHAT: HOME and TMPDIR are still empty
untouched() {
  local left
  left=$(cd "$T" && find home tmp -mindepth 1 | head -5)
  [ -z "$left" ] || fail "$1 left files: $(echo $left)"
  rm -rf "$T/home" "$T/tmp"
  mkdir "$T/home" "$T/tmp"
}
run() { HOME=$T/home TMPDIR=$T/tmp "$@"; }

run "$BIN" eval "$M" "$M" --inputs "$T/calib" --runs 2 > "$T/eval.txt" 2>&1 ||
  fail "eval: $(cat "$T/eval.txt")"
untouched "onnxtd eval"
run "$BIN" compress "$M" -o "$T/out/c.onnx" --calib "$T/calib" --holdout 2 \
  --max-error 0.1 --runs 2 > "$T/c.txt" 2>&1 || fail "compress --calib: $(cat "$T/c.txt")"
grep -qF "ONNX Runtime" "$T/c.txt" || fail "compress --calib did not measure: $(cat "$T/c.txt")"
untouched "onnxtd compress --calib"
# the Python package over the library beside BIN (as python_pkg.sh)
LIB=$(dirname "$(readlink -f "$BIN")")/libonnxtd.so
[ -f "$LIB" ] || fail "no $LIB beside $BIN"
pre=
if nm -D "$LIB" | grep -q ' __asan_init'; then
  pre="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so.6)"
fi
run env PYTHONPATH="$SRCDIR/python" ONNXTD_LIB="$LIB" LD_PRELOAD="$pre" \
  ASAN_OPTIONS=detect_leaks=0 "$PY" - "$M" "$T/calib" > "$T/py.txt" 2>&1 <<'PYEOF' || fail "Python eval: $(cat "$T/py.txt")"
import sys, onnxtd
ok, r = onnxtd.eval(sys.argv[1], sys.argv[1], inputs=sys.argv[2], runs=1)
assert ok and r["outputs"][0]["rel_l2"] == 0, r
PYEOF
untouched "the Python package's eval"
run node "$SRCDIR/tools/ort/ort_compare.js" "$M" "$T/out/c.onnx" --rtol 1 > "$T/node.txt" 2>&1 ||
  fail "ort_compare.js: $(cat "$T/node.txt")"
untouched "tools/ort/ort_compare.js"

# the user's own setting is theirs: set to either name, onnxtd sets neither
# (seen through a judge, which inherits onnxtd's environment)
J='sh -c "echo \"\${ORT_DISABLE_TELEMETRY-unset}/\${ORT_TELEMETRY_DISABLED-unset}\" >&2; echo 1" sh'
run env ORT_TELEMETRY_DISABLED=1 "$BIN" compress "$M" -o "$T/out/j.onnx" --calib "$T/calib" \
  --holdout 0 --max-error off --min-agreement off --judge "$J" --min-score 0.5 --runs 0 \
  > "$T/j.txt" 2>&1 || fail "the user's ORT_TELEMETRY_DISABLED: $(cat "$T/j.txt")"
grep -qx "unset/1" "$T/j.txt" || fail "the user's ORT_TELEMETRY_DISABLED=1: the judge saw $(grep / "$T/j.txt" | head -1)"
run "$BIN" compress "$M" -o "$T/out/j.onnx" --calib "$T/calib" \
  --holdout 0 --max-error off --min-agreement off --judge "$J" --min-score 0.5 --runs 0 \
  > "$T/j.txt" 2>&1 || fail "the judge: $(cat "$T/j.txt")"
grep -qx "1/1" "$T/j.txt" || fail "neither set: the judge saw $(grep / "$T/j.txt" | head -1)"
td_done ort_telemetry
