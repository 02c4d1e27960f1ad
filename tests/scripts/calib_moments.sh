#!/usr/bin/env bash
# The statistics `onnxtd stats-model` + tools/ort/calib_stats.js compute are
# the moments NumPy computes from the same inputs: a model (built here) whose
# layers read graph inputs directly, in every layout the statistics model
# handles (Conv NCHW, grouped Conv, Gemm, Gemm transA=1, MatMul on a 3-D
# input), run on two TensorProto input sets. E[x x^T] must match to 1e-5
# relative, counts exactly; names and shapes as documented. calib_stats.js
# gives the same file from --pb, --npy and --inputs DIR.
#
#   bash tests/scripts/calib_moments.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail, 77 skip (node, onnxruntime-node or python3-onnx
# missing).
set -u
BIN=$1
SRCDIR=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PY=/usr/bin/python3
skip() { echo "SKIP: $*"; exit 77; }
command -v node >/dev/null 2>&1 || skip "node not found"
(cd "$SRCDIR/tools/ort" && node -e 'require("onnxruntime-node")') >/dev/null 2>&1 ||
  skip "onnxruntime-node not installed in tools/ort (run scripts/setup.sh)"
"$PY" -c 'import onnx, numpy' >/dev/null 2>&1 || skip "python3-onnx / numpy missing"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$PY" - "$T" <<'EOF' || { echo "FAIL: building the test model"; exit 1; }
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

