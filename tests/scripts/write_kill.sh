#!/bin/bash
# Writing over what is being read, and dying while writing:
# - convert IN --in-place succeeds and leaves the same bytes a convert to
#   another file gives (the input is mapped, and replaced only by rename);
# - convert of a ~200 MB model killed with SIGKILL 0.2 s in (sooner if it
#   finishes by then) leaves an existing output byte-identical (or, when
#   the kill lands after the rename, the complete new file) and no temp
#   file beside it where the file
#   system has unnamed temp files (O_TMPFILE), else at most one
#   (.onnxtd.XXXXXX); nothing else appears.
# usage: write_kill.sh BINARY SRCDIR
set -u
bin=${1:?usage: write_kill.sh BINARY SRCDIR}
src=${2:?usage: write_kill.sh BINARY SRCDIR}
py=/usr/bin/python3
"$py" -c 'import onnx, numpy' 2>/dev/null || { echo "skip: no python3-onnx"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# ---- in place ---------------------------------------------------------------
cp "$src/tests/onnx_models/small_cnn.onnx" "$work/self.onnx" || exit 1
"$bin" convert "$work/self.onnx" -o "$work/other.onnx" || bad "convert to another file"
"$bin" convert "$work/self.onnx" --in-place 2>"$work/err" ||
    bad "convert IN --in-place: $(cat "$work/err")"
cmp -s "$work/self.onnx" "$work/other.onnx" ||
    bad "convert IN --in-place gave other bytes than convert IN -o OTHER"
"$bin" convert "$work/self.onnx" -o "$work/again.onnx" ||
    bad "the model written over its input does not load"
ls -A "$work" | grep -q '^\.' && bad "temp files left: $(ls -A "$work" | grep '^\.')"

# ---- killed midway ------------------------------------------------------------
"$py" - "$work/kill/big.onnx" <<'PY' || { echo "FAIL: cannot make the big model"; exit 1; }
import os, sys
import numpy as np
from onnx import TensorProto, helper, numpy_helper
os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
# 50 initializers of 4 MiB: about 210 MB, under protobuf's 2 GiB limit.
inits = [numpy_helper.from_array(np.full((1024, 1024), i, np.float32), "w%d" % i)
         for i in range(50)]
nodes = [helper.make_node("Add", ["x" if i == 0 else "s%d" % (i - 1), "w%d" % i],
                          ["s%d" % i]) for i in range(50)]
g = helper.make_graph(nodes, "big",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1024, 1024])],
                      [helper.make_tensor_value_info("s49", TensorProto.FLOAT, [1024, 1024])],
                      inits)
with open(sys.argv[1], "wb") as f:
    f.write(helper.make_model(g).SerializeToString())
PY
out="$work/kill/out.onnx"
echo "previous output" >"$out"
in_sum=$(sha256sum "$work/kill/big.onnx")
out_sum=$(sha256sum "$out")
# A fast disk may finish before 0.2 s: then try again, killing sooner.
for delay in 0.2 0.1 0.05 0.02 0.01; do
    timeout -s KILL "$delay" "$bin" convert "$work/kill/big.onnx" -o "$out" 2>/dev/null
    rc=$?
    [ "$rc" -eq 137 ] && break
    echo "previous output" >"$out"
    rm -f "$work/kill/".onnxtd.*
done
if [ "$rc" -ne 137 ]; then
    echo "note: convert always finished (exit $rc) before the kill; nothing to check"
else
    echo "killed after ${delay} s"
    # The kill can land after the rename, while the process exits (under
    # ASan its leak check runs then): the output is then the whole new
    # file. Anything but the old bytes or the complete new ones is a fault.
    if [ "$(sha256sum "$out")" != "$out_sum" ]; then
        mkdir -p "$work/ref"
        "$bin" convert "$work/kill/big.onnx" -o "$work/ref/out.onnx" 2>/dev/null ||
            bad "reference convert failed"
        if cmp -s "$out" "$work/ref/out.onnx"; then
            echo "note: the kill came after the rename; the output is the complete new file"
        else
            bad "killed convert left an output that is neither the old nor the new file"
        fi
    fi
    [ "$(sha256sum "$work/kill/big.onnx")" = "$in_sum" ] || bad "killed convert changed the input"
    temps=$(ls -A "$work/kill" | grep -E '^\.onnxtd\.[A-Za-z0-9]{6}$')
    others=$(ls -A "$work/kill" | grep -vE '^(big\.onnx|out\.onnx|\.onnxtd\.[A-Za-z0-9]{6})$')
    [ -z "$others" ] || bad "unexpected files after the kill: $others"
    [ "$(printf '%s' "$temps" | grep -c .)" -le 1 ] || bad "several temps: $temps"
    if "$py" -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_TMPFILE | os.O_WRONLY, 0o600))' \
        "$work/kill" 2>/dev/null; then
        [ -z "$temps" ] || bad "the file system has O_TMPFILE, yet the kill left a temp: $temps"
    fi
    if [ -n "$temps" ]; then
        echo "note: SIGKILL left a temp file: $temps ($(stat -c %s "$work/kill/$temps") bytes)"
    else
        echo "note: SIGKILL left no temp file"
    fi
fi
[ "$fail" -eq 0 ] && echo "write_kill: all checks passed"
[ "$fail" -eq 0 ]
