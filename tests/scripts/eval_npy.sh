#!/usr/bin/env bash
# eval's inputs: .npy files as numpy.save writes them, symbolic dims taken
# from the data, manifests, and clear errors (run by ctest):
#   bash tests/scripts/eval_npy.sh BINARY SRCDIR
#
# - every supported dtype (float32/16/64, int64/32/8, uint8, bool) read from
#   a .npy equals what numpy wrote: an Identity model's output matches the
#   same array stored as a TensorProto exactly (--elementwise 0,0);
# - version 2.0 files are read; Fortran order, a truncated header, a data
#   size that does not fit the shape, bad magic, big-endian data and a
#   missing 'shape' key are refused with a message naming the file;
# - a model with symbolic dims (N, H, W) runs on .npy inputs of a concrete
#   shape given through a manifest, and the report shows that shape; a
#   wrong dtype, a wrong fixed dim, a symbolic dim of two sizes, a missing
#   or unknown input are refused;
#   random inputs need every symbolic dim (--dim) and say they are random.
set -u
BIN="$1"
SRCDIR="$2"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$SRCDIR/tests/lsan-ort.supp:print_suppressions=0}"
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect() {  # expect WHAT RC TEXT COMMAND...: exit code, and TEXT in stderr
  local what=$1 want=$2 text=$3
  shift 3
  "$@" > "$T/out" 2> "$T/err"
  local rc=$?
  [ "$rc" = "$want" ] || bad "$what: exit $rc, expected $want ($(cat "$T/err"))"
  [ -z "$text" ] || grep -qF -- "$text" "$T/err" || bad "$what: message lacks '$text': $(cat "$T/err")"
  [ "$want" = 0 ] || [ ! -s "$T/out" ] || bad "$what: wrote a report on failure"
}

/usr/bin/python3 - "$T" <<'PY' || exit 1
import os, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto as TP
T = sys.argv[1]
rng = np.random.default_rng(7)

def identity(path, elem, shape):
    x = helper.make_tensor_value_info("x", elem, shape)
    y = helper.make_tensor_value_info("y", elem, shape)
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "id", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, path)

types = {"float32": TP.FLOAT, "float16": TP.FLOAT16, "float64": TP.DOUBLE,
         "int64": TP.INT64, "int32": TP.INT32, "int8": TP.INT8,
         "uint8": TP.UINT8, "bool": TP.BOOL}
for name, elem in types.items():
    identity(f"{T}/id_{name}.onnx", elem, ["N", 3])
    if name == "bool":
        a = rng.random((4, 3)) > 0.5
    elif name.startswith("float"):
        a = (rng.standard_normal((4, 3)) * 100).astype(name)
    else:
        info = np.iinfo(name)
        a = rng.integers(info.min, info.max, (4, 3), dtype=name, endpoint=True)
    d = f"{T}/data_{name}/test_data_set_0"
    os.makedirs(d)
    np.save(f"{d}/input_0.npy", a)
    open(f"{d}/output_0.pb", "wb").write(numpy_helper.from_array(a, "y").SerializeToString())

# Format 2.0, and the error cases, on a float32 (4, 3).
a = rng.standard_normal((4, 3)).astype(np.float32)
os.makedirs(f"{T}/v2/test_data_set_0")
with open(f"{T}/v2/test_data_set_0/input_0.npy", "wb") as f:
    np.lib.format.write_array(f, a, version=(2, 0))
open(f"{T}/v2/test_data_set_0/output_0.pb", "wb").write(numpy_helper.from_array(a, "y").SerializeToString())
np.save(f"{T}/good.npy", a)
np.save(f"{T}/fortran.npy", np.asfortranarray(rng.standard_normal((4, 3)).astype(np.float32)))
good = open(f"{T}/good.npy", "rb").read()
open(f"{T}/truncated.npy", "wb").write(good[:40])
open(f"{T}/short.npy", "wb").write(good[:-4])
open(f"{T}/long.npy", "wb").write(good + b"\0\0\0\0")
open(f"{T}/magic.npy", "wb").write(b"\x93NUMPZ" + good[6:])
np.save(f"{T}/big.npy", a.astype(">f4"))
open(f"{T}/noshape.npy", "wb").write(good.replace(b"'shape'", b"'shapf'"))
np.save(f"{T}/f64.npy", a.astype(np.float64))
np.save(f"{T}/c5.npy", rng.standard_normal((4, 5)).astype(np.float32))

# Symbolic dims: z = x + y over [N, 3, H, W].
x = helper.make_tensor_value_info("x", TP.FLOAT, ["N", 3, "H", "W"])
y = helper.make_tensor_value_info("y", TP.FLOAT, ["N", 3, "H", "W"])
z = helper.make_tensor_value_info("z", TP.FLOAT, ["N", 3, "H", "W"])
g = helper.make_graph([helper.make_node("Add", ["x", "y"], ["z"])], "add", [x, y], [z])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.save(m, f"{T}/add.onnx")
os.makedirs(f"{T}/sym")
for i in range(3):
    np.save(f"{T}/sym/x{i}.npy", rng.standard_normal((2, 3, 5, 7)).astype(np.float32))
    np.save(f"{T}/sym/y{i}.npy", rng.standard_normal((2, 3, 5, 7)).astype(np.float32))
np.save(f"{T}/sym/x64.npy", rng.standard_normal((2, 3, 5, 7)))
np.save(f"{T}/sym/x4.npy", rng.standard_normal((2, 4, 5, 7)).astype(np.float32))
with open(f"{T}/sym/list.txt", "w") as f:
    f.write("# one sample per line\n")
    for i in range(3):
        f.write(f"x=x{i}.npy  y=y{i}.npy\n\n")
