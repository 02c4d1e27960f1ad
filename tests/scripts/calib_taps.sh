#!/usr/bin/env bash
# The kernel taps' metric (decompose/td_whiten.h, "Taps") end to end on the
# bundled small CNN, calibrated on 8 smooth random images:
# - `compress --calib --save-stats` saves taps/X for the input of each 3x3
#   conv, [2 axes, 3 lags], equal to torch's autocorrelation of that input
#   (tests/tools/taps_reference.py); a 1x1 conv's input gets none;
# - the weights use it: the same statistics without the taps/ tensors give
#   other factors and other weighted errors for the 3x3 convs, and the
#   same for the 1x1 conv;
# - the same statistics from the model declared at opset 9 (Slice with
#   attributes; the Gram by Transpose + MatMul) and 18 (ReduceMean's axes an
#   input, none given);
# - a taps/ tensor that is NaN, has a negative lag 0 or the wrong rank is
#   refused by --act-stats: exit 1, file and tensor named, nothing written.
#
#   bash tests/scripts/calib_taps.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
td_use_ort
MODEL=$SRCDIR/tests/onnx_models/small_cnn.onnx

"$PY" - "$T/cal" <<'PYEOF' || { echo "FAIL: inputs"; exit 1; }
import os, sys
import numpy as np
rng = np.random.default_rng(5)
os.makedirs(sys.argv[1])
for i in range(8):
    x = rng.standard_normal((1, 3, 64, 64))
    for _ in range(3):  # neighbouring pixels correlated
        x = (x + np.roll(x, 1, 2) + np.roll(x, 1, 3)) / 3
    np.save(os.path.join(sys.argv[1], "in%d.npy" % i), x.astype(np.float32))
PYEOF

"$BIN" compress "$MODEL" -o "$T/taps.onnx" --calib "$T/cal" --holdout 0 \
  --save-stats "$T/stats.onnx" --method tucker2 --ratio 0.5 --runs 0 \
  --report "$T/taps.json" --quiet || { echo "FAIL: compress --calib"; exit 1; }
"$PY" "$SRCDIR/tests/tools/taps_reference.py" "$MODEL" "$T/stats.onnx" "$T/cal" ||
  fail "taps against the reference"
"$PY" - "$T/stats.onnx" "$T/notaps.onnx" <<'PYEOF' || fail "which tensors have taps"
import sys
import onnx
m = onnx.load(sys.argv[1])
names = [t.name for t in m.graph.initializer]
taps = sorted(n for n in names if n.startswith("taps/"))
# the 3x3 convs read input, r0, r1, r2; the 1x1 proj reads r3, fc reads f
assert taps == ["taps/input", "taps/r0", "taps/r1", "taps/r2"], taps
keep = [t for t in m.graph.initializer if not t.name.startswith("taps/")]
del m.graph.initializer[:]
m.graph.initializer.extend(keep)
onnx.save(m, sys.argv[2])
PYEOF

"$BIN" compress "$MODEL" -o "$T/with.onnx" --act-stats "$T/stats.onnx" \
  --method tucker2 --ratio 0.5 --report "$T/with.json" --quiet ||
  fail "compress --act-stats (taps)"
"$BIN" compress "$MODEL" -o "$T/without.onnx" --act-stats "$T/notaps.onnx" \
  --method tucker2 --ratio 0.5 --report "$T/without.json" --quiet ||
  fail "compress --act-stats (no taps)"
cmp -s "$T/with.onnx" "$T/taps.onnx" ||
  fail "--act-stats with the saved statistics wrote another model than --calib"
"$PY" - "$T/with.json" "$T/without.json" <<'PYEOF' || fail "taps not used as they should be"
import json, sys
w = {l["node"]: l for l in json.load(open(sys.argv[1]))["layers"]}
o = {l["node"]: l for l in json.load(open(sys.argv[2]))["layers"]}
for n in ("conv1", "conv2", "conv3"):
    assert w[n]["weighted"] and o[n]["weighted"], n
    assert w[n]["rel_error"] != o[n]["rel_error"], (n, w[n]["rel_error"])
    print("%s: weighted error with the taps %.4f, channels alone %.4f" % (
        n, w[n]["rel_error"], o[n]["rel_error"]))
assert w["proj"]["rel_error"] == o["proj"]["rel_error"], "the 1x1 conv changed"
PYEOF

# other opsets build the lags with other node forms: the same numbers
for v in 9 18; do
  "$PY" -c "
import sys, onnx
m = onnx.load(sys.argv[1]); m.opset_import[0].version = int(sys.argv[3]); onnx.save(m, sys.argv[2])
" "$MODEL" "$T/cnn$v.onnx" "$v" || { fail "opset $v: model"; continue; }
  "$BIN" compress "$T/cnn$v.onnx" -o "$T/o$v.onnx" --calib "$T/cal" --holdout 0 \
    --save-stats "$T/stats$v.onnx" --method tucker2 --ratio 0.5 --runs 0 --quiet ||
    { fail "opset $v: compress --calib"; continue; }
  "$PY" "$SRCDIR/tests/tools/taps_reference.py" "$T/cnn$v.onnx" "$T/stats$v.onnx" "$T/cal" \
    > "$T/ref$v.txt" || { cat "$T/ref$v.txt"; fail "opset $v: taps against the reference"; }
  echo "opset $v: taps as the reference"
done

# bad taps tensors
badtaps() {  # NAME EDIT WHAT
  "$PY" - "$T/stats.onnx" "$T/$1.onnx" "$2" <<'PYEOF' || { fail "$1: edit"; return; }
import sys
import numpy as np
import onnx
from onnx import numpy_helper
src, dst, edit = sys.argv[1:]
m = onnx.load(src)
for t in m.graph.initializer:
    if t.name == "taps/r1":
        a = numpy_helper.to_array(t).copy()
        a = eval(edit)
        t.CopyFrom(numpy_helper.from_array(a, "taps/r1"))
onnx.save(m, dst)
PYEOF
  rm -f "$T/out.onnx"
  "$BIN" compress "$MODEL" -o "$T/out.onnx" --act-stats "$T/$1.onnx" \
    --method tucker2 --ratio 0.5 2> "$T/err.txt"
  local rc=$?
  [ $rc -eq 1 ] || fail "$1: exit $rc, wanted 1"
  [ ! -e "$T/out.onnx" ] || fail "$1: an output was written"
  grep -q "$1.onnx" "$T/err.txt" && grep -q "taps/r1" "$T/err.txt" &&
    grep -qi "$3" "$T/err.txt" || fail "$1: message: $(cat "$T/err.txt")"
  echo "$1: $(cat "$T/err.txt")"
}
badtaps taps_nan 'np.where(np.arange(a.size).reshape(a.shape) == 4, np.nan, a)' "not finite"
badtaps taps_negative 'a * np.array([[-1.0], [1.0]])' "negative"
badtaps taps_rank 'a.reshape(-1)' "axes"
td_done calib_taps
