#!/usr/bin/env bash
# The main job on the bundled small model: install what is missing, build,
# describe the model, compress it with calibration inputs (statistics and
# the measured deviation from ONNX Runtime, in the same command), show what
# changed, and measure the result against the original on inputs the
# compression never saw.
set -eu
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target onnxtd_cli onnxtd_static onnxtd_shared >/dev/null
M=tests/onnx_models/small_cnn.onnx
OUT=${OUT:-build/small_cnn.td.onnx}
echo "== onnxtd info $M"
build/onnxtd info "$M"
# Inputs: rendered pictures (gradients, shapes, stripes), 8 to calibrate
# with and 4 others to evaluate on; a user passes their own .npy files.
rm -rf build/demo_calib build/demo_eval
/usr/bin/python3 tests/tools/make_images.py build/demo_calib 8 64 --seed 1 >/dev/null
/usr/bin/python3 tests/tools/make_images.py build/demo_eval 4 64 --seed 2 >/dev/null
echo "== onnxtd compress $M -o $OUT --target-params 0.75 --calib build/demo_calib --report build/small_cnn.report.json"
build/onnxtd compress "$M" -o "$OUT" --target-params 0.75 --calib build/demo_calib \
  --report build/small_cnn.report.json
echo "== onnxtd diff $M $OUT (exit 1: they differ, as they should)"
build/onnxtd diff "$M" "$OUT" | tail -5 || true
echo "== onnxtd eval $M $OUT --inputs build/demo_eval (inputs the compression never saw)"
build/onnxtd eval "$M" "$OUT" --inputs build/demo_eval --rtol 0.1
