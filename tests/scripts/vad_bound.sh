#!/usr/bin/env bash
# No silent collapse on a real model of another kind: Silero VAD v5
# (bench/fetch_models.sh), its 16 kHz network lifted out of the If on the
# sample rate (bench/heldout/vad16k.py), calibrated on 4 clips of espeak-ng speech in
# noise (bench/heldout/prep.py; the calibration samples are the original's
# consecutive chunks with the LSTM state it had there,
# bench/heldout/task_eval.js). With --calib --state state=stateN (the
# held-out chunks, the last quarter, measured with each model carrying its
# own state) and no budget, and at --target-params 0.7 and 0.4, compress
# either
# - writes a model (exit 0) whose report carries the bound it kept and a
#   held-out deviation within it, and whose speech decisions, run chunk by
#   chunk with its own state on two other clips (other sentences, voices and
#   noise), agree with the original's on >= 95 % of the frames (a VAD
#   answering "speech" everywhere agrees on about 2/3 of them; the bound
#   measured chunk by chunk from the original's state, without --state,
#   once wrote a model agreeing on 75 %), or
# - refuses (exit 1, nothing written), naming a reachable budget above the
#   one asked;
# and the LSTM state output (stateN, fed back as the input state) is not
# taken for class scores: no top-1 agreement for it, none in a refusal.
# Without --state the report warns that stateN has the shape of input
# state and names `--state state=stateN`.
#
#   bash tests/scripts/vad_bound.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
set -u
BIN=$1
SRCDIR=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PY=/usr/bin/python3
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$SRCDIR/tests/lsan-ort.supp:print_suppressions=0}"
unset ONNXTD_ORT_LIB
SHIPPED=$SRCDIR/bench/models/silero_vad_v5.onnx
EVAL=$SRCDIR/bench/heldout/task_eval.js
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
MIN_AGREEMENT=0.95   # frames; all-speech would give the speech share (~0.67)

[ -f "$SHIPPED" ] || bash "$SRCDIR/bench/fetch_models.sh" >/dev/null ||
  { echo "FAIL: bench/fetch_models.sh could not fetch silero_vad_v5.onnx"; exit 1; }
MODEL=$T/vad16k.onnx
"$PY" "$SRCDIR/bench/heldout/vad16k.py" "$SHIPPED" "$MODEL" >/dev/null ||
  { echo "FAIL: lifting the 16 kHz branch"; exit 1; }
"$PY" "$SRCDIR/bench/heldout/prep.py" audio "$T/cal" --clips 4 --seed 1 --pool calib >/dev/null &&
  "$PY" "$SRCDIR/bench/heldout/prep.py" audio "$T/ev" --clips 2 --seed 2 --pool eval >/dev/null ||
  { echo "FAIL: rendering speech with espeak-ng"; exit 1; }
node "$EVAL" vad "$MODEL" --clips "$T/cal" --write-calib "$T/cnpy" --every 1 > /dev/null ||
  { echo "FAIL: writing the calibration samples"; exit 1; }

# one_budget TAG [OPTIONS...]
one_budget() {
  local tag=$1 rc=0
  shift
  rm -f "$T/$tag.onnx"
  "$BIN" compress "$MODEL" -o "$T/$tag.onnx" --calib "$T/cnpy/calib.txt" --runs 0 \
    --state state=stateN --threads 1 --report "$T/$tag.json" "$@" 2> "$T/$tag.txt" || rc=$?
  if [ $rc -eq 1 ]; then
    [ ! -e "$T/$tag.onnx" ] || fail "$tag: refused but wrote a model"
    "$PY" - "$T/$tag.txt" "$*" <<'PYEOF' || fail "$tag: refusal message ($(tail -n 1 "$T/$tag.txt"))"
import re, sys
text = open(sys.argv[1]).read()
asked = re.search(r"--target-params ([0-9.]+)", sys.argv[2])
m = re.search(r"cannot be met within --max-error 0\.05 .*the most compression found within the "
              r"bound is --target-params ([0-9.]+)", text)
assert asked and m, text
assert float(asked.group(1)) < float(m.group(1)) < 1, (asked.group(1), m.group(1))
assert "top-1 agreement" not in text, "a top-1 agreement in the refusal: " + text
PYEOF
    echo "$tag: refused: $(grep -o 'the most compression found within the bound is --target-params [0-9.]*' "$T/$tag.txt")"
    return
  fi
  [ $rc -eq 0 ] || { cat "$T/$tag.txt"; fail "$tag: exit $rc"; return; }
  "$PY" - "$T/$tag.json" <<'PYEOF' || fail "$tag: report"
import json, sys
r = json.load(open(sys.argv[1]))
m = r["measured"]
assert m and m["inputs"] == "held-out" and m["in_loop"] is True, m
b = m["bound"]
assert b is not None and b["met"] and b["max_rel_l2"] == 0.05, b
outs = {o["name"]: o for o in m["outputs"]}
assert set(outs) == {"output", "stateN"}, outs
for o in outs.values():
    assert o["rel_l2"] <= 0.05, o
assert outs["stateN"]["top1_agreement"] is None, outs["stateN"]
assert outs["stateN"]["state"] and not outs["output"]["state"], outs
t = r["totals"]
assert t["model_params_after"] < t["model_params_before"], t
PYEOF
  grep -q "held-out inputs in order, each model feeding its own state back" "$T/$tag.txt" ||
    fail "$tag: the summary does not say the loop was measured"
  node "$EVAL" vad "$MODEL" "$T/$tag.onnx" --clips "$T/ev" --json > "$T/$tag.eval.json" ||
    { fail "$tag: task_eval.js"; return; }
  "$PY" - "$T/$tag.eval.json" "$T/$tag.json" $MIN_AGREEMENT "$tag" <<'PYEOF' || fail "$tag: the task collapsed"
import json, sys
e = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))["totals"]
print("%s: params %.3f of the original, frames %d, agreement %.3f, F1 %.3f" % (
    sys.argv[4], t["model_params_after"] / t["model_params_before"], e["frames"],
    e["agreement"], e["f1"]))
assert e["frames"] > 300 and 0.2 < e["speech_share_orig"] < 0.9, e
assert e["agreement"] >= float(sys.argv[3]), e["agreement"]
PYEOF
}

one_budget none
one_budget tp07 --target-params 0.7
one_budget tp04 --target-params 0.4

# without --state: measured chunk by chunk, and said so
rc=0
"$BIN" compress "$MODEL" -o "$T/nostate.onnx" --calib "$T/cnpy/calib.txt" --runs 0 \
  --threads 1 --target-params 0.9 --report "$T/nostate.json" 2> "$T/nostate.txt" || rc=$?
[ $rc -le 1 ] || fail "without --state: exit $rc"
[ $rc -eq 1 ] || grep -q "warning: output 'stateN' has the shape of input 'state': if the model feeds one back to the other, give --state state=stateN" "$T/nostate.txt" ||
  fail "without --state: no warning naming --state state=stateN"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "vad_bound: ok"
