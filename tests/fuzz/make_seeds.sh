#!/bin/bash
# Fills DIR with a seed corpus for the fuzz targets: about 200 model.onnx
# files of varied kinds (every Nth node test, all pytorch and simple models,
# so operators, attributes, sub-graphs and tensor types all appear).
# usage: make_seeds.sh DIR [TESTDATA]
set -eu
dir=${1:?usage: make_seeds.sh DIR [TESTDATA]}
data=${2:-/usr/share/libonnx-testdata/data}
[ -d "$data" ] || { echo "no test data at $data" >&2; exit 1; }
mkdir -p "$dir"
n=0
copy() {  # name the seed after its test so findings are easy to trace
    local f=$1
    local t=${f%/model.onnx}
    cp "$f" "$dir/$(basename "$(dirname "$t")")_$(basename "$t").onnx"
    n=$((n + 1))
}
i=0
while IFS= read -r f; do
    # Node tests: every 8th, plus every sub-graph (If/Loop/Scan) test.
    case $f in
    */test_if*|*/test_loop*|*/test_scan*|*/test_sequence_map*) copy "$f" ;;
    *) [ $((i % 8)) -eq 0 ] && copy "$f" ;;
    esac
    i=$((i + 1))
done < <(find "$data/node" -name model.onnx | sort)
while IFS= read -r f; do
    copy "$f"
done < <(find "$data/pytorch-converted" "$data/pytorch-operator" \
              "$data/simple" -name model.onnx 2>/dev/null | sort | awk 'NR % 2 == 1')
echo "$n seeds in $dir"
