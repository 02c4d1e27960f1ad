#!/usr/bin/env bash
# onnxtd eval over every model of ONNX's node test data, each against the
# outputs stored with it, at the test data's tolerance:
#   bash bench/eval_corpus.sh [BINARY]     (default build/onnxtd)
# Prints one line per model (PASS, ORT = ONNX Runtime cannot load or run
# it, REFUSED = inputs or stored outputs eval does not compare, MISMATCH
# with the count over the bound) and a tally. About 15 minutes on 2 cores.
set -u
BIN=${1:-build/onnxtd}
DATA=/usr/share/libonnx-testdata/data/node
for d in "$DATA"/*/; do
  m=$(basename "$d")
  [ -f "$d/model.onnx" ] || continue
  out=$("$BIN" eval "$d/model.onnx" --inputs "$d" --elementwise 1e-3,1e-7 --runs 0 2>&1)
  if [ $? = 0 ]; then
    echo "PASS $m"
  elif echo "$out" | grep -q "ONNX Runtime:"; then
    echo "ORT $m"
  elif echo "$out" | grep -q "elements over"; then
    echo "MISMATCH $m $(echo "$out" | grep -m1 'elements over' | sed 's/^ *//')"
  else
    echo "REFUSED $m $(echo "$out" | head -1 | sed 's/.*: //')"
  fi
done | tee /dev/stderr | awk '{n[$1]++} END {for (k in n) printf "%s %d\n", k, n[k]}' | sort
