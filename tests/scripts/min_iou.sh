#!/usr/bin/env bash
# The mask-IoU bound (`compress --calib ... --min-iou U [--iou-threshold
# T]`) on a small model whose output "mask" is a sigmoid map
# (tests/tools/sigmoid_map_model.py; 8 inputs, the default hold-out x_00
# and x_05), against that tool's numpy evaluation of both models:
# - with --max-error off the IoU alone bounds: the report's lowest and mean
#   per-input IoU of the written model equal numpy's, the lowest is >= U,
#   and the search tried a step below U (so the bound decided); the second
#   output (values above 1) gets no IoU; `eval` reports the same IoU;
# - --iou-threshold moves where the maps are binarised (numpy's at 0.3);
# - a budget the bound cannot meet is refused, exit 1, nothing written,
#   the message naming the bound and the most compression within it;
# - --sensitivity measured measures on the outputs the bound judges, and
#   its cache's key tells them apart;
# - a two-class softmax map (background beside foreground) is one map per
#   channel: the report's lowest IoU is numpy's per channel, below what
#   both channels pooled would give (the background, nearly all on, would
#   hold a pooled IoU up whatever became of the foreground);
# - misuse exits 2, nothing written: no --calib, --iou-threshold alone,
#   values out of range, a per-layer budget, no probability map judged.
#
#   bash tests/scripts/min_iou.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
td_use_ort
TOOL=$SRCDIR/tests/tools/sigmoid_map_model.py
"$PY" "$TOOL" make "$T" || { echo "FAIL: making the model"; exit 1; }
MODEL=$T/map.onnx
COMMON=(--allow-slower --runs 0 --threads 1)
HELD=("$T/in/x_00.npy" "$T/in/x_05.npy")

# check REPORT MODEL THRESHOLD U: the report's IoU of "mask" is numpy's,
# at least U, and "feat" has none
check() {
  local ref
  ref=$("$PY" "$TOOL" iou "$MODEL" "$2" "$3" "${HELD[@]}") || { fail "numpy on $2"; return; }
  "$PY" - "$1" "$3" "$4" $ref <<'PYEOF' || fail "report $1 against numpy ($ref)"
import json, sys
r = json.load(open(sys.argv[1]))
t, u, lo, mean, feat, _joint = map(float, sys.argv[2:])
out = {o["name"]: o for o in r["measured"]["outputs"]}
m = out["mask"]["mask_iou"]
print("  mask IoU at %g: report %.6f / %.6f, numpy %.6f / %.6f" % (t, m["min"], m["mean"], lo, mean))
assert m["threshold"] == t, m
assert abs(m["min"] - lo) < 1e-6 and abs(m["mean"] - mean) < 1e-6, (m, lo, mean)
assert m["min"] >= u, (m, u)
assert feat > 1 and out["feat"]["mask_iou"] is None, (feat, out["feat"])
b = r["measured"]["bound"]
assert b["met"] and b["max_rel_l2"] is None and b["min_mask_iou"] == u, b
assert b["iou_threshold"] == t, b
steps = [s for s in b["steps"] if s["planned"]]
assert any(s["min_mask_iou"] < u and not s["within"] for s in steps), steps
assert all((s["min_mask_iou"] >= u) == s["within"] for s in steps), steps
assert r["totals"]["model_params_after"] < r["totals"]["model_params_before"], r["totals"]
PYEOF
}

