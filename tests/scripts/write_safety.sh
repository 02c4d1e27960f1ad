#!/usr/bin/env bash
# Output-path safety (run by ctest):  bash tests/scripts/write_safety.sh BINARY SRCDIR
#
# Every path a command writes is checked before the work against every file
# it reads and every other output, by identity: each clash, each target that
# is not a regular file (character device made with mknod in a private
# folder, FIFO, folder, link to one), a read-only target, a missing folder or
# an empty path exits 1 with a message naming the files, and leaves the
# folder exactly as it was (every file's bytes and mode, nothing added).
# A failure after some output was complete leaves none of them. -o naming the
# input is refused without --in-place and gives the bytes of a normal run
# with it; a 255-byte output name works; a replaced file keeps its mode; a
# missing output folder is found before any layer is factored.
set -u
BIN=$(readlink -f "$1")
SRCDIR=$(cd "$2" && pwd)
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1   # a binary that writes '-' as a file writes it here
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# Every case runs in D, restored from P first (so that a case that does
# damage is seen alone); D's state is compared before and after.
P="$T/pristine"
D="$T/d"
mkdir "$P" "$P/x" "$P/dir"
D=$P
cp "$SRCDIR/tests/onnx_models/small_cnn.onnx" "$D/in.onnx"
# a model whose tensors are in a sidecar x/ext.bin
"$BIN" convert "$D/in.onnx" -o "$D/x/ext.onnx" --external-data ext.bin \
  --size-threshold 0 || { echo "FAIL: cannot make the external-data model"; exit 1; }
# activation statistics for --act-stats
"$BIN" stats-model "$D/in.onnx" -o "$T/cal.onnx" 2>/dev/null &&
  node "$SRCDIR/tools/ort/calib_stats.js" "$T/cal.onnx" "$D/stats.onnx" \
    --random 2 --seed 1 --quiet || { echo "FAIL: cannot make statistics"; exit 1; }
mknod "$D/cdev" c 1 3      # a character device (the kernel's null), never /dev
mkfifo "$D/fifo"
ln -s cdev "$D/cdev_link"
echo "keep me" > "$D/ro.onnx"
chmod 444 "$D/ro.onnx"
ln "$D/in.onnx" "$D/hard.onnx"   # a second name of the input
D="$T/d"
fresh() { rm -rf "$D" && cp -a "$P" "$D"; }
fresh

# The folder's state: names, kinds, modes, and the bytes of regular files.
state() {
  (cd "$D" && find . -printf '%p %y %m\n' | sort &&
    find . -type f -exec sha256sum {} + | sort)
}
refused() {  # [RC=2] refused WHAT TEXT COMMAND...: exit 1 (RC), TEXT in the message, nothing changed
  local what=$1 text=$2
  shift 2
  fresh
  local before
  before=$(state)
  "$@" > "$T/out" 2> "$T/err" < /dev/null
  local rc=$?
  [ "$rc" = "${RC:-1}" ] || bad "$what: exit $rc, expected ${RC:-1} ($(cat "$T/err"))"
  grep -qF -- "$text" "$T/err" || bad "$what: message lacks '$text': $(cat "$T/err")"
  [ "$(state)" = "$before" ] ||
    bad "$what: the folder changed: $(diff <(echo "$before") <(state) | head -5)"
}
# --no-measure: outputs are compared between runs, and the timing (whose
# verdicts follow the machine's load) is latency_measured.sh's business
C=(compress --quiet --rank 2 --no-measure)

# ---- an output naming a file read, or another output -------------------------
refused "--external-data naming the input" \
  "'$D/in.onnx' (the external data written) is '$D/in.onnx' (the model read)" \
  "$BIN" convert "$D/in.onnx" -o "$D/out.onnx" --external-data in.onnx
refused "compress --external-data naming the input" "(the model read)" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/out.onnx" --external-data in.onnx
refused "--external-data naming the output" \
  "'$D/out.onnx' (the output model) and '$D/out.onnx' (the external data written) are the same file" \
  "$BIN" convert "$D/in.onnx" -o "$D/out.onnx" --external-data out.onnx
