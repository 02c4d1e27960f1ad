#!/usr/bin/env bash
# Packaging: the build tree installs to a prefix, and programs build against
# that prefix as a user's would: with pkg-config and with find_package(onnxtd),
# each linked shared and static. Each program (tests/install/consumer.c)
# compresses the bundled model, saves it and reads an error for a missing
# file. The shared library exports the public API alone, and the prefix
# still works with pkg-config and find_package once moved elsewhere.
set -u
BIN=$1 SRC=$2
BUILD=$(cd "$(dirname "$BIN")" && pwd)
M=$SRC/tests/onnx_models/small_cnn.onnx
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "install_pkg: $*" >&2; exit 1; }

# A library built with the sanitizers needs them in the programs too.
SAN=()
grep -q '^ONNXTD_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" &&
  SAN=(-fsanitize=address,undefined)

P=$T/prefix
cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1 ||
  { tail -5 "$T/install.log"; fail "cmake --install $BUILD --prefix P failed"; }
PC=$(find "$P" -name onnxtd.pc)
[ -n "$PC" ] || fail "no onnxtd.pc under the prefix"
LIBDIR=$(dirname "$(dirname "$PC")")
SO=$(find "$LIBDIR" -name 'libonnxtd.so.*.*.*')
[ -f "$SO" ] && [ -f "$LIBDIR/libonnxtd.a" ] || fail "libraries not installed in $LIBDIR"

# Exported: onnxtd_* only (no internal td_*, no protobuf-c's onnx__*).
nm -D --defined-only "$SO" | awk '{print $3}' >"$T/syms"
grep -q '^onnxtd_compress$' "$T/syms" || fail "onnxtd_compress not exported"
if grep -v '^onnxtd_' "$T/syms" >"$T/other"; then
  fail "$(wc -l <"$T/other") symbols besides onnxtd_*, e.g. $(head -3 "$T/other" | tr '\n' ' ')"
fi

# run NAME PROGRAM: the program compresses, saves a smaller model that loads,
# and reports the missing file by its path.
params() { "$BIN" info --json "$1" | /usr/bin/python3 -c \
  'import json,sys; print(json.load(sys.stdin)["parameters"]["total"])'; }
IN_PARAMS=$(params "$M") || fail "onnxtd info on $M"
run() {
  local name=$1 prog=$2 out=$T/$1.onnx msg
  msg=$(LD_LIBRARY_PATH=$LIBDIR "$prog" "$M" "$out" "$T/no_such.onnx" 2>"$T/$name.err") ||
    fail "$name: exit $? ($(cat "$T/$name.err"))"
  case $msg in
    *"$T/no_such.onnx"*"No such file"*) ;;
    *) fail "$name: the missing file's message is '$msg'" ;;
  esac
  local n
  n=$(params "$out") || fail "$name: $out does not load"
  [ "$n" -lt "$IN_PARAMS" ] || fail "$name: $n parameters, not fewer than $IN_PARAMS"
}
needs_so() {  # needs_so PROGRAM yes|no: whether it links libonnxtd.so
  local got=no
  readelf -d "$1" | grep -q 'NEEDED.*libonnxtd\.so' && got=yes
  [ "$got" = "$2" ] || fail "$1: libonnxtd.so needed: $got, expected $2"
}

export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
CC=${CC:-cc}
CFLAGS=$(pkg-config --cflags onnxtd) || fail "pkg-config --cflags onnxtd"
case $CFLAGS in *"-I$P/"*) ;; *) fail "pkg-config --cflags gives '$CFLAGS'" ;; esac
# shellcheck disable=SC2086
$CC "${SAN[@]}" -o "$T/pc_shared" "$SRC/tests/install/consumer.c" $CFLAGS \
  $(pkg-config --libs onnxtd) 2>"$T/cc.log" || { cat "$T/cc.log"; fail "pkg-config shared build"; }
needs_so "$T/pc_shared" yes
run pc_shared "$T/pc_shared"
# Static: the archive itself (a plain -lonnxtd picks the .so), with what
# --static adds for its dependencies.
STATIC_LIBS=$(pkg-config --static --libs onnxtd | sed 's/-lonnxtd\b/-l:libonnxtd.a/')
# shellcheck disable=SC2086
$CC "${SAN[@]}" -o "$T/pc_static" "$SRC/tests/install/consumer.c" $CFLAGS $STATIC_LIBS \
  2>"$T/cc.log" || { cat "$T/cc.log"; fail "pkg-config --static build"; }
needs_so "$T/pc_static" no
run pc_static "$T/pc_static"

for kind in shared static; do
  static=OFF
  [ $kind = static ] && static=ON
  cmake -S "$SRC/tests/install" -B "$T/cm_$kind" -DCMAKE_PREFIX_PATH="$P" \
    -DONNXTD_STATIC=$static -DCMAKE_C_FLAGS="${SAN[*]}" >"$T/cm.log" 2>&1 &&
    cmake --build "$T/cm_$kind" >>"$T/cm.log" 2>&1 ||
    { tail -20 "$T/cm.log"; fail "find_package(onnxtd) $kind build"; }
  needs_so "$T/cm_$kind/consumer" $([ $kind = shared ] && echo yes || echo no)
  run cm_$kind "$T/cm_$kind/consumer"
done

# Relocatable: the same prefix moved elsewhere.
Q=$T/moved
mv "$P" "$Q"
LIBDIR=${LIBDIR/#$P/$Q}
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
CFLAGS=$(pkg-config --cflags onnxtd)
case $CFLAGS in *"-I$Q/"*) ;; *) fail "moved prefix: pkg-config --cflags gives '$CFLAGS'" ;; esac
# shellcheck disable=SC2086
$CC "${SAN[@]}" -o "$T/pc_moved" "$SRC/tests/install/consumer.c" $CFLAGS \
  $(pkg-config --libs onnxtd) 2>"$T/cc.log" || { cat "$T/cc.log"; fail "moved prefix: build"; }
run pc_moved "$T/pc_moved"
cmake -S "$SRC/tests/install" -B "$T/cm_moved" -DCMAKE_PREFIX_PATH="$Q" \
  -DCMAKE_C_FLAGS="${SAN[*]}" >"$T/cm.log" 2>&1 &&
  cmake --build "$T/cm_moved" >>"$T/cm.log" 2>&1 ||
  { tail -20 "$T/cm.log"; fail "moved prefix: find_package(onnxtd) build"; }
run cm_moved "$T/cm_moved/consumer"
exit 0
