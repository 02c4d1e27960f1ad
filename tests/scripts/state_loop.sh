#!/usr/bin/env bash
# A recurrent model measured in its loop (--state IN=OUT), against numpy.
# tests/tools/state_model.py writes a small RNN (h' = tanh(x Wx + h Wh),
# y = h' Wy; hN fed back as h, Wh slow to forget) and 64 consecutive steps,
# each with the state the model had there. Its numpy evaluation of the
# graph (not ONNX Runtime) is the reference:
# - compress --calib STEPS --state h=hN holds out the last 16 steps and
#   measures each model in its own loop over them: the report's rel. L2 of
#   y and hN equal numpy's loop deviation, which on this model is well
#   above the deviation step by step from the given state (so the test
#   tells the two apart); a list of two recordings, the second from the
#   zero state, restarts each loop there (numpy's restarted loop, not the
#   state carried over); without --state the held-out steps are spread and
#   measured step by step (numpy's step deviation), and a warning names
#   `--state h=hN`;
# - the bound is kept in the loop: a --max-error between the written
#   model's step and loop deviations is refused with --state (exit 1,
#   nothing written);
# - eval --state h=hN gives numpy's loop deviation, eval without it the
#   step one;
# - misuse: --state without --calib, a name the model lacks, INPUT=OUTPUT
#   malformed, --state with --random: exit 2; a state output whose shape
#   is not the input's: exit 1; nothing written.
#
#   bash tests/scripts/state_loop.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
td_use_ort
SM=$SRCDIR/tests/tools/state_model.py

"$PY" "$SM" make "$T" || { echo "FAIL: making the model"; exit 1; }
M=$T/rnn.onnx
ST=$T/steps
# only the input projection is factored: the deviation is the state's
OPTS=(--ratio 0.5 --exclude 'rec_proj|out_proj' --max-error off --runs 0
      --allow-slower --threads 1)

# same JSON_A JSON_B TOL: every output's rel_l2 agrees within TOL relative
# (A: a report's measured or eval's JSON, B: state_model.py's)
same() {
  "$PY" - "$1" "$2" "$3" <<'PYEOF'
import json, sys
a, b, tol = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), float(sys.argv[3])
if "measured" in a:
    got = {o["name"]: o["rel_l2"] for o in a["measured"]["outputs"]}
else:
    got = {o["name"]: o["rel_l2"] for o in a["outputs"]}
want = {k: v["rel_l2"] for k, v in b.items()}
assert set(got) == set(want), (got, want)
for k in want:
    assert abs(got[k] - want[k]) <= tol * want[k], (k, got[k], want[k])
print("  " + ", ".join("%s %.5f (numpy %.5f)" % (k, got[k], want[k]) for k in sorted(want)))
PYEOF
}

# 1. in the loop
"$BIN" compress "$M" -o "$T/loop.onnx" --calib "$ST/all.txt" --state h=hN \
  "${OPTS[@]}" --report "$T/loop.json" 2> "$T/loop.txt" ||
  { cat "$T/loop.txt"; fail "compress --state: exit $?"; }
"$PY" "$SM" dev "$M" "$T/loop.onnx" "$ST/tail.txt" loop > "$T/np_loop.json" &&
  "$PY" "$SM" dev "$M" "$T/loop.onnx" "$ST/tail.txt" step > "$T/np_step.json" ||
  fail "numpy reference"
echo "compress --state h=hN, measured on the last 16 steps in the loop:"
same "$T/loop.json" "$T/np_loop.json" 1e-3 || fail "measured in the loop is not numpy's loop deviation"
"$PY" - "$T/loop.json" "$T/np_loop.json" "$T/np_step.json" <<'PYEOF' || fail "report of the loop"
import json, sys
m = json.load(open(sys.argv[1]))["measured"]
assert m["in_loop"] is True and m["samples"] == 16 and m["calibration_samples"] == 48, m
assert m["inputs"] == "held-out", m
loop, step = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
# the model forgets slowly: in its loop the state's error compounds
assert loop["hN"]["rel_l2"] > 1.4 * step["hN"]["rel_l2"], (loop, step)
assert loop["y"]["rel_l2"] > 1.4 * step["y"]["rel_l2"], (loop, step)
hn = [o for o in m["outputs"] if o["name"] == "hN"][0]
assert hn["state"] is True and hn["state_input"] == "h", hn
PYEOF
grep -q "16 held-out inputs in order, each model feeding its own state back" "$T/loop.txt" ||
  fail "the summary does not say the loop was measured"
