#!/usr/bin/env bash
# Round trip (load + save) time and peak RSS of `onnxtd convert` against
# python3-onnx's onnx.save(onnx.load(A), B), alternating RUNS times in one
# run, on ISNet (bench/fetch_models.sh) and on a VGG16-sized model
# (bench/make_vgg16.py: torchvision's VGG16 when python3-torch installs,
# else the same shapes with random NumPy weights). Prints medians, the
# time ratio, and peak RSS over the input file size.
#   bash bench/bench_roundtrip.sh [RUNS]
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-5}
PY=/usr/bin/python3
BIN=build/onnxtd
OUT=bench/out
mkdir -p "$OUT" bench/models
[ -x "$BIN" ] || { cmake -S . -B build >/dev/null && cmake --build build -j2 >/dev/null; }
if ! "$PY" -c 'import torchvision' 2>/dev/null; then
  # idempotent; falls back to NumPy weights when it cannot be installed
  apt-get install -y -q python3-torch python3-torchvision >/dev/null 2>&1 ||
    apt-get install -y -q python3-torch >/dev/null 2>&1 || true
fi
VGG=bench/models/vgg16.onnx
[ -f "$VGG" ] || echo "vgg16 built with: $("$PY" bench/make_vgg16.py "$VGG")"
median() { sort -g | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for M in bench/models/isnet_fp16.onnx "$VGG"; do
  [ -f "$M" ] || { echo "missing $M"; continue; }
  SZ=$(stat -c %s "$M")
  : > "$OUT/rt_c.txt"; : > "$OUT/rt_py.txt"
  for i in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %M' -a -o "$OUT/rt_c.txt" "$BIN" convert "$M" -o "$OUT/rt_c.onnx" >/dev/null
    /usr/bin/time -f '%e %M' -a -o "$OUT/rt_py.txt" "$PY" -c \
      "import onnx,sys; onnx.save(onnx.load(sys.argv[1]), sys.argv[2])" "$M" "$OUT/rt_py.onnx"
  done
  ct=$(awk '{print $1}' "$OUT/rt_c.txt" | median); cm=$(awk '{print $2}' "$OUT/rt_c.txt" | median)
  pt=$(awk '{print $1}' "$OUT/rt_py.txt" | median); pm=$(awk '{print $2}' "$OUT/rt_py.txt" | median)
  cmp -s "$OUT/rt_c.onnx" "$OUT/rt_py.onnx" && same="identical bytes" || same="bytes differ"
  awk -v m="$(basename "$M")" -v sz="$SZ" -v ct="$ct" -v cm="$cm" -v pt="$pt" -v pm="$pm" -v r="$RUNS" -v s="$same" 'BEGIN{
    printf "%s (%.1f MB), median of %d: onnxtd %.2f s, RSS %.0f MB (%.2fx file) | python3-onnx %.2f s, RSS %.0f MB (%.2fx file) | time ratio %.1fx; outputs: %s\n",
      m, sz/1e6, r, ct, cm/1024, cm*1024/sz, pt, pm/1024, pm*1024/sz, pt/ct, s}'
done
