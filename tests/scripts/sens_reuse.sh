#!/usr/bin/env bash
# The output-error bound's search reusing work between its steps, and the
# measured sensitivity with its cache, on the bundled small CNN with 8
# rendered inputs (tests/tools/make_images.py):
# - the search takes factors from earlier steps (the final compression
#   factors nothing: it is the chosen step's plan), and its model is the
#   one a plain compression at the chosen budget writes (no reuse there);
# - --sensitivity measured probes the layers in the runtime, the report
#   says how (groups, inputs, runs), and writes --sens-cache; a second run
#   at another budget reads the cache (no model run for it, said in the
#   report); at the first budget again, from the cache, the model is the
#   same as measured afresh;
# - --sens-groups: one group per layer, or one for all, as the report
#   says, with its own cache key; the bound alone (no budget) probes too;
# - other calibration inputs: the cache's key differs, measured again;
# - a --sens-cache that is not such a cache is refused (exit 2) and kept;
#   misuse exits 2.
#
#   bash tests/scripts/sens_reuse.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
td_use_ort
MODEL=$SRCDIR/tests/onnx_models/small_cnn.onnx
COMMON=(--allow-slower --runs 0 --threads 1)
E=1e-4

"$PY" "$SRCDIR/tests/tools/make_images.py" "$T/in" 8 64 --seed 3 >/dev/null &&
"$PY" "$SRCDIR/tests/tools/make_images.py" "$T/in2" 8 64 --seed 4 >/dev/null ||
  { echo "FAIL: making the images"; exit 1; }

# same_graph A B: the two models' graphs (nodes, initializers) are equal
same_graph() {
  "$PY" - "$1" "$2" <<'PYEOF'
import onnx, sys
a, b = (onnx.load(p).graph for p in sys.argv[1:3])
assert a.SerializeToString() == b.SerializeToString(), "graphs differ"
PYEOF
}

# ---- the search reuses factors; its model is the plain compression's
"$BIN" compress "$MODEL" -o "$T/s.onnx" --calib "$T/in" --max-error $E \
  "${COMMON[@]}" --report "$T/s.json" 2> "$T/s.txt" ||
  { cat "$T/s.txt"; fail "compress --max-error $E"; }
chosen=$("$PY" - "$T/s.json" "$T/s.txt" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
b = r["measured"]["bound"]
steps = [s for s in b["steps"] if s["planned"]]
layers = len(r["layers"])
# every planned step and the final compression see every layer; what was
# not factored was taken from an earlier step, the final one entirely
assert b["layers_factored"] + b["layers_reused"] == layers * (len(steps) + 1), b
assert b["layers_reused"] >= layers, b
assert "layer factorisations: %d computed, %d taken from an earlier step" % (
    b["layers_factored"], b["layers_reused"]) in open(sys.argv[2]).read()
assert r["measured"]["sensitivity"] is None
print(repr(b["chosen"]))
PYEOF
) || fail "search report"
if [ -n "$chosen" ]; then
  "$BIN" compress "$MODEL" -o "$T/p.onnx" --calib "$T/in" --target-params "$chosen" \
    --max-error off "${COMMON[@]}" --quiet || fail "plain compression at $chosen"
  same_graph "$T/s.onnx" "$T/p.onnx" || fail "the search's model is not the plain compression's at $chosen"
fi

# ---- measured sensitivity, written to the cache, then read from it
SENS=(--sensitivity measured --sens-cache "$T/w.sens")
"$BIN" compress "$MODEL" -o "$T/m1.onnx" --calib "$T/in" --target-params 0.4 \
  --max-error off "${SENS[@]}" "${COMMON[@]}" --report "$T/m1.json" 2> "$T/m1.txt" ||
  { cat "$T/m1.txt"; fail "--sensitivity measured"; }
head -1 "$T/w.sens" 2>/dev/null | grep -qx "onnxtd-sensitivity 1" || fail "no cache written"
"$PY" - "$T/m1.json" "$T/m1.txt" <<'PYEOF' || fail "first measurement report"
import json, sys
s = json.load(open(sys.argv[1]))["measured"]["sensitivity"]
assert s and not s["from_cache"], s
assert s["layers"] >= 2 and 1 <= s["groups"] <= 8 and s["inputs"] == 2, s
# the original and all probes at once per input, one run per group and input
assert s["model_runs"] == 2 * (2 + s["groups"]), s
assert s["weight_min"] < s["weight_max"], s
text = open(sys.argv[2]).read()
assert "probed on 2 calibration inputs, %d whole-model runs" % s["model_runs"] in text, text
PYEOF
"$BIN" compress "$MODEL" -o "$T/m2.onnx" --calib "$T/in" --target-params 0.6 \
  --max-error off "${SENS[@]}" "${COMMON[@]}" --report "$T/m2.json" 2> "$T/m2.txt" ||
  fail "second budget from the cache"
