#!/usr/bin/env bash
# Calibration statistics for ISNet, the two routes side by side in one run:
# in the process (`compress --calib`, statistics time and peak memory from
# its report) and through Node (`stats-model` + tools/ort/calib_stats.js),
# each under /usr/bin/time -v, plus what ONNX Runtime needs to run the
# model alone (one session, one input, bench/calib_plain_run.js). The 8
# calibration photos are skimage's camera, coins, moon, ihc, logo, page,
# brick and grass (not among bench/fidelity's evaluation photos), and
# gravel is the one held out, as PNGs from Debian's python3-skimage package
# (apt-get download, not installed), read by bench/fidelity/png_npy.py and
# resized to 1024x1024, x/255 - 0.5.
#
#   bash bench/calib_stats.sh
#
# Environment: OUT (default bench/out/calib_stats), BIN (build/onnxtd),
# THREADS (ORT intra-op threads for both routes, default 2), SKIP_PLAIN
# (set: leave out the plain run).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/calib_stats}
BIN=${BIN:-build/onnxtd}
THREADS=${THREADS:-2}
PY=/usr/bin/python3
MODEL=bench/models/isnet_fp16.onnx
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SKIM=$OUT/skim/usr/lib/python3/dist-packages/skimage/data
if [ ! -d "$SKIM" ]; then
  ( cd "$OUT" && apt-get download python3-skimage >/dev/null 2>&1 &&
    dpkg-deb -x python3-skimage_*.deb skim )
fi
CAL="camera coins moon ihc logo page brick grass"
if [ ! -s "$OUT/in/gravel.npy" ]; then
  "$PY" bench/fidelity/png_npy.py "$OUT/in" 1024 \
    $(for p in $CAL gravel; do echo "$SKIM/$p.png"; done)
fi
# the manifest: the 8 calibration photos, then the held-out one (with
# --holdout 1 of 9 inputs the last is held out)
: > "$OUT/calib.txt"
for p in $CAL gravel; do echo "input=$OUT/in/$p.npy" >> "$OUT/calib.txt"; done

tv() {  # LABEL COMMAND...: wall seconds and peak RSS (MB) of COMMAND
  local label=$1
  shift
  /usr/bin/time -v "$@" 2> "$OUT/$label.time" > /dev/null ||
    { tail -5 "$OUT/$label.time"; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/$label.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$OUT/$label.time")
  echo "$label: wall $wall, peak RSS $rss MB"
}

if [ -z "${SKIP_PLAIN:-}" ]; then
  tv plain node bench/calib_plain_run.js "$MODEL" "$OUT/in/camera.npy" "$THREADS"
  tv node_baseline node -e "require('$PWD/tools/ort/node_modules/onnxruntime-node')"
fi
tv stats_model "$BIN" stats-model "$MODEL" -o "$OUT/cal.onnx"
tv calib_stats_js node tools/ort/calib_stats.js "$OUT/cal.onnx" "$OUT/node_stats.onnx" \
  --threads "$THREADS" --quiet $(for p in $CAL; do echo --npy "$OUT/in/$p.npy"; done)
# a cheap compression (one small layer, Tucker-2: `auto` would also run
# CP's ALS): the command's time is then statistics, one measured input (two
# sessions) and saving; the report times the statistics alone
tv inprocess "$BIN" compress "$MODEL" -o "$OUT/one_layer.onnx" --calib "$OUT/calib.txt" \
  --holdout 1 --runs 0 --threads "$THREADS" --save-stats "$OUT/stats.onnx" \
  --include '^/side6/Conv$' --method tucker2 --ratio 0.5 --report "$OUT/report.json" --quiet
"$PY" - "$OUT/report.json" "$OUT/stats.onnx" "$OUT/node_stats.onnx" <<'PYEOF'
import json, sys
import numpy as np
import onnx
from onnx import numpy_helper as nh
m = json.load(open(sys.argv[1]))["measured"]
print("inprocess statistics: %.1f s, peak RSS %.0f MB when done (%d inputs)"
      % (m["statistics_seconds"], m["statistics_peak_rss"] / 2**20, m["calibration_samples"]))
a = {t.name: nh.to_array(t) for t in onnx.load(sys.argv[2]).graph.initializer}
b = {t.name: nh.to_array(t) for t in onnx.load(sys.argv[3]).graph.initializer}
assert sorted(a) == sorted(b)
worst = max(float(np.abs(a[k].astype(float) - b[k]).max() / max(np.abs(b[k]).max(), 1e-30))
            for k in a)
print("statistics files: %d tensors, largest relative difference %.3g" % (len(a), worst))
PYEOF
