#!/usr/bin/env bash
# `compress --calib DIR` end to end on the bundled small CNN, 8 rendered
# inputs (tests/tools/make_images.py): the default hold-out is 2 inputs
# (img_00, img_05: one per half of the list), the statistics come from the
# other 6 (the Node route on those 6 gives the same file), the output is
# written, and the report's measured deviation (JSON "measured", stderr,
# HTML) equals, within 1e-5 relative, what `onnxtd eval` and an
# independent ONNX Runtime run (Node, tools/ort) give for the original and
# the written model on the held-out inputs. At the same budget the calibrated model deviates less on those
# inputs than the data-free one. --holdout 0 measures on the calibration
# inputs and says so; a data-free run says it was not measured and how to
# measure it ("measured": null); option misuse exits 2, nothing written.
#
#   bash tests/scripts/calib_measured.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
td_use_ort
MODEL=$SRCDIR/tests/onnx_models/small_cnn.onnx
BUDGET=(--method tucker2 --ratio 0.3)

"$PY" "$SRCDIR/tests/tools/make_images.py" "$T/in" 8 64 --seed 3 ||
  { echo "FAIL: making the images"; exit 1; }

# The deviation of B from A on the given .npy inputs, by onnxruntime-node
# (not onnxtd's runtime room): JSON {name: {rel_l2, max_abs, cosine}}.
cat > "$T/dev.js" <<'JS'
const fs = require('fs');
const ort = require(process.env.ORTDIR + '/node_modules/onnxruntime-node');
function npy(file) {  // float32, C order, version 1.0 (numpy.save)
  const b = fs.readFileSync(file);
  const hl = b.readUInt16LE(8), h = b.toString('latin1', 10, 10 + hl);
  if (!/'descr': '<f4'/.test(h) || /'fortran_order': True/.test(h)) throw new Error(file);
  const dims = /'shape': \(([^)]*)\)/.exec(h)[1].split(',').filter((x) => x.trim()).map(Number);
  const raw = b.subarray(10 + hl);
  const a = new Float32Array(raw.length / 4);
  new Uint8Array(a.buffer).set(raw);
  return new ort.Tensor('float32', a, dims);
}
(async () => {
  const [fa, fb, ...files] = process.argv.slice(2);
  const A = await ort.InferenceSession.create(fa), B = await ort.InferenceSession.create(fb);
  const acc = {};
  for (const f of files) {
    const feed = { [A.inputNames[0]]: npy(f) };
    const ra = await A.run(feed), rb = await B.run(feed);
    for (const o of A.outputNames) {
      const e = acc[o] || (acc[o] = { aa: 0, bb: 0, ab: 0, dd: 0, max: 0 });
      const x = ra[o].data, y = rb[o].data;
      for (let i = 0; i < x.length; i++) {
        const d = y[i] - x[i];
        e.aa += x[i] * x[i]; e.bb += y[i] * y[i]; e.ab += x[i] * y[i]; e.dd += d * d;
        e.max = Math.max(e.max, Math.abs(d));
      }
    }
  }
  const out = {};
  for (const [o, e] of Object.entries(acc))
    out[o] = { rel_l2: Math.sqrt(e.dd) / Math.sqrt(e.aa), max_abs: e.max,
               cosine: e.ab / (Math.sqrt(e.aa) * Math.sqrt(e.bb)) };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e.message || e); process.exit(1); });
JS
dev() { ORTDIR="$SRCDIR/tools/ort" node "$T/dev.js" "$@"; }
HELD=("$T/in/img_00.npy" "$T/in/img_05.npy")

# ---- calibrated, default hold-out
"$BIN" compress "$MODEL" -o "$T/cal.onnx" "${BUDGET[@]}" --calib "$T/in" \
  --report "$T/cal.json" --report-html "$T/cal.html" --save-stats "$T/cal.stats.onnx" \
  --runs 5 2> "$T/cal.txt" || { cat "$T/cal.txt"; echo "FAIL: compress --calib"; exit 1; }