refused "compress --external-data naming the output" "are the same file" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/out.onnx" --external-data out.onnx
refused "--external-data naming the input's sidecar" \
  "'$D/x/ext.bin' (the external data written) is '$D/x/ext.bin' (external data of the model read)" \
  "$BIN" convert "$D/x/ext.onnx" -o "$D/x/o.onnx" --external-data ext.bin
refused "compress --external-data naming the input's sidecar" "(external data of the model read)" \
  "$BIN" "${C[@]}" "$D/x/ext.onnx" -o "$D/x/o.onnx" --external-data ext.bin
refused "--report naming the input's sidecar" \
  "'$D/x/ext.bin' (--report) is '$D/x/ext.bin' (external data of the model read)" \
  "$BIN" "${C[@]}" "$D/x/ext.onnx" -o "$D/o.onnx" --report "$D/x/ext.bin"
refused "--report-html naming the input's sidecar" "(--report-html) is '$D/x/ext.bin'" \
  "$BIN" "${C[@]}" "$D/x/ext.onnx" -o "$D/o.onnx" --report-html "$D/x/ext.bin"
refused "--report naming the statistics" \
  "'$D/stats.onnx' (--report) is '$D/stats.onnx' (--act-stats)" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --act-stats "$D/stats.onnx" --report "$D/stats.onnx"
refused "--report-html naming the statistics (other spelling)" "(--act-stats)" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --act-stats "$D/stats.onnx" --report-html "$D/x/../stats.onnx"
refused "--report naming the new sidecar" \
  "'$D/w.bin' (--report) and '$D/w.bin' (the external data written) are the same file" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --external-data w.bin --report "$D/w.bin"
refused "--report-html naming the new sidecar" "(the external data written) are the same file" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --external-data w.bin --report-html "$D/w.bin"
refused "both reports one path" \
  "'$D/r.json' (--report-html) and '$D/r.json' (--report) are the same file" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --report "$D/r.json" --report-html "$D/r.json"
refused "both reports one path, other spelling" "are the same file" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --report "$D/r.json" --report-html "$D/./r.json"
RC=2 refused "both reports standard output" "cannot both be standard output" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --report - --report-html -

# ---- targets that are not regular files ----------------------------------------
for t in cdev fifo dir cdev_link; do
  case $t in cdev|cdev_link) k="a character device" ;; fifo) k="a FIFO" ;; dir) k="a folder" ;; esac
  refused "convert -o $t" "'$D/$t' (the output model) is $k, not a regular file" \
    "$BIN" convert "$D/in.onnx" -o "$D/$t"
  refused "compress -o $t" "is $k, not a regular file" \
    "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/$t"
  refused "--report $t" "'$D/$t' (--report) is $k, not a regular file" \
    "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --report "$D/$t"
  refused "--report-html $t" "(--report-html) is $k" \
    "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --report-html "$D/$t"
done
[ -c "$D/cdev" ] || bad "the character device is no longer one"
refused "a read-only target" "'$D/ro.onnx' (the output model) is read-only; refused" \
  "$BIN" convert "$D/in.onnx" -o "$D/ro.onnx"
refused "a read-only report" "'$D/ro.onnx' (--report) is read-only" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --report "$D/ro.onnx"
refused "-o DIR --external-data w.bin" "is a folder, not a regular file" \
  "$BIN" convert "$D/in.onnx" -o "$D/dir" --external-data w.bin --size-threshold 0
refused "--report DIR" "(--report) is a folder" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --report "$D/dir"
refused "empty --report" "--report: the path is empty" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --report ""
refused "empty -o" "the output model: the path is empty" \
  "$BIN" convert "$D/in.onnx" -o ""
