#!/usr/bin/env bash
# --judge CMD --min-score S: the user's own evaluation bounds the search.
# The judge here is a shell command around `onnxtd eval` that prints
# 1 - the largest output rel. L2 on the calibration inputs: with none held
# out (--holdout 0) that is what --max-error measures, so bounded by it
# alone at 0.998 the search must step as --max-error 0.002 does (within
# and outside at the same budgets) and write the same bytes. Also: the
# report's scores, the model's path appended to CMD and in
# $ONNXTD_JUDGE_MODEL, a
# private file in $TMPDIR removed after each call (nothing else left there), chatter before the
# score's line, a refusal naming the reachable budget and the original's
# score, a judge that fails or prints no number (exit 1, its message,
# nothing written), an original already below the floor, the judge alone
# without --calib (the data-free model at the budget it chose),
# --judge-timeout (a judge stopped whole when late, onnxtd's SIGTERM passed
# on to it), and misuse.
#
#   bash tests/scripts/judge.sh BINARY SRCDIR
#
# Exit 0 pass, 1 fail.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
td_use_ort

M=$SRCDIR/tests/onnx_models/small_cnn.onnx
"$PY" "$SRCDIR/tests/tools/make_images.py" "$T/calib" 8 64 --seed 3 >/dev/null ||
  { echo "FAIL: making the inputs"; exit 1; }
mkdir "$T/tmp"
cat > "$T/judge.sh" <<EOF
#!/bin/sh
# the model's path twice over, and where it lies
[ "\$1" = "\$ONNXTD_JUDGE_MODEL" ] || { echo "\\\$1 '\$1' is not \\\$ONNXTD_JUDGE_MODEL"; exit 9; }
case "\$1" in "$T/tmp/onnxtd-judge-"*.onnx) ;; *) echo "not in TMPDIR: \$1"; exit 9;; esac
[ -f "\$1" ] || { echo "no file \$1"; exit 9; }
echo "\$1" >> "$T/judged.txt"
echo "judging \$1 ..."
"$BIN" eval "$M" "\$1" --inputs "$T/calib" --json --runs 0 |
  "$PY" -c 'import json,sys; r=json.load(sys.stdin); print(repr(1 - max(o["rel_l2"] for o in r["outputs"])))'
EOF
J="sh $T/judge.sh"
common=(--calib "$T/calib" --holdout 0 --min-agreement off --allow-slower --runs 0)

TMPDIR=$T/tmp "$BIN" compress "$M" -o "$T/rel.onnx" "${common[@]}" \
  --max-error 0.002 --report "$T/rel.json" > "$T/rel.txt" 2>&1 ||
  fail "--max-error 0.002: $(cat "$T/rel.txt")"
TMPDIR=$T/tmp "$BIN" compress "$M" -o "$T/judge.onnx" "${common[@]}" \
  --max-error off --judge "$J" --min-score 0.998 --report "$T/judge.json" \
  --report-html "$T/judge.html" > "$T/judge.txt" 2>&1 ||
  fail "--judge: $(cat "$T/judge.txt")"
grep -qF "<tr><th>judge</th><td>0.998" "$T/judge.html" ||
  fail "the HTML report does not give the score"
"$PY" - "$T/rel.json" "$T/judge.json" "$T/judged.txt" <<'EOF' || fail "--judge against --max-error: $(cat "$T/judge.txt")"
import json, sys
a = json.load(open(sys.argv[1]))["measured"]
b = json.load(open(sys.argv[2]))["measured"]
judged = open(sys.argv[3]).read().split()
ba, bb = a["bound"], b["bound"]
assert bb["min_score"] == 0.998 and bb["score_original"] == 1.0, bb
assert bb["max_rel_l2"] is None and "judge.sh" in bb["judge"], bb
va = [(s["target"], s["within"]) for s in ba["steps"]]
vb = [(s["target"], s["within"]) for s in bb["steps"]]
assert va == vb, (va, vb)
# a search that went both ways, else the test proves little
assert {w for _, w in vb} == {True, False}, vb
for s in bb["steps"]:
    assert abs(s["score"] - (1 - s["max_rel_l2"])) < 1e-6, s
    assert s["within"] == (s["score"] >= 0.998), s
