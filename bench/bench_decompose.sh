#!/usr/bin/env bash
# Decomposition time of all dense 3x3 convs of ISNet at ranks of half the
# channels: the library's td_tucker2 (bench/bench_tucker2.c, built here)
# against an ordinary NumPy partial Tucker (bench/hooi_numpy.py --dir) with
# the same HOSVD start and stopping rule (at most SWEEPS sweeps, stop when
# the relative error changes by less than FIT_TOL), side by side in one run.
# Layers run one after another in both; both use the same OpenBLAS with its
# default thread count (OPENBLAS_NUM_THREADS is passed through).
#   bash bench/bench_decompose.sh [MODEL] [SWEEPS] [FIT_TOL]
set -eu
cd "$(dirname "$0")/.."
MODEL=${1:-bench/models/isnet_fp16.onnx}
SWEEPS=${2:-10}
FIT_TOL=${3:-1e-4}
PY=/usr/bin/python3
OUT=bench/out
[ -f "$MODEL" ] || { echo "missing $MODEL: run bash bench/fetch_models.sh"; exit 1; }
mkdir -p "$OUT"
[ -f build/libonnxtd_decompose.a ] || { cmake -S . -B build >/dev/null && cmake --build build -j2 --target onnxtd_decompose >/dev/null; }
cmake --build build -j2 --target onnxtd_decompose >/dev/null
gcc -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc \
  $(pkg-config --cflags openblas) bench/bench_tucker2.c \
  build/libonnxtd_decompose.a -llapacke -lopenblas -lm -lpthread \
  -o "$OUT/bench_tucker2"
DIR="$OUT/$(basename "$MODEL" .onnx)"
[ -f "$DIR/index.txt" ] || "$PY" bench/extract_convs.py "$MODEL" "$DIR" 3
"$OUT/bench_tucker2" "$DIR" "$SWEEPS" "$FIT_TOL" > "$OUT/tucker2_c.txt"
"$PY" bench/hooi_numpy.py --dir "$DIR" --c-results "$OUT/tucker2_c.txt" \
  --sweeps "$SWEEPS" --fit-tol "$FIT_TOL"
