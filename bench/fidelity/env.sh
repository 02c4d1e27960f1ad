# Shared by fidelity_bound.sh and layer_oracle.sh (sourced, after TASK
# and OUT are set): the model of each task as src, skimage's photos in
# PHOTOS (extracted from Debian's python3-skimage package unless given),
# and the evaluation inputs in $OUT/eval (bench/fidelity/prep.py).
PY=/usr/bin/python3
declare -A MODEL=(
  [isnet]=bench/models/isnet_fp16.onnx
  [det]=bench/models/ch_PP-OCRv4_det_infer.onnx
  [cls]=bench/models/ch_ppocr_mobile_v2.0_cls_infer.onnx
)
src=${MODEL[$TASK]}
mkdir -p "$OUT/cache"
if [ -z "${PHOTOS:-}" ]; then
  PHOTOS=$OUT/skim/usr/lib/python3/dist-packages/skimage/data
  if [ ! -d "$PHOTOS" ]; then
    ( cd "$OUT" && apt-get download python3-skimage >/dev/null && dpkg-deb -x python3-skimage_*.deb skim )
  fi
fi
[ -f "$OUT/eval/$TASK.json" ] || "$PY" bench/fidelity/prep.py --photos "$PHOTOS" --out "$OUT/eval" >&2

# Debian's opencv-doc examples (real photographs of text) in OPENCV,
# extracted from the package unless given: only det_real needs them.
opencv_examples() {
  if [ -z "${OPENCV:-}" ]; then
    OPENCV=$OUT/opencv/usr/share/doc/opencv-doc/examples
    if [ ! -d "$OPENCV" ]; then
      ( cd "$OUT" && apt-get download opencv-doc >/dev/null && dpkg-deb -x opencv-doc_*.deb opencv )
    fi
  fi
}
