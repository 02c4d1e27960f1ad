#!/bin/sh
# A judge for `compress --judge`: PP-OCRv4 rec's character accuracy
# (greedy CTC against the text rendered) on 24 lines of its own, neither
# the calibration lines nor the evaluation ones (prep.py rec --seed 3;
# heldout.sh makes them). Prints the accuracy of the model given last.
#
#   bench/heldout/judge_rec.sh MODEL.onnx
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
lines=${JUDGE_LINES:-$root/bench/out/heldout/rec/val}
node "$root/bench/heldout/task_eval.js" rec \
  "$root/bench/models/ch_PP-OCRv4_rec_infer.onnx" "$1" --lines "$lines" \
  --keys "$root/bench/models/ppocr_keys_v1.txt" --json |
  /usr/bin/python3 -c 'import json, sys; print(repr(json.load(sys.stdin)["char_acc"]))'
