#!/usr/bin/env bash
# Lossless convert (run by ctest):  bash tests/scripts/roundtrip_corpus.sh BINARY SRCDIR
#
# - Every model.onnx of ONNX's test data (1072 files) converts to a file
#   python3-onnx parses to the same message (canonical serialisation,
#   unknown fields included) — and so do the real bench models when
#   bench/models holds them (bash bench/fetch_models.sh).
# - The same through external data: --external-data w.bin --size-threshold 0,
#   then back inline; both parse to the same message as the original.
# - -o equal to the input works and leaves the same message.
# - ONNX Runtime gives bit-identical outputs for converted Conv models.
# Exit 0 pass, 1 fail, 77 skip.
set -u
BIN="$1"
SRCDIR="$2"
PY=/usr/bin/python3
DATA=/usr/share/libonnx-testdata/data
SAME="$SRCDIR/tests/tools/same_message.py"
[ -d "$DATA" ] || { echo "SKIP: libonnx-testdata not installed"; exit 77; }
"$PY" -c 'import onnx' 2>/dev/null || { echo "SKIP: python3-onnx not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
: > "$T/list"
: > "$T/list_ext"
i=0
models=$(find "$DATA" -name model.onnx | sort)
for f in $models $(ls "$SRCDIR"/bench/models/*.onnx 2>/dev/null); do
  i=$((i + 1))
  if ! "$BIN" convert "$f" -o "$T/$i.onnx" 2>"$T/err"; then
    echo "FAIL: convert $f: $(cat "$T/err")"; fail=$((fail + 1)); continue
  fi
  printf '%s\t%s\n' "$f" "$T/$i.onnx" >> "$T/list"
  # A sample through external data and back (every 8th, and all real models).
  case "$f" in "$DATA"/*) [ $((i % 8)) -eq 0 ] || continue ;; esac
  mkdir -p "$T/x$i"
  if "$BIN" convert "$f" -o "$T/x$i/m.onnx" --external-data w.bin --size-threshold 0 2>"$T/err" &&
     "$BIN" convert "$T/x$i/m.onnx" -o "$T/x$i/back.onnx" 2>>"$T/err"; then
    printf '%s\t%s\n%s\t%s\n' "$f" "$T/x$i/m.onnx" "$f" "$T/x$i/back.onnx" >> "$T/list_ext"
  else
    echo "FAIL: external round trip of $f: $(cat "$T/err")"; fail=$((fail + 1))
  fi
done
echo "converted $i models"
"$PY" "$SAME" "$T/list" | tail -3 || fail=$((fail + 1))
"$PY" "$SAME" "$T/list_ext" | tail -3 || fail=$((fail + 1))

# In place: --in-place replaces the input.
cp "$DATA/pytorch-converted/test_Conv2d/model.onnx" "$T/inplace.onnx"
"$BIN" convert "$T/inplace.onnx" --in-place || { echo "FAIL: in-place convert"; fail=$((fail + 1)); }
printf '%s\t%s\n' "$DATA/pytorch-converted/test_Conv2d/model.onnx" "$T/inplace.onnx" > "$T/l1"
"$PY" "$SAME" "$T/l1" >/dev/null || { echo "FAIL: in-place result differs"; fail=$((fail + 1)); }

# ONNX Runtime: converted models give bit-identical outputs.
if (cd "$SRCDIR/tools/ort" && node -e 'require("onnxruntime-node")') >/dev/null 2>&1; then
  for d in "$DATA"/pytorch-converted/test_Conv2d "$DATA"/pytorch-converted/test_Conv3d_groups \
           "$DATA"/pytorch-operator/test_operator_conv; do
    "$BIN" convert "$d/model.onnx" -o "$T/ort.onnx" &&
    node "$SRCDIR/tools/ort/ort_compare.js" "$d/model.onnx" "$T/ort.onnx" --bitexact >/dev/null 2>&1 ||
      { echo "FAIL: ORT outputs not bit-identical for $d"; fail=$((fail + 1)); }
  done
  for m in "$SRCDIR"/bench/models/isnet_fp16.onnx "$SRCDIR"/bench/models/ch_PP-OCRv4_det_infer.onnx; do
    [ -f "$m" ] || continue
    "$BIN" convert "$m" -o "$T/real.onnx" &&
    node "$SRCDIR/tools/ort/ort_compare.js" "$m" "$T/real.onnx" --bitexact \
         --dim p2o.DynamicDimension.1=320 --dim p2o.DynamicDimension.2=320 >/dev/null 2>&1 ||
      { echo "FAIL: ORT outputs not bit-identical for $m"; fail=$((fail + 1)); }
  done
else
  echo "note: onnxruntime-node not installed; ORT bit-identity not checked"
fi
[ "$fail" -eq 0 ] && echo "roundtrip: all checks passed" || echo "roundtrip: $fail failures"
[ "$fail" -eq 0 ]