open(f"{T}/sym/f64.txt", "w").write("x=x64.npy y=y0.npy\n")
open(f"{T}/sym/c4.txt", "w").write("x=x4.npy y=y0.npy\n")
open(f"{T}/sym/missing.txt", "w").write("x=x0.npy\n")
np.save(f"{T}/sym/y_n3.npy", rng.standard_normal((3, 3, 5, 7)).astype(np.float32))
open(f"{T}/sym/n23.txt", "w").write("x=x0.npy y=y_n3.npy\n")
open(f"{T}/sym/unknown.txt", "w").write("x=x0.npy y=y0.npy w=y1.npy\n")
PY

for dt in float32 float16 float64 int64 int32 int8 uint8 bool; do
  "$BIN" eval "$T/id_$dt.onnx" --inputs "$T/data_$dt" --elementwise 0,0 \
    --runs 0 --json > "$T/out" 2> "$T/err"
  rc=$?
  [ "$rc" = 0 ] || bad "$dt: exit $rc: $(cat "$T/err")"
  grep -q '"max_abs":0,' "$T/out" && grep -q '"elem_mismatches":0' "$T/out" &&
    grep -q '"shape":\[4,3\]' "$T/out" || bad "$dt: $(cat "$T/out")"
done
expect "format 2.0" 0 "" "$BIN" eval "$T/id_float32.onnx" --inputs "$T/v2" --elementwise 0,0 --runs 0

F="$T/id_float32.onnx"
expect "fortran order" 1 "$T/fortran.npy: .npy is in Fortran order" "$BIN" eval "$F" "$F" --inputs "$T/fortran.npy"
expect "truncated header" 1 "$T/truncated.npy: .npy header is truncated" "$BIN" eval "$F" "$F" --inputs "$T/truncated.npy"
expect "short data" 1 "$T/short.npy: .npy data has 44 bytes but shape [4,3] of float32 needs 48" "$BIN" eval "$F" "$F" --inputs "$T/short.npy"
expect "long data" 1 "$T/long.npy: .npy data has 52 bytes but shape [4,3] of float32 needs 48" "$BIN" eval "$F" "$F" --inputs "$T/long.npy"
expect "bad magic" 1 "$T/magic.npy: not a .npy file" "$BIN" eval "$F" "$F" --inputs "$T/magic.npy"
expect "big-endian" 1 "$T/big.npy: .npy element type '>f4' is not supported" "$BIN" eval "$F" "$F" --inputs "$T/big.npy"
expect "no shape key" 1 "$T/noshape.npy: .npy header is not a valid" "$BIN" eval "$F" "$F" --inputs "$T/noshape.npy"
expect "missing file" 1 "$T/nothere.npy: No such file" "$BIN" eval "$F" "$F" --inputs "$T/nothere.npy"
expect "fixed dim" 1 "input 'x' has shape [-1,3] (-1: symbolic), given [4,5]" "$BIN" eval "$F" "$F" --inputs "$T/c5.npy"
expect "one .npy, good" 0 "" "$BIN" eval "$F" "$F" --inputs "$T/good.npy" --rtol 0 --runs 0

A="$T/add.onnx"
expect "symbolic dims" 0 "" "$BIN" eval "$A" "$A" --inputs "$T/sym/list.txt" --rtol 0 --runs 1 --json
grep -q '"shape":\[2,3,5,7\]' "$T/out" && grep -q '"samples":3' "$T/out" || bad "symbolic: $(cat "$T/out")"
expect "wrong dtype" 1 "input 'x' is float32, given float64" "$BIN" eval "$A" "$A" --inputs "$T/sym/f64.txt"
expect "wrong fixed dim" 1 "given [2,4,5,7]" "$BIN" eval "$A" "$A" --inputs "$T/sym/c4.txt"
expect "N 2 and 3" 1 "symbolic dim 'N' is 2 in input 'x' but 3 in input 'y'" "$BIN" eval "$A" "$A" --inputs "$T/sym/n23.txt"
expect "manifest missing input" 1 "$T/sym/missing.txt:1: no file for input 'y'" "$BIN" eval "$A" "$A" --inputs "$T/sym/missing.txt"
expect "manifest unknown input" 1 "$T/sym/unknown.txt:1: the model has no input named 'w'" "$BIN" eval "$A" "$A" --inputs "$T/sym/unknown.txt"
expect "folder for two inputs" 1 "one file per sample fits a model with one input; this one has 2" "$BIN" eval "$A" "$A" --inputs "$T/sym"
expect "random without dims" 2 "dim 0 is the symbolic 'N'; random inputs need its value: give it with --dim NAME=N or --input-shape" "$BIN" eval "$A" "$A" --random 2
expect "random" 0 "" "$BIN" eval "$A" "$A" --random 2 --dim N=1 --dim H=4 --dim W=6 --rtol 0 --runs 0
grep -q "2 random samples (seed 0); random inputs: a smoke test" "$T/out" || bad "random label: $(cat "$T/out")"
expect "no inputs" 2 "eval: --inputs SRC or --random N is required" "$BIN" eval "$A" "$A"
expect "one model, no stored outputs" 1 "0 stored outputs (output_K.pb) for a model with 1" "$BIN" eval "$F" --inputs "$T/good.npy"

"$BIN" --help | grep -q "^  eval A \[B\] (--inputs SRC | --random N)" || bad "onnxtd --help does not list eval"
"$BIN" eval --help | grep -q "^usage: onnxtd eval A.onnx \[B.onnx\]" || bad "eval --help"

[ "$fail" = 0 ] && echo "eval_npy: ok" && exit 0
exit 1