refused "missing folder" "'$D/nowhere/o.onnx' (the output model): its folder '$D/nowhere' does not exist" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/nowhere/o.onnx"
refused "report in a missing folder" "its folder '$D/nowhere' does not exist" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/o.onnx" --report-html "$D/nowhere/r.html"

# ---- the input itself ---------------------------------------------------------
refused "convert -o IN" "'$D/in.onnx' (the output model) is the model read, '$D/in.onnx'; refused (outputs.in_place" \
  "$BIN" convert "$D/in.onnx" -o "$D/in.onnx"
refused "compress -o IN" "is the model read" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/in.onnx"
refused "compress -o a hard link of IN" "'$D/hard.onnx' (the output model) is the model read, '$D/in.onnx'" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/hard.onnx"
RC=2 refused "--in-place with another -o" "in place: '$D/o.onnx' is not the model read, '$D/in.onnx'" \
  "$BIN" convert "$D/in.onnx" -o "$D/o.onnx" --in-place
refused "--in-place, --external-data naming the input's sidecar" "(external data of the model read)" \
  "$BIN" "${C[@]}" "$D/x/ext.onnx" --in-place --external-data ext.bin

mkdir "$T/ip"
cp "$D/in.onnx" "$T/ip/m.onnx"
chmod 640 "$T/ip/m.onnx"
"$BIN" "${C[@]}" "$D/in.onnx" -o "$T/ip/ref.onnx" --report "$T/ip/ref.json" || bad "reference compress"
"$BIN" "${C[@]}" "$T/ip/m.onnx" --in-place --report "$T/ip/m.json" 2> "$T/err" ||
  bad "compress --in-place: $(cat "$T/err")"
cmp -s "$T/ip/m.onnx" "$T/ip/ref.onnx" || bad "compress --in-place gave other bytes than compress -o OTHER"
[ "$(stat -c %a "$T/ip/m.onnx")" = 640 ] || bad "the model replaced in place lost its mode 640"
"$BIN" convert "$T/ip/m.onnx" -o "$T/ip/reload.onnx" || bad "the model compressed in place does not load"
# in place with a sidecar: the input's sidecar stays as it was
cp "$D/x/ext.onnx" "$D/x/ext.bin" "$T/ip/"
side_sum=$(sha256sum < "$T/ip/ext.bin")
"$BIN" convert "$T/ip/ext.onnx" --in-place 2> "$T/err" || bad "convert --in-place of a model with a sidecar: $(cat "$T/err")"
[ "$(sha256sum < "$T/ip/ext.bin")" = "$side_sum" ] || bad "convert --in-place changed the input's sidecar"
"$BIN" convert "$T/ip/ext.onnx" -o "$T/ip/inline.onnx" && "$BIN" convert "$D/in.onnx" -o "$T/ip/inline_ref.onnx" &&
  cmp -s "$T/ip/inline.onnx" "$T/ip/inline_ref.onnx" || bad "the model converted in place is not the inline model"
ls -A "$T/ip" | grep -q '^\.' && bad "temp files left: $(ls -A "$T/ip")"

# ---- legal names, modes, standard output --------------------------------------
long=$(printf 'm%.0s' $(seq 250)).onnx   # 255 bytes
mkdir "$T/long"
"$BIN" convert "$D/in.onnx" -o "$T/long/$long" 2> "$T/err" || bad "a 255-byte name: $(cat "$T/err")"
"$BIN" "${C[@]}" "$D/in.onnx" -o "$T/long/$long" --report "$T/long/${long%.onnx}.json" 2> "$T/err" ||
  bad "compress to a 255-byte name: $(cat "$T/err")"
"$BIN" convert "$T/long/$long" -o "$T/long/back.onnx" 2> "$T/err" || bad "the 255-byte name does not load: $(cat "$T/err")"
[ "$(ls -A "$T/long" | wc -l)" = 3 ] || bad "files beside the 255-byte name: $(ls -A "$T/long")"
long=$(printf 'm%.0s' $(seq 251)).onnx   # 256 bytes: too long, said before the work
refused "a 256-byte name" "File name too long" \
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$D/$long"