! grep -q "warning: output 'hN'" "$T/loop.txt" || fail "a loop warning with --state given"

# 1b. two recordings in one list: the held-out steps cross into the second,
# whose zero state starts each model's loop again (numpy's "loop"), not the
# first recording's state carried over ("carry", which differs)
"$BIN" compress "$M" -o "$T/joined.onnx" --calib "$ST/joined.txt" --state h=hN \
  "${OPTS[@]}" --report "$T/joined.json" 2> "$T/joined.txt" ||
  { cat "$T/joined.txt"; fail "compress --state, two recordings: exit $?"; }
"$PY" "$SM" dev "$M" "$T/joined.onnx" "$ST/joined.txt" loop $(seq 48 63) > "$T/np_joined.json" &&
  "$PY" "$SM" dev "$M" "$T/joined.onnx" "$ST/joined.txt" carry $(seq 48 63) > "$T/np_carry.json" ||
  fail "numpy reference (two recordings)"
echo "two recordings: measured in the loop, restarting at the second:"
same "$T/joined.json" "$T/np_joined.json" 1e-3 || fail "two recordings: not numpy's restarted loop"
"$PY" - "$T/np_joined.json" "$T/np_carry.json" <<'PYEOF' || fail "restart and carry are not told apart"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert abs(a["y"]["rel_l2"] - b["y"]["rel_l2"]) > 0.05 * a["y"]["rel_l2"], (a, b)
PYEOF

# 2. step by step (no --state): spread hold-out, a warning naming --state
"$BIN" compress "$M" -o "$T/step.onnx" --calib "$ST/all.txt" "${OPTS[@]}" \
  --report "$T/step.json" 2> "$T/step.txt" || fail "compress without --state: exit $?"
grep -q "warning: output 'hN' has the shape of input 'h': if the model feeds one back to the other, give --state h=hN" "$T/step.txt" ||
  fail "no warning naming --state h=hN"