[ -s "$T/cal.onnx" ] || fail "no output written"
dev "$MODEL" "$T/cal.onnx" "${HELD[@]}" > "$T/cal.dev.json" || fail "the Node run failed"
"$PY" - "$T/cal.json" "$T/cal.dev.json" "$T/cal.txt" "$T/cal.html" <<'PYEOF' || fail "calibrated: report"
import json, math, sys
r = json.load(open(sys.argv[1]))
ref = json.load(open(sys.argv[2]))
text, html = open(sys.argv[3]).read(), open(sys.argv[4]).read()
m = r["measured"]
assert m is not None, "no measured deviation"
assert m["inputs"] == "held-out" and m["samples"] == 2 and m["calibration_samples"] == 6, m
assert [o["name"] for o in m["outputs"]] == list(ref), (m["outputs"], ref)
for o in m["outputs"]:
    e = ref[o["name"]]
    # the same runtime computes both: equal to 1e-5 of the value itself
    # (the deviations here are small, so an absolute bound would say little)
    for k in ("rel_l2", "max_abs"):
        assert abs(o[k] - e[k]) <= 1e-5 * abs(e[k]) + 1e-15, (k, o[k], e[k])
    assert abs(o["cosine"] - e["cosine"]) <= 1e-9, (o["cosine"], e["cosine"])
    # logits [1, 10]: class scores, so top-1 agreement is reported
    assert o["top1_agreement"] is not None and 0 <= o["top1_agreement"] <= 1, o
lat = m["latency"]
assert lat["runs"] == 5 and lat["before_ms"] > 0 and lat["after_ms"] > 0, lat
assert math.isclose(lat["ratio"], lat["after_ms"] / lat["before_ms"], rel_tol=1e-6), lat
assert "statistics from 6 inputs in " in text, text
assert "measured against the original on 2 held-out inputs, ONNX Runtime 1." in text, text
assert m["statistics_seconds"] > 0 and m["statistics_peak_rss"] > 0, m
assert "output 'logits': rel. L2" in text and "latency" in text, text
# the text gives a speed (before / after), as the "speed:" line does, not
# the JSON's time ratio, which read beside it looked like a slowdown
import re
lm = re.search(r"latency ([0-9.e+-]+) ms -> ([0-9.e+-]+) ms \(([0-9.]+)x the "
               r"original's speed\), medians of 5 interleaved runs", text)
assert lm, text
assert abs(float(lm[3]) - lat["before_ms"] / lat["after_ms"]) <= 0.006, (lm[3], lat)
assert "not measured" not in text, text
assert "held-out input" in html and "logits" in html, "HTML lacks the measured deviation"
o = m["outputs"][0]
print("calibrated: held-out rel. L2 %.4g (Node %.4g), cosine %.6f, latency ratio %.2f"
      % (o["rel_l2"], ref["logits"]["rel_l2"], o["cosine"], lat["ratio"]))
PYEOF

# and what `onnxtd eval` says for the same models and held-out inputs
"$BIN" eval "$MODEL" "$T/cal.onnx" --inputs "${HELD[0]}" --inputs "${HELD[1]}" \
  --runs 0 --json > "$T/eval.json" || fail "onnxtd eval failed"
"$PY" - "$T/cal.json" "$T/eval.json" <<'PYEOF' || fail "report and eval disagree"
import json, sys
m = {o["name"]: o for o in json.load(open(sys.argv[1]))["measured"]["outputs"]}
e = json.load(open(sys.argv[2]))
assert e["inputs"]["samples"] == 2, e["inputs"]
for o in e["outputs"]:
    c = m[o["name"]]
    for k in ("rel_l2", "max_abs"):
        assert abs(c[k] - o[k]) <= 1e-5 * abs(o[k]) + 1e-15, (k, c[k], o[k])
    assert abs(c["cosine"] - o["cosine"]) <= 1e-9, (c["cosine"], o["cosine"])
    assert c["top1_agreement"] == o["top1"]["fraction"], (c, o["top1"])
PYEOF

# the statistics are the 6 calibration inputs' (the Node route on them)
"$BIN" stats-model "$MODEL" -o "$T/cal_model.onnx" 2>/dev/null &&
  node "$SRCDIR/tools/ort/calib_stats.js" "$T/cal_model.onnx" "$T/node6.onnx" --quiet \
    $(for i in 01 02 03 04 06 07; do echo --npy "$T/in/img_$i.npy"; done) ||
  fail "the Node route failed"
