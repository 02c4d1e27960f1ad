#!/usr/bin/env bash
# The mean shift of a calibrated Gemm / MatMul chain (td_whiten.h): with
# the inputs' channel means known, (W - W~) mu goes into the output's bias,
# as a Conv's does, and the factors fit the centred input only. On a
# model of a MatMul, a Gemm with C and a Gemm without it, each reading an
# input far from zero mean (an offset, then ReLUs):
# - the MatMul's chain ends in an Add of one value per output, the Gemm
#   with C gets a new C (its own plus the shift), the Gemm without one
#   gains a C; each layer's parameters count that bias;
# - the bias is (W - W~) mu, recomputed here from the factors written and
#   the statistics file's means (to 1e-4 of its size);
# - on held-out random inputs the output error is below 0.95 of the error
#   of the same compression from the same statistics without the means
#   (the chains as before: two MatMuls, C as it was). The gain is about a
#   rank's worth (measured: 0.88): whitened with the second moment, the
#   factors already keep the mean's direction, and taking the shift in
#   the bias frees the rank it held;
# - with fewer positions in the statistics than the layer's channels (8
#   inputs of 8 rows for the MatMul's 64), no shift is taken: the
#   covariance left after centring would be of lower rank than the input;
# - an opset-6 model takes no shift (before opset 7, Add and Gemm's C
#   broadcast a vector only under an attribute): no Add after the
#   MatMul chain, C as it was.
#
#   bash tests/scripts/matrix_mean_shift.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
td_need_node_ort
CAL=$SRCDIR/tools/ort/calib_stats.js

"$PY" - "$T/m.onnx" "$T/m6.onnx" <<'PYEOF' || { echo "FAIL: model generator"; exit 1; }
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(5)

def decaying(k, n, rate):
    """a k x n matrix whose singular values fall as exp(-rate i)"""
    u, _ = np.linalg.qr(rng.standard_normal((k, k)))
    v, _ = np.linalg.qr(rng.standard_normal((n, n)))
    r = min(k, n)
    s = np.exp(-rate * np.arange(r))
    return (u[:, :r] * s) @ v[:r, :] * np.sqrt(k)

def build(opset):
    w1 = decaying(64, 48, 0.08).astype(np.float32)
    w2 = decaying(48, 32, 0.08).astype(np.float32)
    c2 = rng.standard_normal(32).astype(np.float32)
    w3 = decaying(32, 16, 0.1).astype(np.float32)
    off = np.full(64, 2.0, np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((off, "off"), (w1, "w1"), (w2, "w2"), (c2, "c2"), (w3, "w3"))]
    nodes = [
        helper.make_node("Add", ["x", "off"], ["xo"], name="offset"),
        helper.make_node("MatMul", ["xo", "w1"], ["h1"], name="mm"),
        helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
        helper.make_node("Gemm", ["r1", "w2", "c2"], ["h2"], name="gemm_c"),
        helper.make_node("Relu", ["h2"], ["r2"], name="relu2"),
        helper.make_node("Gemm", ["r2", "w3"], ["y"], name="gemm_noc"),
    ]
    if opset < 7:   # Add-6 broadcasts a vector only under broadcast=1
        nodes[0] = helper.make_node("Add", ["x", "off"], ["xo"], name="offset", broadcast=1)
        nodes[3] = helper.make_node("Gemm", ["r1", "w2", "c2"], ["h2"], name="gemm_c", broadcast=1)
        nodes[5] = helper.make_node("Gemm", ["r2", "w3", "c3"], ["y"], name="gemm_noc", broadcast=1)
        inits.append(numpy_helper.from_array(np.zeros(16, np.float32), "c3"))
    g = helper.make_graph(nodes, "matrix_mean",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8, 16])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m

onnx.save(build(13), sys.argv[1])
onnx.save(build(6), sys.argv[2])
PYEOF

"$BIN" stats-model "$T/m.onnx" -o "$T/cal.onnx" > /dev/null || { echo "FAIL: stats-model"; exit 1; }
node "$CAL" "$T/cal.onnx" "$T/stats.onnx" --random 16 --seed 1 --quiet || { echo "FAIL: calib_stats.js"; exit 1; }
td_strip_means "$T/stats.onnx" "$T/nomean.onnx" || { echo "FAIL: strip means"; exit 1; }

C=(--method svd --ratio 0.3 --no-protect --allow-slower --no-measure --quiet)
"$BIN" compress "$T/m.onnx" -o "$T/with.onnx" "${C[@]}" --act-stats "$T/stats.onnx" \
  --report "$T/with.json" || fail "compress with the means"
"$BIN" compress "$T/m.onnx" -o "$T/without.onnx" "${C[@]}" --act-stats "$T/nomean.onnx" \
  --report "$T/without.json" || fail "compress without the means"

# structure, parameters and the bias itself
"$PY" - "$T/m.onnx" "$T/with.onnx" "$T/without.onnx" "$T/stats.onnx" "$T/with.json" "$T/without.json" <<'PYEOF' || fail "chains"
import json, sys
import numpy as np
import onnx
from onnx import numpy_helper