mkdir "$T/mode"
echo old > "$T/mode/o.onnx"; chmod 600 "$T/mode/o.onnx"
echo old > "$T/mode/r.json"; chmod 604 "$T/mode/r.json"
"$BIN" "${C[@]}" "$D/in.onnx" -o "$T/mode/o.onnx" --report "$T/mode/r.json" || bad "compress over existing files"
[ "$(stat -c %a "$T/mode/o.onnx") $(stat -c %a "$T/mode/r.json")" = "600 604" ] ||
  bad "replaced files lost their modes: $(stat -c '%n %a' "$T/mode/"*)"
"$BIN" "${C[@]}" "$D/in.onnx" -o "$T/mode/s.onnx" --report - > "$T/mode/stdout.json" || bad "--report -"
"$PY" - "$T/mode/stdout.json" "$T/mode/r.json" <<'PYEOF' || bad "--report - differs from the report file"
import json, sys
def load(p):  # the same report but for the timings
    d = json.load(open(p))
    for l in d["layers"]:
        l.pop("seconds", None)
        l.pop("latency", None)  # per-layer timings in ONNX Runtime
    d["totals"].pop("seconds", None)
    d["totals"].pop("latency_measure", None)
    d.pop("speed", None)
    return d
sys.exit(load(sys.argv[1]) != load(sys.argv[2]))
PYEOF
[ ! -e "$T/-" ] || bad "--report - wrote a file named -"

# ---- all or nothing: one output failing leaves none ---------------------------
# The report's folder is a full tmpfs: the check passes (the folder takes
# files), the model and its sidecar are complete, then the report cannot be
# written; neither the model nor the sidecar may appear.
mkdir "$T/full" "$T/aon"
if mount -t tmpfs -o size=64k tmpfs "$T/full" 2>/dev/null; then
  dd if=/dev/zero of="$T/full/fill" bs=4k 2>/dev/null
  "$BIN" "${C[@]}" "$D/in.onnx" -o "$T/aon/o.onnx" --external-data w.bin \
    --size-threshold 0 --report "$T/full/r.json" 2> "$T/err"
  rc=$?
  [ "$rc" = 1 ] || bad "report on a full disk: exit $rc, expected 1"
  grep -qF "$T/full/r.json" "$T/err" || bad "report on a full disk: message lacks the path: $(cat "$T/err")"
  [ -z "$(ls -A "$T/aon")" ] || bad "a report that could not be written left: $(ls -A "$T/aon")"
  [ "$(ls -A "$T/full")" = fill ] || bad "the full folder holds: $(ls -A "$T/full")"
  umount "$T/full"
else
  bad "cannot mount a tmpfs"
fi

# ---- a missing folder is found before the work --------------------------------
# Progress (a line per layer factored) shows on a terminal; `script` gives
# one. With the folder there, the lines appear (the control); without it,
# the refusal comes first and no layer is factored.
script -qec "'$BIN' compress '$D/in.onnx' -o '$T/ctl.onnx' --rank 2" /dev/null > "$T/tty" 2>&1
grep -q "layer [0-9]* of" "$T/tty" || bad "control: no progress line on a terminal: $(cat "$T/tty")"
script -qec "'$BIN' compress '$D/in.onnx' -o '$T/nowhere/o.onnx' --rank 2" /dev/null > "$T/tty" 2>&1
grep -q "its folder '$T/nowhere' does not exist" "$T/tty" || bad "missing folder: no message: $(cat "$T/tty")"
grep -q "layer [0-9]* of" "$T/tty" && bad "missing folder: layers were factored before the refusal: $(cat "$T/tty")"

[ "$(sha256sum < "$D/in.onnx")" = "$(sha256sum < "$SRCDIR/tests/onnx_models/small_cnn.onnx")" ] ||
  bad "the input changed"
[ "$fail" -eq 0 ] && echo "write safety: all checks passed"
[ "$fail" -eq 0 ]