"$PY" - "$T/cal.stats.onnx" "$T/node6.onnx" <<'PYEOF' || fail "the held-out inputs were used for statistics"
import sys
import numpy as np
import onnx
from onnx import numpy_helper as nh
a = {t.name: nh.to_array(t) for t in onnx.load(sys.argv[1]).graph.initializer}
b = {t.name: nh.to_array(t) for t in onnx.load(sys.argv[2]).graph.initializer}
assert sorted(a) == sorted(b)
for k in a:
    assert np.allclose(a[k], b[k], rtol=1e-6, atol=0), k
PYEOF

# ---- data-free at the same budget: not measured, and worse on those inputs
"$BIN" compress "$MODEL" -o "$T/free.onnx" "${BUDGET[@]}" --report "$T/free.json" \
  2> "$T/free.txt" || fail "data-free compress"
grep -qF "not measured: nothing ran $T/free.onnx on real inputs to compare its outputs; measure it with 'onnxtd eval $MODEL $T/free.onnx --inputs" "$T/free.txt" ||
  fail "data-free: no 'not measured' line: $(tail -2 "$T/free.txt")"
[ "$(grep -c "not measured" "$T/free.txt")" = 1 ] || fail "data-free: not one line"
"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); assert "measured" in r and r["measured"] is None' \
  "$T/free.json" || fail 'data-free: the JSON lacks "measured": null'
dev "$MODEL" "$T/free.onnx" "${HELD[@]}" > "$T/free.dev.json" || fail "the Node run failed"
"$PY" - "$T/cal.dev.json" "$T/free.dev.json" <<'PYEOF' || fail "calibrated is not better than data-free"
import json, sys
c = json.load(open(sys.argv[1]))["logits"]["rel_l2"]
f = json.load(open(sys.argv[2]))["logits"]["rel_l2"]
print("held-out rel. L2: calibrated %.4g, data-free %.4g" % (c, f))
assert c < f
PYEOF

# ---- --holdout 0: measured on the calibration inputs, and said so
"$BIN" compress "$MODEL" -o "$T/h0.onnx" "${BUDGET[@]}" --calib "$T/in" --holdout 0 \
  --runs 0 --report "$T/h0.json" 2> "$T/h0.txt" || fail "--holdout 0"
"$PY" - "$T/h0.json" "$T/h0.txt" <<'PYEOF' || fail "--holdout 0: report"
import json, sys
m = json.load(open(sys.argv[1]))["measured"]
assert m["inputs"] == "calibration" and m["samples"] == 8 and m["calibration_samples"] == 8, m
assert m["latency"] is None, m
t = open(sys.argv[2]).read()
assert "the 8 calibration inputs themselves" in t, t
PYEOF

# ---- misuse: exit 2, nothing written
misuse() {  # TEXT OPTIONS...
  local text=$1
  shift
  td_misuse "$MODEL" "$text" --ratio 0.5 "$@"
}
misuse "--holdout 8 leaves no calibration input of the 8 given" --calib "$T/in" --holdout 8
misuse "--holdout needs --calib" --holdout 1
misuse "--save-stats needs --calib" --save-stats "$T/s.onnx"
misuse "--calib and --act-stats exclude each other" --calib "$T/in" --act-stats "$T/cal.stats.onnx"

# ---- an output over a file read: exit 1 (as every output path), nothing written
refused() {  # TEXT OPTIONS...
  local text=$1
  shift
  rm -f "$T/x.onnx"
  local before
  before=$(sha256sum "$MODEL" "$T"/in/* | sha256sum)
  "$BIN" compress "$MODEL" -o "$T/x.onnx" --ratio 0.5 "$@" 2> "$T/err.txt"
  local rc=$?
  [ $rc -eq 1 ] || fail "$*: exit $rc, wanted 1"
  grep -qF -- "$text" "$T/err.txt" || fail "$*: message lacks '$text': $(cat "$T/err.txt")"
  [ ! -e "$T/x.onnx" ] || fail "$*: an output was written"
  [ "$(sha256sum "$MODEL" "$T"/in/* | sha256sum)" = "$before" ] || fail "$*: an input changed"
}
refused "(--save-stats) is '$MODEL' (the model read)" --calib "$T/in" --save-stats "$MODEL"
first=$(ls "$T"/in/* | head -1)
refused "(--save-stats) is a file in '$T/in' (--calib), a folder read" --calib "$T/in" --save-stats "$first"
refused "(--report) is a file in '$T/in' (--calib), a folder read" --calib "$T/in" --report "$first"
refused "(--save-stats) is '$first' (--calib), a file read" --calib "$first" --save-stats "$first"

td_done calib_measured
