#!/usr/bin/env bash
# How often one compress command writes another model: N runs of
#   onnxtd compress MODEL -o OUT OPTIONS...
# with LOAD busy loops beside them (a CI machine running two tests at
# once), then the distinct output hashes and exit codes with their counts.
# With the per-layer timing on (the default), the chains chosen follow
# measured verdicts; one hash means they held still across the N runs.
#   bash bench/verdict_repeat.sh BIN MODEL N LOAD [OPTIONS...]
set -u
BIN=$(readlink -f "$1"); MODEL=$2; N=$3; LOAD=$4; shift 4
T=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
for _ in $(seq "$LOAD"); do
  (while :; do :; done) &
  pids+=($!)
done
for i in $(seq "$N"); do
  "$BIN" compress "$MODEL" -o "$T/o$i.onnx" --quiet "$@" > /dev/null 2> "$T/e$i"
  echo "exit $?" >> "$T/rc"
  [ -e "$T/o$i.onnx" ] && sha256sum < "$T/o$i.onnx" | cut -c1-16 >> "$T/hash"
done
echo "$(basename "$MODEL") $* -- $N runs beside $LOAD busy loops:"
sort "$T/rc" | uniq -c
[ -e "$T/hash" ] && sort "$T/hash" | uniq -c | sed 's/^/  output /'
cat "$T"/e* 2>/dev/null | grep -v '^$' | sort | uniq -c | sort -rn | head -3 | cut -c1-200
