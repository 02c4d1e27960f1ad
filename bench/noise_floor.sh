#!/usr/bin/env bash
# How far the task's metric moves for the ORIGINAL model when only the
# input's last bit does (bench/fidelity/noise_floor.py): per evaluation
# input, the median over draws of the original on noisy input against the
# original on the input as it is. A compressed model's deviation on an
# input reads against this: an IoU the original itself does not keep
# under one pixel level of noise is the input's, not the compression's.
#
#   bash bench/noise_floor.sh det|isnet [EXTRA_MANIFEST.json]
#
# Environment: OUT (bench/out/fidelity_bound: fidelity_bound.sh's
# evaluation inputs), DRAWS (3). Results: $OUT/noise-TASK.tsv, printed.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/fidelity_bound}
TASK=$1
case "$TASK" in det|isnet) ;; *) echo "noise_floor.sh: det or isnet, not '$TASK'" >&2; exit 2 ;; esac
. bench/fidelity/env.sh
man=$OUT/eval/$TASK.json
if [ $# -ge 2 ]; then
  # the evaluation inputs and further ones (det's sign photos) together
  man=$OUT/noise-$TASK/manifest.json
  mkdir -p "$OUT/noise-$TASK"
  "$PY" bench/fidelity/manifest_join.py "$man" "$OUT/eval/$TASK.json" "$2"
fi
models=$("$PY" bench/fidelity/noise_floor.py --model "$src" --task "$TASK" \
         --out "$OUT/noise-$TASK" --draws "${DRAWS:-3}")
for m in $models; do
  node bench/fidelity/eval.js "$src" "$m" --task "$TASK" --manifest "$man" \
      --no-time --json --cache "$OUT/cache" > "${m%.onnx}.json"
done
"$PY" - $models <<'PYEOF' | tee "$OUT/noise-$TASK.tsv"
import json, statistics, sys, collections, os
rows = collections.defaultdict(lambda: collections.defaultdict(list))
for m in sys.argv[1:]:
    kind = os.path.basename(m).split("-s")[0]
    for p in json.load(open(m[:-5] + ".json"))["per_input"]:
        rows[p["input"]][kind].append(p["iou"])
kinds = ["gray05", "gray1", "color1"]
print("input\t" + "\t".join("IoU %s (median, lowest)" % k for k in kinds))
for name, by in rows.items():
    print(name + "\t" + "\t".join("%.3f, %.3f" % (statistics.median(by[k]), min(by[k]))
                                  for k in kinds))
PYEOF