"$PY" - "$T/m2.json" "$T/m2.txt" <<'PYEOF' || fail "second budget: the cache was not used"
import json, sys
s = json.load(open(sys.argv[1]))["measured"]["sensitivity"]
assert s["from_cache"] and s["model_runs"] == 0, s
assert "weights read from" in open(sys.argv[2]).read()
PYEOF
"$BIN" compress "$MODEL" -o "$T/m3.onnx" --calib "$T/in" --target-params 0.4 \
  --max-error off "${SENS[@]}" "${COMMON[@]}" --quiet || fail "first budget from the cache"
same_graph "$T/m1.onnx" "$T/m3.onnx" || fail "from the cache, another model than measured afresh"
# the weights steer the allocation: another model than without them
"$BIN" compress "$MODEL" -o "$T/r.onnx" --calib "$T/in" --target-params 0.4 \
  --max-error off "${COMMON[@]}" --quiet || fail "--sensitivity rel"
same_graph "$T/m1.onnx" "$T/r.onnx" 2>/dev/null && fail "measured weights changed nothing"

# ---- one group per layer (--sens-groups layers), and at most 1: each
# layer, or all of them, probed; another probe, so another cache key
"$BIN" compress "$MODEL" -o "$T/g.onnx" --calib "$T/in" --target-params 0.4 \
  --max-error off "${SENS[@]}" --sens-groups layers "${COMMON[@]}" \
  --report "$T/g.json" 2>/dev/null || fail "--sens-groups layers"
"$BIN" compress "$MODEL" -o "$T/g1.onnx" --calib "$T/in" --target-params 0.4 \
  --max-error off --sensitivity measured --sens-groups 1 "${COMMON[@]}" \
  --report "$T/g1.json" 2>/dev/null || fail "--sens-groups 1"
"$PY" - "$T/g.json" "$T/g1.json" "$T/m1.json" <<'PYEOF' || fail "--sens-groups report"
import json, sys
g, g1, m1 = (json.load(open(p))["measured"]["sensitivity"] for p in sys.argv[1:4])
assert not g["from_cache"], g   # the default's cache is not this probe's
assert g["groups"] == g["layers"] == m1["layers"] > m1["groups"] or \
    g["groups"] == g["layers"] == m1["layers"] == m1["groups"], (g, m1)
assert g["model_runs"] == 2 * (2 + g["groups"]), g
assert g1["groups"] == 1 and g1["model_runs"] == 2 * 3, g1
# one group: every layer the same weight
assert g1["weight_min"] == g1["weight_max"] == 1, g1
PYEOF
# the bound alone, no budget: its search allocates with the weights
"$BIN" compress "$MODEL" -o "$T/b.onnx" --calib "$T/in" --max-error off \
  --min-agreement 0.5 --sensitivity measured "${COMMON[@]}" --report "$T/b.json" \
  2>/dev/null || fail "--sensitivity measured under the agreement bound alone"
"$PY" -c 'import json,sys; s = json.load(open(sys.argv[1]))["measured"]["sensitivity"]; assert s and s["model_runs"] > 0, s' \
  "$T/b.json" || fail "the bound alone: no sensitivity measured"

# ---- other inputs: another key, measured again and rewritten
cp "$T/w.sens" "$T/w.before"
"$BIN" compress "$MODEL" -o "$T/m4.onnx" --calib "$T/in2" --target-params 0.4 \
  --max-error off "${SENS[@]}" "${COMMON[@]}" --report "$T/m4.json" 2>/dev/null ||
  fail "other inputs"
"$PY" -c 'import json,sys; s = json.load(open(sys.argv[1]))["measured"]["sensitivity"]; assert not s["from_cache"] and s["model_runs"] > 0, s' \
  "$T/m4.json" || fail "other inputs: the stale cache was used"
cmp -s "$T/w.sens" "$T/w.before" && fail "other inputs: the cache was not rewritten"

# ---- a file that is not a cache: refused, kept; misuse
misuse() {  # TEXT OPTIONS...
  local text=$1
  shift
  td_misuse "$MODEL" "$text" "$@" "${COMMON[@]}"
}
echo "my notes" > "$T/notes.txt"
misuse "is not a sensitivity cache of onnxtd" --calib "$T/in" --target-params 0.4 \
  --sensitivity measured --sens-cache "$T/notes.txt"
[ "$(cat "$T/notes.txt")" = "my notes" ] || fail "the file that is not a cache was changed"
misuse "--sens-cache needs --sensitivity measured" --calib "$T/in" \
  --target-params 0.4 --sens-cache "$T/w.sens"
misuse "--sensitivity measured needs --calib" --target-params 0.4 \
  --sensitivity measured
misuse "--sensitivity measured needs --calib" --calib "$T/in" \
  --ratio 0.5 --sensitivity measured
misuse "--sens-groups needs --sensitivity measured" --calib "$T/in" \
  --target-params 0.4 --sens-groups 4
for v in 0 -2 x 1.5; do
  misuse "--sens-groups needs a positive integer or 'layers'" --calib "$T/in" \
    --target-params 0.4 --sensitivity measured --sens-groups "$v"
done

td_done sens_reuse