t = sys.argv[1]
rng = np.random.default_rng(3)
def init(name, shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
inputs = {"img": (2, 6, 5, 7), "grp": (1, 8, 4, 4), "vec": (3, 10),
          "vec_t": (12, 4), "seq": (2, 5, 9)}
nodes = [
    helper.make_node("Conv", ["img", "w_img"], ["o_img"], pads=[1, 1, 1, 1]),
    helper.make_node("Conv", ["grp", "w_grp"], ["o_grp"], group=2),
    helper.make_node("Gemm", ["vec", "w_vec"], ["o_vec"]),
    helper.make_node("Gemm", ["vec_t", "w_vt"], ["o_vt"], transA=1),
    helper.make_node("MatMul", ["seq", "w_seq"], ["o_seq"]),
]
inits = [init("w_img", (16, 6, 3, 3)), init("w_grp", (8, 4, 3, 3)),
         init("w_vec", (10, 12)), init("w_vt", (12, 6)), init("w_seq", (9, 16))]
g = helper.make_graph(
    nodes, "layouts",
    [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
    [helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
     for o in ["o_img", "o_grp", "o_vec", "o_vt", "o_seq"]],
    inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 7
onnx.save(m, t + "/m.onnx")
# channel axis per input: where the layer reads its Cin
axis = {"img": 1, "grp": 1, "vec": 1, "vec_t": 0, "seq": 2}
ref = {}
for run in range(2):
    d = t + "/run%d" % run
    import os
    os.makedirs(d)
    for k, (n, s) in enumerate(inputs.items()):
        x = (rng.standard_normal(s) * (1 + np.arange(s[axis[n]])).reshape(
            [-1 if i == axis[n] else 1 for i in range(len(s))]) + 0.3).astype(np.float32)
        open("%s/%s.pb" % (d, n), "wb").write(numpy_helper.from_array(x, n).SerializeToString())
        r = np.moveaxis(x.astype(np.float64), axis[n], -1).reshape(-1, s[axis[n]])
        g0, c0, s0 = ref.get(n, (0, 0, 0))
        ref[n] = (g0 + r.T @ r, c0 + r.shape[0], s0 + r.sum(axis=0))
np.savez(t + "/ref.npz", **{n + "_gram": v[0] for n, v in ref.items()},
         **{n + "_count": v[1] for n, v in ref.items()},
         **{n + "_sum": v[2] for n, v in ref.items()})
EOF

"$BIN" stats-model "$T/m.onnx" -o "$T/cal.onnx" 2> "$T/sm.err" || { cat "$T/sm.err"; echo "FAIL: stats-model"; exit 1; }
grep -q "statistics outputs for 5 layer inputs" "$T/sm.err" ||
  { cat "$T/sm.err"; echo "FAIL: stats-model should expose 5 inputs"; exit 1; }
# the Gram outputs of a five-input model, summed over the two input sets
(cd "$SRCDIR/tools/ort" && node - "$T" <<'EOF') || { echo "FAIL: running the statistics model"; exit 1; }
const ort = require('onnxruntime-node');
const C = require('./ort_common');
const fs = require('fs');
const t = process.argv[2];
(async () => {
  const s = await ort.InferenceSession.create(t + '/cal.onnx');
  const out = {};
  for (const run of ['run0', 'run1']) {
    const feeds = {};
    for (const n of s.inputNames) {
      const x = C.readTensorFile(`${t}/${run}/${n}.pb`);
      feeds[n] = new ort.Tensor(x.type, x.data, x.dims);
    }
    const r = await s.run(feeds);
    for (const k of s.outputNames) {
      if (!k.startsWith('gram/') && !k.startsWith('rows/') && !k.startsWith('sum/')) continue;
      const v = Array.from(r[k].data, Number);
      if (!out[k]) out[k] = { dims: r[k].dims, data: v };
      else if (!k.startsWith('rows/')) out[k].data = out[k].data.map((a, i) => a + v[i]);
      else out[k].data[0] += v[0];
    }
  }
  fs.writeFileSync(t + '/ort.json', JSON.stringify(out));
})().catch((e) => { console.error(e.message); process.exit(1); });
EOF

"$PY" - "$T" <<'EOF'
import json, sys
import numpy as np
t = sys.argv[1]
ref = np.load(t + "/ref.npz")
got = json.load(open(t + "/ort.json"))
bad = 0
for n in ["img", "grp", "vec", "vec_t", "seq"]:
    g, c = ref[n + "_gram"], int(ref[n + "_count"])
    og = np.array(got["gram/" + n]["data"]).reshape(got["gram/" + n]["dims"])
    rows = got["rows/" + n]["data"]
    err = np.abs(og - g).max() / np.abs(g).max()
    sm, os_ = ref[n + "_sum"], np.array(got["sum/" + n]["data"])
    serr = np.abs(os_ - sm).max() / np.abs(sm).max() if os_.shape == sm.shape else 1.0
    ok = (og.shape == g.shape and rows[0] == c and rows[1] == g.shape[0] and err < 1e-5
          and serr < 1e-5)
    print("%-6s gram %s rows %s (want %d x %d) rel err %.2e, sum rel err %.2e %s"
          % (n, og.shape, rows, c, g.shape[0], err, serr, "ok" if ok else "FAIL"))
    bad += not ok
sys.exit(1 if bad else 0)
EOF
[ $? -eq 0 ] || { echo "FAIL: Gram outputs differ from NumPy"; exit 1; }

# the statistics file calib_stats.js writes, through --pb on a one-input
# model (the first Conv alone): moment = gram / count and mean = sum /
# count, as DOUBLE
"$PY" - "$T" <<'EOF' || { echo "FAIL: one-input model"; exit 1; }
import sys
import onnx
from onnx import helper
t = sys.argv[1]
m = onnx.load(t + "/m.onnx")
g = m.graph
keep = [n for n in g.node if n.input[0] == "img"]
del g.node[:]; g.node.extend(keep)
ins = [i for i in g.input if i.name == "img"]
del g.input[:]; g.input.extend(ins)
outs = [o for o in g.output if o.name == "o_img"]
del g.output[:]; g.output.extend(outs)
inits = [i for i in g.initializer if i.name == "w_img"]
del g.initializer[:]; g.initializer.extend(inits)
onnx.save(m, t + "/one.onnx")
EOF
"$BIN" stats-model "$T/one.onnx" -o "$T/one_cal.onnx" 2>/dev/null || { echo "FAIL: stats-model one"; exit 1; }
node "$SRCDIR/tools/ort/calib_stats.js" "$T/one_cal.onnx" "$T/stats.onnx" \
  --pb "$T/run0/img.pb" --pb "$T/run1/img.pb" --quiet || { echo "FAIL: calib_stats.js --pb"; exit 1; }
"$PY" - "$T" <<'EOF' || { echo "FAIL: statistics file"; exit 1; }
import sys
import numpy as np
import onnx
from onnx import numpy_helper
t = sys.argv[1]
ref = np.load(t + "/ref.npz")
st = {i.name: i for i in onnx.load(t + "/stats.onnx").graph.initializer}
assert sorted(st) == ["count/img", "mean/img", "moment/img", "taps/img"], sorted(st)
# the 3x3 conv's input: its autocorrelation along H and W at lags 0-2, the
# mean over channels and the positions where both exist, averaged over runs
taps = numpy_helper.to_array(st["taps/img"])
assert st["taps/img"].data_type == onnx.TensorProto.DOUBLE and taps.shape == (2, 3), taps.shape
want = np.zeros((2, 3))
for run in range(2):
    x = numpy_helper.to_array(onnx.load_tensor("%s/run%d/img.pb" % (t, run))).astype(np.float64)
    for ax in range(2):
        n = x.shape[2 + ax]
        for lag in range(3):
            want[ax, lag] += (np.take(x, range(0, n - lag), 2 + ax) *
                              np.take(x, range(lag, n), 2 + ax)).mean() / 2
terr = np.abs(taps - want).max() / np.abs(want).max()
print("taps/img rel err %.2e" % terr)
assert terr < 1e-5, (taps, want)
assert st["mean/img"].data_type == onnx.TensorProto.DOUBLE
mu = numpy_helper.to_array(st["mean/img"])
merr = np.abs(mu - ref["img_sum"] / ref["img_count"]).max() / np.abs(mu).max()
print("mean/img rel err %.2e" % merr)
assert merr < 1e-5, merr
assert st["moment/img"].data_type == onnx.TensorProto.DOUBLE
m = numpy_helper.to_array(st["moment/img"])
c = int(numpy_helper.to_array(st["count/img"])[0])
want = ref["img_gram"] / ref["img_count"]
err = np.abs(m - want).max() / np.abs(want).max()
print("moment/img rel err %.2e, count %d (want %d)" % (err, c, int(ref["img_count"])))
sys.exit(0 if err < 1e-5 and c == int(ref["img_count"]) else 1)
EOF
# the same runs from .npy files and from input_0.pb directories give the
# same file byte for byte
"$PY" - "$T" <<'EOF' || { echo "FAIL: writing .npy inputs"; exit 1; }
import os, shutil, sys
import numpy as np
from onnx import load_tensor, numpy_helper
t = sys.argv[1]
for r in range(2):
    x = numpy_helper.to_array(load_tensor("%s/run%d/img.pb" % (t, r)))
    np.save("%s/img%d.npy" % (t, r), x.astype(np.float64))  # converted to float
    os.makedirs("%s/dir%d" % (t, r))
    shutil.copy("%s/run%d/img.pb" % (t, r), "%s/dir%d/input_0.pb" % (t, r))
EOF
node "$SRCDIR/tools/ort/calib_stats.js" "$T/one_cal.onnx" "$T/stats_npy.onnx" \
  --npy "$T/img0.npy" --npy "$T/img1.npy" --quiet || { echo "FAIL: calib_stats.js --npy"; exit 1; }
node "$SRCDIR/tools/ort/calib_stats.js" "$T/one_cal.onnx" "$T/stats_dir.onnx" \
  --inputs "$T/dir0" --inputs "$T/dir1" --quiet || { echo "FAIL: calib_stats.js --inputs"; exit 1; }
cmp -s "$T/stats.onnx" "$T/stats_npy.onnx" || { echo "FAIL: --npy statistics differ from --pb"; exit 1; }
cmp -s "$T/stats.onnx" "$T/stats_dir.onnx" || { echo "FAIL: --inputs statistics differ from --pb"; exit 1; }
echo "calib_moments: all passed"
