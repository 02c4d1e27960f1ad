#!/usr/bin/env bash
# The output-error bound (`compress --calib ... --max-error E`) on the
# bundled small CNN with 8 rendered inputs (tests/tools/make_images.py; the
# default hold-out is img_00 and img_05):
# - without a budget, the smallest model within E is searched for; the
#   written model's deviation, measured independently by `onnxtd eval` on
#   the held-out inputs, is within E, and the search tried a smaller budget
#   that was outside it (so the bound decided);
# - a budget the model cannot meet within E is refused, exit 1, naming the
#   most compression within the bound (a budget above the one asked, whose
#   model, compressed again, is within E), and nothing is written;
# - the default bound (0.05) holds a --target-params asked with --calib;
# - --max-error off --min-agreement A: the agreement alone bounds;
# - --bound-output NAME: only that output is judged (a budget refused when
#   every output counts is written, the other output measured only);
# - misuse (no --calib; with --ratio; bad values; an output the model
#   lacks) exits 2.
#
#   bash tests/scripts/max_error.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
td_use_ort
MODEL=$SRCDIR/tests/onnx_models/small_cnn.onnx
# the cost model would keep this small CNN above 0.7 of its parameters
COMMON=(--allow-slower --runs 0 --threads 1)
HELD=(--inputs "$T/in/img_00.npy" --inputs "$T/in/img_05.npy")
E=1e-4

"$PY" "$SRCDIR/tests/tools/make_images.py" "$T/in" 8 64 --seed 3 >/dev/null ||
  { echo "FAIL: making the images"; exit 1; }

# eval_within MODEL E: `onnxtd eval` of MODEL against the original on the
# held-out inputs; every output's rel. L2 <= E (printed)
eval_within() {
  "$BIN" eval "$MODEL" "$1" "${HELD[@]}" --runs 0 --json > "$T/eval.json" ||
    { fail "eval $1"; return 1; }
  "$PY" - "$T/eval.json" "$2" <<'PYEOF'
import json, sys
e = json.load(open(sys.argv[1]))
bound = float(sys.argv[2])
assert e["inputs"]["samples"] == 2, e["inputs"]
for o in e["outputs"]:
    print("  eval: output %s rel. L2 %.4g (bound %g)" % (o["name"], o["rel_l2"], bound))
    assert o["rel_l2"] <= bound, (o["name"], o["rel_l2"], bound)
PYEOF
}

# ---- no budget: the smallest model within E
"$BIN" compress "$MODEL" -o "$T/s.onnx" --calib "$T/in" --max-error $E \
  "${COMMON[@]}" --report "$T/s.json" 2> "$T/s.txt" ||
  { cat "$T/s.txt"; fail "compress --max-error $E"; }
eval_within "$T/s.onnx" $E || fail "the written model is outside --max-error $E"
"$PY" - "$T/s.json" "$T/s.txt" $E <<'PYEOF' || fail "search report"
import json, sys
r = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
E = float(sys.argv[3])
b = r["measured"]["bound"]
assert b is not None and b["met"] and b["asked"] is None, b
assert b["max_rel_l2"] == E and b["min_top1_agreement"] == 0.98, b
t = r["totals"]
# compressed, to about the budget chosen
assert t["model_params_after"] < 0.7 * t["model_params_before"], t
assert abs(t["planned"] - b["chosen"]) <= 0.03, (t["planned"], b["chosen"])
steps = b["steps"]
assert 2 <= len(steps) <= 8, steps
# the bound decided: a smaller budget tried was measured outside it, and
# the one chosen is the smallest tried within it
outside = [s for s in steps if s["planned"] and not s["within"]]
assert outside and min(s["target"] for s in outside) < b["chosen"], steps
assert all(s["max_rel_l2"] > E for s in outside), steps
within = [s["target"] for s in steps if s["within"]]
assert b["chosen"] == min(within), (b["chosen"], within)
# the runs: the original once on the 2 held-out inputs (its outputs are
# kept), the fork of each measured compression on them, and the final model
planned = sum(1 for s in steps if s["planned"])
assert b["model_runs"] == 2 * planned + 4, (b["model_runs"], planned)
assert r["measured"]["outputs"][0]["rel_l2"] <= E
assert "bound: every output's rel. L2 <= 0.0001" in text, text
assert "the smallest model within it: --target-params" in text, text
print("search: chosen %.3f of the parameters in %d compressions, %d model runs"
      % (b["chosen"], len(steps), b["model_runs"]))
PYEOF

# ---- a budget the bound does not allow: refused, exit 1, nothing written
rm -f "$T/x.onnx"
"$BIN" compress "$MODEL" -o "$T/x.onnx" --calib "$T/in" --max-error $E \
  --target-params 0.2 "${COMMON[@]}" --report "$T/x.json" 2> "$T/x.txt"
