#!/usr/bin/env bash
# The main job on the bundled small model: install what is missing, build,
# describe the model, compress it, show what changed, and check that ONNX
# Runtime runs the result with outputs close to the original's.
set -eu
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target onnxtd_cli >/dev/null
M=tests/onnx_models/small_cnn.onnx
OUT=${OUT:-build/small_cnn.td.onnx}
echo "== onnxtd info $M"
build/onnxtd info "$M"
echo "== onnxtd compress $M -o $OUT --tol 0.1 --report build/small_cnn.report.json"
build/onnxtd compress "$M" -o "$OUT" --tol 0.1 --report build/small_cnn.report.json
echo "== onnxtd diff $M $OUT (exit 1: they differ, as they should)"
build/onnxtd diff "$M" "$OUT" | tail -5 || true
echo "== ONNX Runtime: original vs compressed on the same random input"
node tools/ort/ort_compare.js "$M" "$OUT" --rtol 0.5 | tail -2
