#!/bin/sh
# A judge for `compress --judge`: Silero VAD's per-frame speech decisions
# (p > 0.5) against the original's, as F1, on 4 clips of its own (prep.py
# audio --pool calib --seed 3: other clips than the calibration ones, from
# the calibration sentences, none of the evaluation's; heldout.sh makes
# them). Each clip runs chunk by chunk with the model's own state. Prints
# the F1 of the model given last.
#
#   bench/heldout/judge_vad.sh MODEL.onnx
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${JUDGE_OUT:-$root/bench/out/heldout}
node "$root/bench/heldout/task_eval.js" vad \
  "${JUDGE_ORIG:-$out/models/silero_vad_v5_16k.onnx}" "$1" --clips "$out/vad/val" --json |
  /usr/bin/python3 -c 'import json, sys; print(repr(json.load(sys.stdin)["f1"]))'