rc=$?
[ $rc -eq 1 ] || fail "impossible bound: exit $rc, wanted 1: $(cat "$T/x.txt")"
[ ! -e "$T/x.onnx" ] && [ ! -e "$T/x.json" ] || fail "impossible bound: something was written"
grep -qF -- "--target-params 0.2 cannot be met within --max-error 0.0001" "$T/x.txt" ||
  fail "refusal message: $(cat "$T/x.txt")"
reach=$(sed -n 's/.*the most compression found within the bound is --target-params \([0-9.]*\) .*/\1/p' "$T/x.txt")
[ -n "$reach" ] || fail "the refusal names no reachable budget: $(cat "$T/x.txt")"
at=$(sed -n 's/.*(there, largest output rel. L2 \([0-9.e+-]*\)[,;)].*/\1/p' "$T/x.txt")
"$PY" -c "import sys; a = float(sys.argv[1]); assert a > $E, a" "${at:-0}" ||
  fail "the refusal's deviation at the budget asked ('$at') is not over the bound"
if [ -n "$reach" ]; then
  # the reachable budget is more than asked, and holds the bound
  "$PY" -c "import sys; r = float(sys.argv[1]); assert 0.2 < r < 1, r" "$reach" ||
    fail "reachable budget $reach"
  "$BIN" compress "$MODEL" -o "$T/r.onnx" --calib "$T/in" --max-error $E \
    --target-params "$reach" "${COMMON[@]}" --quiet || fail "the reachable budget $reach is refused"
  eval_within "$T/r.onnx" $E || fail "the reachable budget's model is outside the bound"
fi

# ---- the default bound with a budget: within 0.05, said in the report
"$BIN" compress "$MODEL" -o "$T/d.onnx" --calib "$T/in" --target-params 0.3 \
  "${COMMON[@]}" --report "$T/d.json" 2> "$T/d.txt" || fail "default bound: $(tail -2 "$T/d.txt")"
"$PY" - "$T/d.json" <<'PYEOF' || fail "default bound report"
import json, sys
b = json.load(open(sys.argv[1]))["measured"]["bound"]
assert b["met"] and b["max_rel_l2"] == 0.05 and b["asked"] == 0.3 and b["chosen"] == 0.3, b
assert len(b["steps"]) == 1 and b["steps"][0]["within"], b
PYEOF
eval_within "$T/d.onnx" 0.05 || fail "default bound: outside 0.05"
"$BIN" compress "$MODEL" -o "$T/off.onnx" --calib "$T/in" --target-params 0.3 \
  --max-error off "${COMMON[@]}" --report "$T/off.json" 2>/dev/null || fail "--max-error off"
"$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["measured"]["bound"] is None' \
  "$T/off.json" || fail "--max-error off: a bound in the report"

# ---- the agreement alone (--max-error off --min-agreement A): a looser
# bound than rel. L2 1e-4 on this model, so the model is smaller, and its
# class scores agree on both held-out inputs, as eval finds independently
# (no step of this model's search flips a class: which step is outside
# the agreement is judged on PP-OCRv4 rec in bench/heldout.sh)
"$BIN" compress "$MODEL" -o "$T/a.onnx" --calib "$T/in" --max-error off \
  --min-agreement 1 "${COMMON[@]}" --report "$T/a.json" 2> "$T/a.txt" ||
  { cat "$T/a.txt"; fail "compress --max-error off --min-agreement 1"; }
"$BIN" eval "$MODEL" "$T/a.onnx" "${HELD[@]}" --runs 0 --min-agreement 1 \
  > /dev/null 2> "$T/a_eval.txt" || fail "agreement alone: eval finds $(cat "$T/a_eval.txt")"