# td_calib_holdout's indices for 16 of 64: one per block of 4, parities alternating
idx=$("$PY" -c "
n, k = 64, 16
out = []
for j in range(k):
    lo = j * n // k; ln = (j + 1) * n // k - lo; i = lo + j % ln
    if ln > 1 and i % 2 != j % 2:
        i = i + 1 if i + 1 < lo + ln else i - 1
    out.append(i)
print(' '.join(map(str, out)))")
"$PY" "$SM" dev "$M" "$T/step.onnx" "$ST/all.txt" step $idx > "$T/np_step2.json" || fail "numpy reference"
echo "compress without --state, measured step by step on 16 spread steps:"
same "$T/step.json" "$T/np_step2.json" 1e-3 || fail "measured step by step is not numpy's"
"$PY" -c "
import json, sys
m = json.load(open('$T/step.json'))['measured']
assert m['in_loop'] is False and m['samples'] == 16, m" || fail "report without --state"

# 3. the bound in the loop: a global budget just above the model of 1
# (the same chain), and a bound between its step and loop deviations
TP=$("$PY" -c "
import json
t = json.load(open('$T/loop.json'))['totals']
print('%.4f' % (t['model_params_after'] / t['model_params_before'] + 1e-4))")
rc=0
"$BIN" compress "$M" -o "$T/bound.onnx" --calib "$ST/all.txt" --state h=hN \
  --target-params "$TP" --exclude 'rec_proj|out_proj' --runs 0 --allow-slower \
  --threads 1 --max-error off --report "$T/tp.json" 2> "$T/tp.txt" || rc=$?
[ $rc -eq 0 ] || { cat "$T/tp.txt"; fail "--target-params $TP without a bound: exit $rc"; }
E=$("$PY" -c "
import json, subprocess, sys
m = json.load(open('$T/tp.json'))['measured']
loop = max(o['rel_l2'] for o in m['outputs'])
step = json.loads(subprocess.check_output(['$PY', '$SM', 'dev', '$M', '$T/bound.onnx',
                                           '$ST/tail.txt', 'step']))
step = max(v['rel_l2'] for v in step.values())
assert loop > 1.2 * step, (loop, step)
print('%.6f' % ((loop * step) ** 0.5))")
rm -f "$T/bound.onnx"
rc=0
"$BIN" compress "$M" -o "$T/bound.onnx" --calib "$ST/all.txt" --state h=hN \
  --target-params "$TP" --exclude 'rec_proj|out_proj' --runs 0 --allow-slower \
  --threads 1 --max-error "$E" 2> "$T/bound.txt" || rc=$?
[ $rc -eq 1 ] || fail "a bound above the step deviation but below the loop's: exit $rc, not 1"
grep -q "cannot be met within --max-error" "$T/bound.txt" || fail "refusal message: $(tail -n 1 "$T/bound.txt")"
[ ! -e "$T/bound.onnx" ] || fail "refused but wrote a model"
echo "bound $E between the step and the loop deviation: refused ($rc)"

# 4. eval in the loop and step by step
"$BIN" eval "$M" "$T/loop.onnx" --inputs "$ST/tail.txt" --state h=hN --runs 0 --json > "$T/ev_loop.json" ||
  fail "eval --state: exit $?"
echo "eval --state h=hN:"
same "$T/ev_loop.json" "$T/np_loop.json" 1e-3 || fail "eval --state is not numpy's loop deviation"
"$PY" -c "
import json
r = json.load(open('$T/ev_loop.json'))
assert r['inputs']['loop'] == [{'input': 'h', 'output': 'hN'}], r['inputs']" || fail "eval JSON loop"
"$BIN" eval "$M" "$T/loop.onnx" --inputs "$ST/tail.txt" --runs 0 --json > "$T/ev_step.json" ||
  fail "eval: exit $?"
echo "eval step by step:"
same "$T/ev_step.json" "$T/np_step.json" 1e-3 || fail "eval is not numpy's step deviation"

# 5. misuse
expect() {  # CODE WHAT MESSAGE_PART COMMAND...
  local code=$1 what=$2 msg=$3 rc=0
  shift 3
  rm -f "$T/x.onnx"
  "$@" > "$T/x.out" 2> "$T/x.err" || rc=$?
  [ $rc -eq "$code" ] || fail "$what: exit $rc, not $code ($(tail -n 2 "$T/x.err"))"
  grep -qF -- "$msg" "$T/x.err" || fail "$what: message '$(head -n 1 "$T/x.err")'"
  [ ! -e "$T/x.onnx" ] || fail "$what: wrote a model"
}
expect 2 "--state without --calib" "--state needs --calib" \
  "$BIN" compress "$M" -o "$T/x.onnx" --state h=hN
expect 2 "--state naming no output" "has no output 'nope'" \
  "$BIN" compress "$M" -o "$T/x.onnx" --calib "$ST/all.txt" --state h=nope
expect 2 "--state naming no input" "has no input 'g'" \
  "$BIN" compress "$M" -o "$T/x.onnx" --calib "$ST/all.txt" --state g=hN
expect 2 "--state malformed" "--state needs INPUT=OUTPUT" \
  "$BIN" compress "$M" -o "$T/x.onnx" --calib "$ST/all.txt" --state h
expect 1 "--state of another shape" "state x=hN" \
  "$BIN" compress "$M" -o "$T/x.onnx" --calib "$ST/all.txt" --state x=hN "${OPTS[@]}"
expect 2 "eval --state with --random" "needs real inputs" \
  "$BIN" eval "$M" "$T/loop.onnx" --random 2 --state h=hN
expect 2 "eval --state naming no output" "has no output 'nope'" \
  "$BIN" eval "$M" "$T/loop.onnx" --inputs "$ST/tail.txt" --state h=nope

td_done state_loop