orig, w, wo, st = (onnx.load(p) for p in sys.argv[1:5])
rep, rep_wo = (json.load(open(p)) for p in sys.argv[5:7])
def consts(m):
    d = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}
    for n in m.graph.node:
        if n.op_type == "Constant":
            d[n.output[0]] = numpy_helper.to_array(n.attribute[0].t).astype(np.float64)
    return d
oc, wc, woc, sc = consts(orig), consts(w), consts(wo), consts(st)
def producer(m, name):
    return [n for n in m.graph.node if name in n.output][0]

checks = [("mm", "h1", "xo", "w1", None), ("gemm_c", "h2", "r1", "w2", "c2"),
          ("gemm_noc", "y", "r2", "w3", None)]
for layer, out, x, wname, c in checks:
    W = oc[wname]                       # K x N
    mu = sc["mean/" + x]
    last = producer(w, out)
    if layer == "mm":
        assert last.op_type == "Add", (layer, last.op_type)
        mm2 = producer(w, last.input[0])
        b = wc[last.input[1]]
        f2 = wc[mm2.input[1]]
        f1 = wc[producer(w, mm2.input[0]).input[1]]
        assert producer(wo, out).op_type == "MatMul", "without the means: no Add"
    else:
        assert last.op_type == "Gemm" and len(last.input) == 3, (layer, list(last.input))
        b = wc[last.input[2]] - (oc[c] if c else 0)
        f2 = wc[last.input[1]]
        f1 = wc[producer(w, last.input[0]).input[1]]
        lwo = producer(wo, out)
        assert len(lwo.input) == (3 if c else 2), (layer, list(lwo.input))
        if c:
            assert np.array_equal(woc[lwo.input[2]], oc[c]), "without the means C changed"
    assert b.shape == (W.shape[1],), (layer, b.shape)
    shift = mu @ (W - f1 @ f2)
    err = np.linalg.norm(b - shift) / np.linalg.norm(shift)
    assert err < 1e-4, (layer, err)
    lr = [l for l in rep["layers"] if l["node"] == layer][0]
    lo = [l for l in rep_wo["layers"] if l["node"] == layer][0]
    r = lr["ranks"][0]
    K, N = W.shape
    want = r * (K + N) + N
    assert lr["params_after"] == want, (layer, lr["params_after"], want)
    assert lo["params_after"] == want - (0 if c else N), (layer, lo["params_after"])
    print("  %s: rank %d, bias = (W - W~) mu to %.1e, |shift| %.3g" % (layer, r, err, np.linalg.norm(shift)))
PYEOF

# the output error on held-out random inputs (seeds calibration did not use)
out_err() { td_worst_rel_l2 "$T/m.onnx" "$1" 101 202; }
ew=$(out_err "$T/with.onnx") || fail "compare with"
eo=$(out_err "$T/without.onnx") || fail "compare without"
echo "  output rel. L2 with the means $ew, without $eo"
"$PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) < 0.95 * float(sys.argv[2]) else 1)" "$ew" "$eo" ||
  fail "with the means $ew, not below 0.95 x $eo"

# too few positions: 8 x 8 rows for the MatMul's 64 channels (the Gemms'
# 48 and 32 are below 64: they still take it)
node "$CAL" "$T/cal.onnx" "$T/few.onnx" --random 8 --seed 1 --quiet || fail "calib_stats.js, 8 inputs"
"$BIN" compress "$T/m.onnx" -o "$T/few_out.onnx" "${C[@]}" --act-stats "$T/few.onnx" || fail "compress, 8 inputs"
"$PY" - "$T/few_out.onnx" <<'PYEOF' || fail "too few positions: the MatMul took a shift"
import sys
import onnx
m = onnx.load(sys.argv[1])
last = [n for n in m.graph.node if "h1" in n.output][0]
assert last.op_type == "MatMul", last.op_type
gemm = [n for n in m.graph.node if "h2" in n.output][0]
assert gemm.input[2] != "c2", "the Gemm (48 channels, 64 positions) took no shift"
PYEOF

# opset 6: no shift taken (ONNX Runtime runs opset 7 on, so the opset-13
# model's statistics serve: the tensors have the same names)
"$BIN" compress "$T/m6.onnx" -o "$T/w6.onnx" "${C[@]}" --act-stats "$T/stats.onnx" || fail "compress opset 6"
"$PY" - "$T/w6.onnx" <<'PYEOF' || fail "opset 6 chain"
import sys
import onnx
m = onnx.load(sys.argv[1])
ops = [n.op_type for n in m.graph.node]
assert ops.count("Add") == 1, ops      # the model's own offset
c = {t.name for t in m.graph.initializer}
gemms = [n for n in m.graph.node if n.op_type == "Gemm" and n.output[0] in ("h2", "y")]
assert [n.input[2] for n in gemms] == ["c2", "c3"], [list(n.input) for n in gemms]
onnx.checker.check_model(m)
PYEOF

td_done matrix_mean_shift
