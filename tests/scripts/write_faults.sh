#!/usr/bin/env bash
# Faults while writing (run by ctest):  bash tests/scripts/write_faults.sh BINARY SRCDIR
#
# On a 64 KiB tmpfs (disk full) and a read-only tmpfs: convert and compress
# exit 1 naming the path, an existing output stays byte-identical, no temp
# file is left, the input is untouched; a sidecar that does not fit leaves
# neither file. Needs root to mount (skip 77 otherwise).
set -u
BIN="$1"
SRCDIR="$2"
MODEL="$SRCDIR/tests/onnx_models/small_cnn.onnx"   # 275 KB: does not fit in 64 KiB
T=$(mktemp -d)
cleanup() { umount "$T/full" "$T/ro" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
mkdir -p "$T/full" "$T/ro"
mount -t tmpfs -o size=64k tmpfs "$T/full" 2>/dev/null || { echo "SKIP: cannot mount tmpfs"; exit 77; }
mount -t tmpfs -o ro,size=64k tmpfs "$T/ro" 2>/dev/null || { echo "SKIP: cannot mount tmpfs"; exit 77; }
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
in_sum=$(sha256sum "$MODEL" | cut -d' ' -f1)
echo "previous output" > "$T/full/out.onnx"
old_sum=$(sha256sum "$T/full/out.onnx" | cut -d' ' -f1)

expect_fail() {  # expect_fail WHAT PATH-IN-MESSAGE COMMAND...
  local what=$1 where=$2
  shift 2
  "$@" 2>"$T/err"
  local rc=$?
  [ "$rc" = 1 ] || bad "$what: exit $rc, expected 1"
  grep -q "$where" "$T/err" || bad "$what: message does not name $where: $(cat "$T/err")"
}
expect_fail "disk full, convert" "$T/full/out.onnx" "$BIN" convert "$MODEL" -o "$T/full/out.onnx"
expect_fail "disk full, compress" "$T/full/out.onnx" "$BIN" compress "$MODEL" -o "$T/full/out.onnx" --quiet --allow-slower
[ "$(sha256sum "$T/full/out.onnx" | cut -d' ' -f1)" = "$old_sum" ] || bad "existing output changed"
expect_fail "read-only folder" "$T/ro/out.onnx" "$BIN" convert "$MODEL" -o "$T/ro/out.onnx"
expect_fail "missing folder" "$T/nowhere/out.onnx" "$BIN" convert "$MODEL" -o "$T/nowhere/out.onnx"
rm -f "$T/full/out.onnx"
expect_fail "sidecar does not fit" "$T/full" "$BIN" convert "$MODEL" -o "$T/full/m.onnx" \
  --external-data w.bin --size-threshold 0
[ ! -e "$T/full/m.onnx" ] && [ ! -e "$T/full/w.bin" ] || bad "a partial model or sidecar was left"
left=$(ls -A "$T/full" "$T/ro")
[ -z "$(ls -A "$T/full")" ] || bad "files left behind: $left"
[ "$(sha256sum "$MODEL" | cut -d' ' -f1)" = "$in_sum" ] || bad "input changed"
[ "$fail" -eq 0 ] && echo "write faults: all checks passed"
[ "$fail" -eq 0 ]