assert ba["chosen"] == bb["chosen"], (ba["chosen"], bb["chosen"])
# the original, every step and the model written: one file each
assert len(judged) == 2 + len(bb["steps"]) == len(set(judged)), judged
assert abs(b["score"] - (1 - b["outputs"][0]["rel_l2"])) < 1e-6, b
EOF
cmp -s "$T/rel.onnx" "$T/judge.onnx" || fail "--judge wrote other bytes than --max-error"
[ -z "$(ls -A "$T/tmp")" ] || fail "the judge's files were left: $(ls -A "$T/tmp")"
grep -qF "the model written scores " "$T/judge.txt" &&
  grep -qF "bound: the judge's score >= 0.998 (the original 1) (no rel. L2 bound)" "$T/judge.txt" ||
  fail "the text does not give the scores: $(cat "$T/judge.txt")"

# on 2 held-out inputs: the few-inputs warning only where they bound
# something (the agreement), not when the judge, on its own inputs, alone
# does
for agr in off 0.98; do
  TMPDIR=$T/tmp "$BIN" compress "$M" -o "$T/w.onnx" --calib "$T/calib" \
    --allow-slower --runs 0 --max-error off --min-agreement $agr \
    --judge "$J" --min-score 0.99 > "$T/w.txt" 2>&1 || fail "agreement $agr: $(cat "$T/w.txt")"
  n=$(grep -c "warning: the bound was judged on 2 held-out inputs only" "$T/w.txt")
  want=1
  [ $agr = off ] && want=0
  [ "$n" = $want ] || fail "agreement $agr: $n warning(s), wanted $want: $(cat "$T/w.txt")"
done

# a budget beyond the floor: refused with what is reachable, exit 1
TMPDIR=$T/tmp "$BIN" compress "$M" -o "$T/x.onnx" "${common[@]}" --max-error off \
  --judge "$J" --min-score 0.9999 --target-params 0.1 2> "$T/err.txt"
rc=$?
[ $rc -eq 1 ] || fail "refusal: exit $rc"
grep -qE -- "--target-params 0.1 cannot be met within --min-score 0.9999 \(the original scores 1\).*score 0\.[0-9]+\); the most compression found within the bound is --target-params 0\.[0-9]+ .*score 0\.9999" "$T/err.txt" ||
  fail "refusal: $(cat "$T/err.txt")"
[ ! -e "$T/x.onnx" ] || fail "refusal: an output was written"

# no --calib: the judge alone bounds, the factors data-free (the layer
# error cap lifted, so that the judge, not the cap, stops the search).
# Each step within exactly where its score is; the model written is the
# data-free one at the budget chosen and scores what the report says.
: > "$T/judged.txt"
nd=(--max-layer-error off --allow-slower --runs 0)
TMPDIR=$T/tmp "$BIN" compress "$M" -o "$T/nd.onnx" "${nd[@]}" --judge "$J" \
  --min-score 0.998 --report "$T/nd.json" > "$T/nd.txt" 2>&1 ||
  fail "--judge without --calib: $(cat "$T/nd.txt")"
chosen=$("$PY" - "$T/nd.json" "$T/judged.txt" <<'EOF2'
import json, sys
m = json.load(open(sys.argv[1]))["measured"]
judged = open(sys.argv[2]).read().split()
assert m["inputs"] == "none" and m["samples"] == 0 and m["outputs"] == [], m
b = m["bound"]
assert b["max_rel_l2"] is None and b["min_top1_agreement"] is None, b
steps = [s for s in b["steps"] if s["planned"]]
assert {s["within"] for s in steps} == {True, False}, b["steps"]
for s in steps:
    assert s["within"] == (s["score"] >= 0.998) and s["max_rel_l2"] is None, s
assert b["met"] and m["score"] >= 0.998, m
assert len(judged) == 2 + len(steps), (judged, b["steps"])
print(repr(b["chosen"]), m["score"])
EOF2
) || fail "--judge without --calib, the report: $(cat "$T/nd.txt")"
set -- $chosen
"$BIN" eval "$M" "$T/nd.onnx" --inputs "$T/calib" --json --runs 0 |
  "$PY" -c 'import json,sys; r=json.load(sys.stdin); sys.exit(abs(1 - max(o["rel_l2"] for o in r["outputs"]) - float(sys.argv[1])) > 1e-8)' "$2" ||
  fail "the model written does not score what the report says ($2)"
