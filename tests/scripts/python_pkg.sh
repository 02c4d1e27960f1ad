#!/bin/bash
# The Python package over the built library: installs python/ offline into a
# temp folder with the library bundled, runs tests/python/test_onnxtd.py
# (torch export -> compress -> onnx.checker -> eval in ONNX Runtime), then
# `python3 -m onnxtd`. Builds nothing: libonnxtd.so is the one beside $1.
#
# Under the ASan build, libonnxtd.so needs the ASan runtime loaded first,
# before Python's own allocations: LD_PRELOAD of gcc's libasan, with
# libstdc++ beside it (torch throws C++ exceptions; ASan's __cxa_throw
# interceptor must find the real one at start-up, not after a dlopen).
# Leak detection is off for that process, as CPython keeps its objects
# to exit.
set -u
BIN=$(readlink -f "$1")
SRC=$2
PY=/usr/bin/python3
BUILD=$(dirname "$BIN")
LIB=$BUILD/libonnxtd.so
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

[ -f "$LIB" ] || fail "no $LIB beside $BIN (target onnxtd_shared)"
unset ONNXTD_LIB ONNXTD_CLI
if nm -D "$LIB" | grep -q ' __asan_init'; then
  export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so.6)"
  export ASAN_OPTIONS=detect_leaks=0
  echo "ASan build: LD_PRELOAD=$LD_PRELOAD"
fi

# pip builds in the source folder it is given: install from a copy.
cp -r "$SRC/python" "$T/pkg"
ONNXTD_LIB=$LIB $PY -m pip install --quiet --no-index --no-deps \
  --no-build-isolation --target "$T/site" "$T/pkg" >"$T/pip.log" 2>&1 ||
  { cat "$T/pip.log"; fail "pip install of python/"; }
[ -f "$T/site/onnxtd/libonnxtd.so.0" ] || fail "the library was not bundled"

# the installed package finds its bundled library (no ONNXTD_LIB)
got=$(cd "$T" && PYTHONPATH=$T/site $PY -c \
  'import onnxtd; print(onnxtd.library_path())') || fail "import onnxtd"
[ "$got" = "$T/site/onnxtd/libonnxtd.so.0" ] || fail "loaded '$got'"

(cd "$T" && PYTHONPATH=$T/site nice -n 5 $PY "$SRC/tests/python/test_onnxtd.py" "$T") ||
  fail "tests/python/test_onnxtd.py"

# python3 -m onnxtd runs the onnxtd beside the library: the copy bundled
# at install, or (source tree, ONNXTD_LIB) the build tree's.
[ -x "$T/site/onnxtd/onnxtd" ] || fail "the onnxtd command was not bundled"
out=$(cd "$T" && PYTHONPATH=$T/site $PY -m onnxtd info "$T/net.onnx" --json) ||
  fail "python3 -m onnxtd info"
echo "$out" | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["parameters"]["total"] == 56970, d["parameters"]' ||
  fail "python3 -m onnxtd info: $out"
(cd "$T" && ONNXTD_LIB=$LIB PYTHONPATH=$SRC/python $PY -m onnxtd info "$T/nope.onnx" \
  >/dev/null 2>"$T/err"); rc=$?
[ $rc -eq 1 ] && grep -q "nope.onnx" "$T/err" || fail "a missing file: exit $rc, $(cat "$T/err")"
echo "python_pkg: all passed"
exit 0
