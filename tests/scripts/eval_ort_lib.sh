#!/usr/bin/env bash
# Finding ONNX Runtime (run by ctest):
#   bash tests/scripts/eval_ort_lib.sh BINARY SRCDIR
#
# A missing library (--ort-lib or ONNXTD_ORT_LIB), a file that is not a
# library, a library without OrtGetApiBase (libm) and an ORT that offers
# no C API version 1 (a stand-in built here) each exit 1 with nothing on
# stdout and a message naming the file and what to install; the library
# named by --ort-lib or ONNXTD_ORT_LIB is the one used.
set -u
BIN="$1"
SRCDIR="$2"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$SRCDIR/tests/lsan-ort.supp:print_suppressions=0}"
unset ONNXTD_ORT_LIB
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
HINT="install ONNX Runtime with 'bash scripts/setup.sh'"
D=/usr/share/libonnx-testdata/data/node/test_add
ORTLIB="$SRCDIR/tools/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
expect() {  # expect WHAT RC TEXT COMMAND...
  local what=$1 want=$2 text=$3
  shift 3
  "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  [ "$rc" = "$want" ] || bad "$what: exit $rc, expected $want ($(cat "$T/err"))"
  [ -z "$text" ] || grep -qF -- "$text" "$T/err" || bad "$what: message lacks '$text': $(cat "$T/err")"
  [ "$want" = 0 ] || [ ! -s "$T/out" ] || bad "$what: printed a report"
}
run() { "$BIN" eval "$D/model.onnx" --inputs "$D" --runs 0 "$@"; }

expect "missing --ort-lib" 1 "/nonexistent/libonnxruntime.so.1: no such file; $HINT" \
  run --ort-lib /nonexistent/libonnxruntime.so.1
grep -qF -- "--ort-lib or ONNXTD_ORT_LIB" "$T/err" || bad "hint lacks the options: $(cat "$T/err")"
expect "missing ONNXTD_ORT_LIB" 1 "ONNXTD_ORT_LIB=/nonexistent/x.so: no such file; $HINT" \
  env ONNXTD_ORT_LIB=/nonexistent/x.so "$BIN" eval "$D/model.onnx" --inputs "$D"
echo "not a library" > "$T/libfake.so"
expect "not a library" 1 "$T/libfake.so" run --ort-lib "$T/libfake.so"
grep -qF "$HINT" "$T/err" || bad "not a library: no hint: $(cat "$T/err")"
LIBM=$(ldconfig -p | awk '/libm\.so\.6 .*x86-64/ {print $NF; exit}')
[ -n "$LIBM" ] || LIBM=libm.so.6
expect "libm" 1 "$LIBM: has no OrtGetApiBase, so it is not ONNX Runtime; $HINT" \
  run --ort-lib "$LIBM"

# An ONNX Runtime too old for the C API this tool asks for.
cat > "$T/old.c" <<'C'
#include <stddef.h>
#include <stdint.h>
static const void *get_api(uint32_t version) { (void)version; return NULL; }
static const char *version(void) { return "0.5.0"; }
static const struct { const void *(*get_api)(uint32_t); const char *(*v)(void); }
    base = {get_api, version};
const void *OrtGetApiBase(void) { return &base; }
C
cc -shared -fPIC -o "$T/libold.so" "$T/old.c" || bad "cannot build the stand-in"
expect "too old" 1 "$T/libold.so: ONNX Runtime 0.5.0 does not offer C API version 1" \
  run --ort-lib "$T/libold.so"

# The library named is the one loaded and reported.
cp "$ORTLIB" "$T/libonnxruntime.so.1"
expect "--ort-lib" 0 "" run --ort-lib "$T/libonnxruntime.so.1"
grep -qF "ONNX Runtime 1." "$T/out" && grep -qF "($T/libonnxruntime.so.1)" "$T/out" ||
  bad "--ort-lib not reported: $(cat "$T/out")"
expect "ONNXTD_ORT_LIB" 0 "" env ONNXTD_ORT_LIB="$T/libonnxruntime.so.1" \
  "$BIN" eval "$D/model.onnx" --inputs "$D" --runs 0 --json
grep -qF "\"library\":\"$T/libonnxruntime.so.1\"" "$T/out" || bad "env not used: $(cat "$T/out")"

[ "$fail" = 0 ] && echo "eval_ort_lib: ok" && exit 0
exit 1