"$BIN" compress "$M" -o "$T/nd_direct.onnx" "${nd[@]}" --target-params "$1" --quiet ||
  fail "--target-params $1"
"$PY" - "$T/nd.onnx" "$T/nd_direct.onnx" <<'EOF2' || fail "the judge's model is not the data-free one at --target-params $1"
import onnx, sys
a, b = (onnx.load(p).graph.SerializeToString() for p in sys.argv[1:])
assert a == b
EOF2
grep -qF "measured: no calibration inputs: the judge's score alone" "$T/nd.txt" &&
  grep -qF "(your judge scored it)" "$T/nd.txt" ||
  fail "the text does not say what measured it: $(cat "$T/nd.txt")"
TMPDIR=$T/tmp "$BIN" compress "$M" -o "$T/x.onnx" "${nd[@]}" --judge "$J" \
  --min-score 0.998 --target-params 0.1 2> "$T/err.txt"
rc=$?
[ $rc -eq 1 ] || fail "refusal without --calib: exit $rc"
grep -qE -- "--target-params 0.1 cannot be met within --min-score 0.998 \(the original scores 1\) \(no --max-error\) by the judge's score alone \(no calibration inputs\) \(there, score 0\.[0-9]+\); the most compression found within the bound is --target-params 0\.[0-9]+ \(score 0\.99[89]" "$T/err.txt" ||
  fail "refusal without --calib: $(cat "$T/err.txt")"
[ ! -e "$T/x.onnx" ] || fail "refusal without --calib: an output was written"

# a judge that fails, or prints no number: exit 1, nothing written
judge_fails() {
  local cmd=$1 text=$2
  shift 2
  rm -f "$T/x.onnx"
  TMPDIR=$T/tmp "$BIN" compress "$M" -o "$T/x.onnx" "${common[@]}" --max-error off \
    --judge "$cmd" --min-score 0.5 "$@" 2> "$T/err.txt"
  local rc=$?
  [ $rc -eq 1 ] || fail "--judge '$cmd': exit $rc, wanted 1"
  grep -qF -- "$text" "$T/err.txt" || fail "--judge '$cmd': $(cat "$T/err.txt")"
  [ ! -e "$T/x.onnx" ] || fail "--judge '$cmd': an output was written"
}
# (a trailing '#' makes the path appended a comment)
judge_fails 'echo "no data"; exit 3 #' "scoring the original: the judge (echo \"no data\"; exit 3 #) failed: exit 3, its last line 'no data'"
judge_fails 'echo 0.5 apples #' "its last line of output, '0.5 apples', is not a number (the score)"
judge_fails 'true' "it printed nothing: its last line of output must be the score"
judge_fails 'echo nan #' "gave no finite score"
judge_fails 'kill -9 $$ #' "killed by signal 9"
judge_fails 'echo 0.4 #' "the original model scores 0.4 by the judge (echo 0.4 #), below --min-score 0.5"
# chatter of 14 KB before the score: the last line still read
judge_fails 'seq 1 3000; echo 0.25 #' "the original model scores 0.25 by the judge"
# the path is the last argument: a program and its options need no more
judge_fails 'sh -c "[ -s \"\$1\" ] && echo 0.25" sh' "the original model scores 0.25 by the judge"
[ -z "$(ls -A "$T/tmp")" ] || fail "a failed judge's files were left: $(ls -A "$T/tmp")"