# ---- the IoU alone bounds, at the default threshold and at 0.3 (where
# most of this map is on, so a higher U decides)
for tu in 0.5:0.9 0.3:0.99; do
  t=${tu%:*} u=${tu#*:}
  topt=()
  [ $t = 0.5 ] || topt=(--iou-threshold $t)
  "$BIN" compress "$MODEL" -o "$T/c$t.onnx" --calib "$T/in" --max-error off \
    --min-iou $u "${topt[@]}" "${COMMON[@]}" --report "$T/c$t.json" 2> "$T/c$t.txt" ||
    { cat "$T/c$t.txt"; fail "compress --min-iou $u ${topt[*]}"; continue; }
  check "$T/c$t.json" "$T/c$t.onnx" $t $u
  grep -qF "warning: the bound was judged on 2 held-out inputs only" "$T/c$t.txt" ||
    fail "no warning for a bound on 2 held-out inputs"
  grep -qF "mask IoU (at $t) >= $u on every input (no rel. L2 bound)" "$T/c$t.txt" ||
    fail "the text names the bound: $(grep bound: "$T/c$t.txt")"
done
# eval reports the same IoU (at its fixed 0.5) on the held-out inputs
"$BIN" eval "$MODEL" "$T/c0.5.onnx" --inputs "${HELD[0]}" --inputs "${HELD[1]}" \
  --runs 0 --json > "$T/ev.json" || fail "eval"
"$PY" - "$T/ev.json" "$T/c0.5.json" <<'PYEOF' || fail "eval's mask IoU against compress's"
import json, sys
e = {o["name"]: o for o in json.load(open(sys.argv[1]))["outputs"]}
c = {o["name"]: o for o in json.load(open(sys.argv[2]))["measured"]["outputs"]}
assert e["feat"]["mask_iou"] is None, e["feat"]
for k in ("threshold", "min", "mean"):
    assert abs(e["mask"]["mask_iou"][k] - c["mask"]["mask_iou"][k]) < 1e-9, (e["mask"], c["mask"])
PYEOF
# the two thresholds measure different maps: the test can tell them apart
a=$(json "$T/c0.5.json" 'r["measured"]["outputs"][0]["mask_iou"]["mean"]')
b=$(json "$T/c0.3.json" 'r["measured"]["outputs"][0]["mask_iou"]["mean"]')
[ "$a" != "$b" ] || fail "IoU at 0.5 and 0.3 alike ($a)"

# ---- refused: a budget beyond the bound
rm -f "$T/r.onnx"
"$BIN" compress "$MODEL" -o "$T/r.onnx" --calib "$T/in" --max-error off \
  --min-iou 0.99 --target-params 0.3 "${COMMON[@]}" 2> "$T/r.txt"
rc=$?
[ $rc -eq 1 ] || fail "--min-iou 0.99 --target-params 0.3: exit $rc, wanted 1"
[ ! -e "$T/r.onnx" ] || fail "a refused budget wrote a model"
grep -qF -- "--min-iou 0.99 (at 0.5) (no --max-error)" "$T/r.txt" ||
  fail "the refusal names the bound: $(cat "$T/r.txt")"
grep -qF "lowest mask IoU" "$T/r.txt" || fail "the refusal gives the IoU measured: $(cat "$T/r.txt")"

# ---- measured sensitivity on the outputs judged: "feat" (conv0's ReLU)
# does not move with conv1, so judged alone it measures conv1 at 0 (in
# use, the lowest weight there is: 0.1 of the mean, td_calib_sens.h); the
# mask moves with both; a cache of one is not the other's
for o in mask feat; do
  "$BIN" compress "$MODEL" -o "$T/s_$o.onnx" --calib "$T/in" --target-params 0.7 \
    --max-error 1 --bound-output $o --sensitivity measured --sens-cache "$T/w_$o.sens" \
    "${COMMON[@]}" --report "$T/s_$o.json" 2> "$T/s_$o.txt" ||
    { cat "$T/s_$o.txt"; fail "--sensitivity measured --bound-output $o"; }
done
"$PY" - "$T/w_mask.sens" "$T/w_feat.sens" <<'PYEOF' || fail "sensitivity per output judged"
import sys
def weights(p):
    return {l.split()[2]: float(l.split()[1]) for l in open(p) if l.startswith("w ")}
m, f = weights(sys.argv[1]), weights(sys.argv[2])
print("  sensitivity weights, mask judged:", m, "feat judged:", f)
assert f["conv1"] == 0 and f["conv0"] > 1, f
assert m["conv1"] > 0.3 and m["conv0"] > 0.3, m
PYEOF
[ "$(json "$T/s_feat.json" 'r["measured"]["sensitivity"]["weight_min"]')" = 0.1 ] ||
  fail "the floor of the weights is not what the report says is in use"
# read back from the cache, the floored weights give the same model
"$BIN" compress "$MODEL" -o "$T/s_feat2.onnx" --calib "$T/in" --target-params 0.7 \
  --max-error 1 --bound-output feat --sensitivity measured --sens-cache "$T/w_feat.sens" \
  "${COMMON[@]}" --report "$T/s_feat2.json" 2>/dev/null || fail "feat from its cache"
[ "$(json "$T/s_feat2.json" 'r["measured"]["sensitivity"]["from_cache"]')" = True ] ||
  fail "feat's cache was not read"
cmp -s "$T/s_feat.onnx" "$T/s_feat2.onnx" || fail "from the cache, another model than measured afresh"
cp "$T/w_mask.sens" "$T/w_other.sens"
"$BIN" compress "$MODEL" -o "$T/s_x.onnx" --calib "$T/in" --target-params 0.7 \
  --max-error 1 --bound-output feat --sensitivity measured --sens-cache "$T/w_other.sens" \
  "${COMMON[@]}" --report "$T/s_x.json" 2>/dev/null || fail "feat on mask's cache"
[ "$(json "$T/s_x.json" 'r["measured"]["sensitivity"]["from_cache"]')" = False ] ||
  fail "the mask's cache was read for feat"

# ---- a two-class softmax map: one map per channel. Measured only
# (--max-error 1) at a budget that moves the foreground; then bounded.
"$PY" "$TOOL" make2 "$T" || fail "making the two-class model"
M2=$T/map2.onnx
"$BIN" compress "$M2" -o "$T/m2.onnx" --calib "$T/in" --max-error 1 --target-params 0.3 \
  "${COMMON[@]}" --report "$T/m2.json" 2> "$T/m2.txt" || { cat "$T/m2.txt"; fail "compress map2"; }
ref=$("$PY" "$TOOL" iou "$M2" "$T/m2.onnx" 0.5 "${HELD[@]}") || fail "numpy on map2"
"$PY" - "$T/m2.json" $ref <<'PYEOF' || fail "map2: report against numpy per channel ($ref)"
import json, sys
r = json.load(open(sys.argv[1]))
lo, mean, _feat, joint = map(float, sys.argv[2:])
m = {o["name"]: o for o in r["measured"]["outputs"]}["mask"]["mask_iou"]
print("  two-class map: report %.6f / %.6f, numpy per channel %.6f / %.6f, pooled %.6f"
      % (m["min"], m["mean"], lo, mean, joint))
assert abs(m["min"] - lo) < 1e-6 and abs(m["mean"] - mean) < 1e-6, (m, lo, mean)
assert joint > lo + 0.02, ("the pooled IoU would not have told", joint, lo)
PYEOF
"$BIN" compress "$M2" -o "$T/m2b.onnx" --calib "$T/in" --max-error off --min-iou 0.75 \
  "${COMMON[@]}" --report "$T/m2b.json" 2> "$T/m2b.txt" || { cat "$T/m2b.txt"; fail "compress map2 --min-iou"; }
ref=$("$PY" "$TOOL" iou "$M2" "$T/m2b.onnx" 0.5 "${HELD[@]}") || fail "numpy on map2 bounded"
"$PY" - "$T/m2b.json" $ref <<'PYEOF' || fail "map2 bounded: ($ref)"
import json, sys
r = json.load(open(sys.argv[1]))
lo, joint = float(sys.argv[2]), float(sys.argv[5])
m = {o["name"]: o for o in r["measured"]["outputs"]}["mask"]["mask_iou"]
print("  two-class map bounded at 0.75: per channel %.6f, pooled %.6f" % (lo, joint))
assert abs(m["min"] - lo) < 1e-6 and lo >= 0.75, (m, lo)
assert r["totals"]["model_params_after"] < r["totals"]["model_params_before"], r["totals"]
PYEOF

# ---- misuse
td_misuse "$MODEL" "need --calib" --min-iou 0.9
td_misuse "$MODEL" "give --min-iou" --calib "$T/in" --iou-threshold 0.3
td_misuse "$MODEL" "--min-iou needs a number" --calib "$T/in" --min-iou 1.5
td_misuse "$MODEL" "--iou-threshold needs a number" --calib "$T/in" --min-iou 0.9 --iou-threshold 1
td_misuse "$MODEL" "not --rank" --calib "$T/in" --min-iou 0.9 --ratio 0.5
td_misuse "$MODEL" "--min-iou bounds nothing here" --calib "$T/in" --min-iou 0.9 \
  --bound-output feat "${COMMON[@]}"
"$PY" "$SRCDIR/tests/tools/make_images.py" "$T/img" 4 64 --seed 3 >/dev/null ||
  fail "making the images"
td_misuse "$SRCDIR/tests/onnx_models/small_cnn.onnx" "--min-iou bounds nothing here" \
  --calib "$T/img" --min-iou 0.9 "${COMMON[@]}"
td_done min_iou
