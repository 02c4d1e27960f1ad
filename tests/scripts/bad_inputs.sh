#!/usr/bin/env bash
# Hostile and broken inputs (run by ctest):  bash tests/scripts/bad_inputs.sh BINARY SRCDIR
#
# tests/tools/make_bad_inputs.py writes one model per class of broken input
# (empty, random, truncated, other file types, absurd lengths, malformed
# varints, group wire types, 100k-deep TypeProto and 300-deep If nesting,
# payloads not matching dims, negative and overflowing dims, NUL in strings,
# no graph, dangling inputs, missing weights, cycles, groups that don't
# divide, zero strides, contradicting kernel_shape, NaN/Inf weights, unknown
# and string weight types, runtime weights, and external data that is
# absolute, uses '..', links out of the folder, is hard-linked, missing,
# short, or has negative / overflowing offsets). For each:
# - the expected exit code, never a signal, within 30 s;
# - on failure: the message names the file and contains the expected text,
#   and no output file is created;
# - the input is byte-identical afterwards;
# - `info` on the same file exits 0 or 1, never by a signal.
set -u
BIN="$1"
SRCDIR="$2"
PY=/usr/bin/python3
"$PY" -c 'import onnx, numpy' 2>/dev/null || { echo "SKIP: python3-onnx not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$PY" "$SRCDIR/tests/tools/make_bad_inputs.py" "$T/cases" > "$T/manifest" || { echo "FAIL: generator"; exit 1; }
pass=0 fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
while IFS=$'\t' read -r name path cmd code msg; do
  before=$(sha256sum "$path" | cut -d' ' -f1)
  out="$T/out_$name.onnx"
  if [ "$cmd" = compress ]; then
    timeout 30 "$BIN" compress "$path" -o "$out" --quiet --report "$T/r.json" 2>"$T/err"
  else
    timeout 30 "$BIN" convert "$path" -o "$out" 2>"$T/err"
  fi
  rc=$?
  err=$(cat "$T/err")
  after=$(sha256sum "$path" | cut -d' ' -f1)
  ok=1
  [ "$rc" -lt 124 ] || { bad "$name: killed or timed out (exit $rc)"; ok=0; }
  [ "$rc" = "$code" ] || { [ $ok = 1 ] && bad "$name: exit $rc, expected $code: $err"; ok=0; }
  [ "$before" = "$after" ] || { bad "$name: input changed"; ok=0; }
  if [ "$code" != 0 ]; then
    [ ! -e "$out" ] || { bad "$name: an output was written on failure"; ok=0; }
    case "$err" in *"$path"*) ;; *) bad "$name: message does not name the file: $err"; ok=0 ;; esac
    case "$err" in *"$msg"*) ;; *) bad "$name: message lacks '$msg': $err"; ok=0 ;; esac
  elif [ "$cmd" = compress ]; then
    # Weights that cannot be factored are skipped with a reason, not lost.
    "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if any(s['node']=='conv0' for s in r['skipped']) else 1)" \
      "$T/r.json" || { bad "$name: conv0 not reported as skipped"; ok=0; }
  fi
  ls "$T/cases" | grep -q '^\.out_' && { bad "$name: temp file left behind"; ok=0; }
  timeout 30 "$BIN" info "$path" >/dev/null 2>&1
  irc=$?
  [ "$irc" -le 1 ] || { bad "$name: info exited $irc"; ok=0; }
  [ $ok = 1 ] && pass=$((pass + 1))
done < "$T/manifest"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
