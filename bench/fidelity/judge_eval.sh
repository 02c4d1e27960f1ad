#!/bin/sh
# A judge for `compress --judge` from `onnxtd eval`: the model given last
# against ORIG on the inputs in DIR, scored by
#   top1        the lowest top-1 agreement over the outputs with class
#               scores (PP-OCR cls)
#   iou:OUTPUT  the lowest mask IoU (at 0.5) of OUTPUT over the inputs
#               (ISNet's mask: iou:output)
#
#   compress M.onnx ... --judge "bench/fidelity/judge_eval.sh M.onnx DIR top1"
#
# Environment: BIN (build/onnxtd, from the checkout's root).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
orig=$1 dir=$2 metric=$3 model=$4
"${BIN:-$root/build/onnxtd}" eval "$orig" "$model" --inputs "$dir" --json --runs 0 |
  /usr/bin/python3 -c '
import json, sys
r, metric = json.load(sys.stdin), sys.argv[1]
if metric == "top1":
    print(min(o["top1"]["fraction"] for o in r["outputs"] if o.get("top1")))
else:
    name = metric.split(":", 1)[1]
    print([o for o in r["outputs"] if o["name"] == name][0]["mask_iou"]["min"])
' "$metric"