"$PY" - "$T/a.json" "$T/s.json" "$T/a.txt" <<'PYEOF' || fail "agreement alone: report"
import json, sys
b = json.load(open(sys.argv[1]))["measured"]["bound"]
s = json.load(open(sys.argv[2]))["measured"]["bound"]
assert b["met"] and b["max_rel_l2"] is None and b["min_top1_agreement"] == 1, b
assert all(st["min_top1_agreement"] == 1 for st in b["steps"] if st["within"]), b["steps"]
# steps past rel. L2 1e-4 were within: the rel. L2 did not decide
assert any(st["within"] and st["max_rel_l2"] > 1e-4 for st in b["steps"]), b["steps"]
assert b["chosen"] < s["chosen"], (b["chosen"], s["chosen"])
text = open(sys.argv[3]).read()
assert "bound: class scores' top-1 agreement >= 1 (no rel. L2 bound)" in text, text
print("agreement alone: chosen %.3f (rel. L2 1e-4: %.3f)" % (b["chosen"], s["chosen"]))
PYEOF
# with no output like class scores the agreement bounds nothing: refused
"$PY" - "$MODEL" "$T/flat4.onnx" <<'PYEOF' || fail "making a model without class scores"
import sys, onnx
from onnx import helper, TensorProto
m = onnx.load(sys.argv[1])
g = m.graph
out = g.output[0]
g.node[-1].output[0] = "logits2d"
g.initializer.append(helper.make_tensor("axes", TensorProto.INT64, [2], [2, 3]))
g.node.append(helper.make_node("Unsqueeze", ["logits2d", "axes"], [out.name]))
del g.output[:]
g.output.append(helper.make_tensor_value_info(out.name, TensorProto.FLOAT, [1, 10, 1, 1]))
onnx.checker.check_model(m)
onnx.save(m, sys.argv[2])
PYEOF
"$BIN" compress "$T/flat4.onnx" -o "$T/f.onnx" --calib "$T/in" --max-error off \
  --min-agreement 0.9 "${COMMON[@]}" 2> "$T/f.txt"
rc=$?
[ $rc -eq 2 ] || fail "agreement alone without class scores: exit $rc, wanted 2"
grep -qF -- "--min-agreement without --max-error bounds nothing here" "$T/f.txt" ||
  fail "agreement alone without class scores: $(cat "$T/f.txt")"
[ ! -e "$T/f.onnx" ] || fail "agreement alone without class scores: a model was written"

# ---- --bound-output: the bound judges the outputs named, the others are
# measured only. A model with two outputs: p (a softmax head's, which a
# budget on the head moves) and h (the head's input, which it cannot)
"$PY" "$SRCDIR/tests/tools/softmax_head_model.py" make "$T/hm" &&
  "$PY" - "$T/hm/head.onnx" "$T/hm/two.onnx" <<'PYEOF' || fail "making the two-output model"
import sys, onnx
from onnx import helper, TensorProto
m = onnx.load(sys.argv[1])
m.graph.output.append(helper.make_tensor_value_info("h", TensorProto.FLOAT, [1, 20, 24]))
onnx.save(m, sys.argv[2])
PYEOF
HO=(--calib "$T/hm/cal" --include '^head$' --target-params 0.5 --softmax-metric off
    "${COMMON[@]}")
"$BIN" compress "$T/hm/two.onnx" -o "$T/bo_all.onnx" "${HO[@]}" 2> "$T/bo_all.txt"
rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/bo_all.onnx" ] ||
  fail "every output judged: exit $rc, wanted 1 and nothing written"
"$BIN" compress "$T/hm/two.onnx" -o "$T/bo_h.onnx" "${HO[@]}" --bound-output h \
  --report "$T/bo_h.json" 2> "$T/bo_h.txt" || fail "--bound-output h: $(tail -2 "$T/bo_h.txt")"
"$PY" - "$T/bo_h.json" "$T/bo_h.txt" <<'PYEOF' || fail "--bound-output report"
import json, sys
m = json.load(open(sys.argv[1]))["measured"]
b = m["bound"]
assert b["outputs"] == ["h"] and b["met"] and b["chosen"] == 0.5, b
dev = {o["name"]: o["rel_l2"] for o in m["outputs"]}
# p, not judged, is far outside 0.05; h within
assert dev["p"] > 0.05 and dev["h"] <= 0.05, dev
assert "bound: on output(s) 'h': rel. L2 <= 0.05" in open(sys.argv[2]).read()
print("--bound-output h: written at 0.5, p deviating %.3f (measured, not judged)" % dev["p"])
PYEOF

# ---- misuse: exit 2, nothing written
misuse() {  # TEXT OPTIONS...
  local text=$1
  shift
  td_misuse "$MODEL" "$text" "$@"
}
misuse "--max-error, --min-agreement and --min-iou need --calib" --max-error 0.1
misuse "--bound-output names what the bound judges" --bound-output logits
misuse "--bound-output names what the bound judges" --calib "$T/in" --ratio 0.5 --bound-output logits
misuse "'nosuch' is not an output of" --calib "$T/in" --bound-output nosuch
misuse "not --rank, --ratio, --tol or --vbmf" --calib "$T/in" --ratio 0.5 --max-error 0.1
misuse "--max-error needs a number in (0, 1e+06] or 'off'" --calib "$T/in" --max-error -1
misuse "--min-agreement needs a number in (0, 1] or 'off'" --calib "$T/in" --min-agreement 2

td_done max_error