# --judge-timeout: a judge that overruns is stopped whole, its process
# group (here a shell that ignores SIGTERM, so SIGKILL must follow, and
# the sleep it started in the background), and the compression with it
cat > "$T/slow.sh" <<EOF
trap '' TERM
sleep 60 &
echo \$! > "$T/slow.pid"
wait
EOF
t0=$(date +%s)
judge_fails "sh $T/slow.sh #" "no score within --judge-timeout 1 s: it was stopped (its process group: SIGTERM, SIGKILL 2 s later)" --judge-timeout 1
t1=$(date +%s)
[ $((t1 - t0)) -le 20 ] || fail "--judge-timeout 1: the run took $((t1 - t0)) s"
# gone or a zombie nobody reaped yet: not running
st=$(ps -o stat= -p "$(cat "$T/slow.pid")" 2>/dev/null)
case "$st" in ""|Z*) ;; *) fail "--judge-timeout: the judge's sleep still runs ($st)";; esac
# output that never ends (a background child holds the pipe) is no score
judge_fails 'sleep 60 & echo 0.9 #' "no score within --judge-timeout 1 s" --judge-timeout 1
# in time, the limit changes nothing: the same bytes as without it
TMPDIR=$T/tmp "$BIN" compress "$M" -o "$T/judge_t.onnx" "${common[@]}" \
  --max-error off --judge "$J" --min-score 0.998 --judge-timeout 120 \
  > "$T/judge_t.txt" 2>&1 || fail "--judge-timeout 120: $(cat "$T/judge_t.txt")"
cmp -s "$T/judge.onnx" "$T/judge_t.onnx" || fail "--judge-timeout 120 wrote other bytes"
# onnxtd asked to end while a timed judge runs: the judge's group stopped,
# the temporary model removed, nothing written, onnxtd ended by the signal
rm -f "$T/x.onnx" "$T/slow.pid"
TMPDIR=$T/tmp "$BIN" compress "$M" -o "$T/x.onnx" "${common[@]}" --max-error off \
  --judge "sh $T/slow.sh #" --min-score 0.5 --judge-timeout 300 2> "$T/err.txt" &
pid=$!
for _ in $(seq 100); do [ -s "$T/slow.pid" ] && break; sleep 0.1; done
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 143 ] || fail "SIGTERM during a timed judge: exit $rc, wanted 143: $(cat "$T/err.txt")"
grep -qF "onnxtd was asked to end (signal 15)" "$T/err.txt" ||
  fail "SIGTERM during a timed judge: $(cat "$T/err.txt")"
st=$(ps -o stat= -p "$(cat "$T/slow.pid")" 2>/dev/null)
case "$st" in ""|Z*) ;; *) fail "SIGTERM: the judge's sleep still runs ($st)";; esac
[ ! -e "$T/x.onnx" ] || fail "SIGTERM during a timed judge: an output was written"
[ -z "$(ls -A "$T/tmp")" ] || fail "SIGTERM: the judge's model was left: $(ls -A "$T/tmp")"

# a signal onnxtd was started ignoring (SIGHUP under nohup) stays ignored
# while a timed judge runs: the compression goes on to its end
rm -f "$T/x.onnx" "$T/slow.pid"
TMPDIR=$T/tmp bash -c 'trap "" HUP; exec "$@"' sh "$BIN" compress "$M" -o "$T/x.onnx" \
  "${common[@]}" --max-error off --min-score 0.5 --judge-timeout 60 \
  --judge "echo \$\$ > $T/slow.pid; sleep 1; echo 0.9 #" > "$T/hup.txt" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$T/slow.pid" ] && break; sleep 0.1; done
kill -HUP $pid
wait $pid
rc=$?
[ $rc -eq 0 ] && [ -s "$T/x.onnx" ] || fail "SIGHUP ignored, then sent: exit $rc: $(cat "$T/hup.txt")"

td_misuse "$M" "--judge needs --min-score" --calib "$T/calib" --judge "echo 1"
td_misuse "$M" "--min-score bounds the score --judge gives" --calib "$T/calib" --min-score 1
# the bounds on a measured deviation need inputs to measure it on
td_misuse "$M" "--max-error, --min-agreement and --min-iou need --calib" \
  --judge "echo 1" --min-score 1 --max-error 0.05
td_misuse "$M" "--max-error, --min-agreement and --min-iou need --calib" \
  --judge "echo 1" --min-score 1 --min-iou 0.9
td_misuse "$M" "--judge take --target-params" --calib "$T/calib" --judge "echo 1" \
  --min-score 1 --rank 2
td_misuse "$M" "--judge-timeout limits each run of --judge: give --judge" \
  --calib "$T/calib" --max-error 0.1 --judge-timeout 5
td_misuse "$M" "--judge-timeout needs a number of seconds" --calib "$T/calib" \
  --judge "echo 1" --min-score 1 --judge-timeout 0
td_misuse "$M" "--min-score needs a number" --calib "$T/calib" --judge "echo 1" --min-score inf
td_done judge
