#!/usr/bin/env bash
# onnxtd eval on a compressed model against its original (run by ctest):
#   bash tests/scripts/eval_compressed.sh BINARY SRCDIR
#
# small_cnn compressed at --ratio 0.5, 8 input images (.npy): the deviation
# is > 0 and under a bound that holds (exit 0), a too-tight --rtol or
# --min-cosine exits 1 naming the output; the rel. L2 and cosine equal
# those computed independently through onnxruntime-node (Node.js binding)
# from the same arrays stored as TensorProto files, to 1e-8 relative (the
# 9 significant digits the JSON report carries).
set -u
BIN="$1"
SRCDIR="$2"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$SRCDIR/tests/lsan-ort.supp:print_suppressions=0}"
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
ORIG="$SRCDIR/tests/onnx_models/small_cnn.onnx"

"$BIN" compress "$ORIG" -o "$T/c.onnx" --ratio 0.5 --allow-slower --quiet 2> "$T/err" ||
  { echo "FAIL: compress: $(cat "$T/err")"; exit 1; }
/usr/bin/python3 - "$T" <<'PY' || exit 1
import os, sys
import numpy as np
from onnx import numpy_helper
T = sys.argv[1]
rng = np.random.default_rng(11)
os.makedirs(f"{T}/npy"); os.makedirs(f"{T}/pb")
for i in range(8):
    a = rng.standard_normal((1, 3, 64, 64)).astype(np.float32)
    np.save(f"{T}/npy/img{i}.npy", a)
    open(f"{T}/pb/img{i}.pb", "wb").write(numpy_helper.from_array(a, "input").SerializeToString())
PY

"$BIN" eval "$ORIG" "$T/c.onnx" --inputs "$T/npy" --threads 1 --runs 5 \
  --rtol 0.1 --min-cosine 0.99 --min-agreement 0.5 --json > "$T/ok.json" 2> "$T/err"
rc=$?
[ "$rc" = 0 ] || bad "within bounds: exit $rc: $(cat "$T/err") $(cat "$T/ok.json")"
/usr/bin/python3 - "$T/ok.json" <<'PY' || bad "report: $(cat "$T/ok.json")"
import json, sys
r = json.load(open(sys.argv[1]))
o, = r["outputs"]
assert r["pass"] and r["inputs"] == {"samples": 8, "random": False}, r
assert 0 < o["rel_l2"] < 0.1 and 0.99 < o["cosine"] < 1 and o["max_abs"] > 0, o
assert o["top1"]["rows"] == 8 and o["elements"] == 80, o
lat = r["latency"]
assert lat["runs"] == 5 and lat["a_ms"] > 0 and lat["b_ms"] > 0, lat
assert abs(lat["ratio"] - lat["b_ms"] / lat["a_ms"]) < 1e-6, lat
PY

# The bound can fail: a rel. L2 tighter than what was measured exits 1.
"$BIN" eval "$ORIG" "$T/c.onnx" --inputs "$T/npy" --threads 1 --runs 0 \
  --rtol 1e-4 > "$T/out" 2> "$T/err"
rc=$?
[ "$rc" = 1 ] || bad "--rtol 1e-4: exit $rc, expected 1"
grep -q "^output 'logits': rel. L2 .* > --rtol 0.0001" "$T/out" || bad "--rtol 1e-4: $(cat "$T/out")"
grep -q "^result: FAIL" "$T/out" || bad "no FAIL line"
"$BIN" eval "$ORIG" "$T/c.onnx" --inputs "$T/npy" --threads 1 --runs 0 \
  --min-cosine 0.9999999 > "$T/out" 2> "$T/err"
[ $? = 1 ] || bad "--min-cosine 0.9999999: not exit 1"
grep -q -- "^output 'logits': cosine .* < --min-cosine 1$" "$T/out" ||
  bad "--min-cosine 0.9999999: the failure does not name the flag: $(cat "$T/out")"
# the JSON keeps the library's names
"$BIN" eval "$ORIG" "$T/c.onnx" --inputs "$T/npy" --threads 1 --runs 0 \
  --rtol 1e-4 --json > "$T/fail.json" 2> "$T/err"
grep -q '> rtol 0.0001' "$T/fail.json" && ! grep -q -- '--rtol' "$T/fail.json" ||
  bad "--json: not the library's names: $(cat "$T/fail.json")"
# The original against itself on the same inputs: exactly 0.
"$BIN" eval "$ORIG" "$ORIG" --inputs "$T/npy" --threads 1 --runs 0 --rtol 0 \
  --json > "$T/self.json" 2> "$T/err" || bad "self: exit $?: $(cat "$T/err")"
grep -q '"rel_l2":0,"max_abs":0,"cosine":1' "$T/self.json" || bad "self: $(cat "$T/self.json")"

# The same numbers through another binding of ONNX Runtime.
cat > "$T/ref.js" <<'JS'
const path = require('path');
const fs = require('fs');
const [src, a, b, dir] = process.argv.slice(2);
const c = require(path.join(src, 'tools/ort/ort_common.js'));
const ort = c.loadOrt();
(async () => {
  const sa = await c.createSession(ort, a, {threads: 1});
  const sb = await c.createSession(ort, b, {threads: 1});
  let aa = 0, bb = 0, ab = 0, dd = 0;
  for (const f of fs.readdirSync(dir).sort()) {
    const t = c.readTensorFile(path.join(dir, f));
    const feeds = {input: new ort.Tensor('float32', t.data, t.dims)};
    const x = (await sa.run(feeds)).logits.data, y = (await sb.run(feeds)).logits.data;
    for (let i = 0; i < x.length; i++) {
      aa += x[i] * x[i]; bb += y[i] * y[i]; ab += x[i] * y[i];
      dd += (y[i] - x[i]) * (y[i] - x[i]);
    }
  }
  console.log(JSON.stringify({rel_l2: Math.sqrt(dd) / Math.sqrt(aa),
                              cosine: ab / (Math.sqrt(aa) * Math.sqrt(bb))}));
})().catch((e) => { console.error(e.message); process.exit(1); });
JS
# onnxruntime-node is not built with sanitizers; run Node without them.
env -u LD_PRELOAD node "$T/ref.js" "$SRCDIR" "$ORIG" "$T/c.onnx" "$T/pb" > "$T/ref.json" 2> "$T/err" ||
  bad "node reference: $(cat "$T/err")"
/usr/bin/python3 - "$T/ok.json" "$T/ref.json" <<'PY' || bad "onnxtd and onnxruntime-node disagree"
import json, sys
r = json.load(open(sys.argv[1]))["outputs"][0]
ref = json.load(open(sys.argv[2]))
for k in ("rel_l2", "cosine"):
    if abs(r[k] - ref[k]) > 1e-8 * abs(ref[k]):  # JSON carries 9 digits
        sys.exit(f"{k}: onnxtd {r[k]!r}, onnxruntime-node {ref[k]!r}")
PY

[ "$fail" = 0 ] && echo "eval_compressed: ok ($(grep -o '"rel_l2":[^,]*' "$T/ok.json"))" && exit 0
exit 1
