#!/usr/bin/env bash
# Per layer, the cost model's predicted latency ratio (chain / layer)
# against the one compress measures in ONNX Runtime (the chain alone
# against the layer alone on the layer's input shape, interleaved runs,
# medians; src/calib/td_lat.c), and how often the two agree on faster or
# slower. Runs compress with --report on each model (its default options
# unless given) and prints one table row per timed layer, then a summary
# per model: layers timed, agreement, verdicts the measurement decided,
# seconds spent timing.
#
#   bash bench/latency_layers.sh BUILD OUT [TAG=MODEL:OPTIONS ...]
#
# Default cases: PP-OCRv4 det and rec at the bench shapes (default
# compress) and ISNet fp16 with --method tucker2 --target-params 0.4 (the
# default's CP candidates take over half an hour on ISNet).
set -u
BUILD=${1:?build folder}
OUT=${2:?output folder}
shift 2
M=$(dirname "$0")/models
mkdir -p "$OUT"
cases=("$@")
if [ ${#cases[@]} = 0 ]; then
  cases=(
    "det=$M/ch_PP-OCRv4_det_infer.onnx:--dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=640 --dim p2o.DynamicDimension.2=640"
    "rec=$M/ch_PP-OCRv4_rec_infer.onnx:--dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=320"
    "isnet=$M/isnet_fp16.onnx:--method tucker2 --target-params 0.4"
  )
fi
for c in "${cases[@]}"; do
  tag=${c%%=*}
  rest=${c#*=}
  model=${rest%%:*}
  opts=${rest#*:}
  rm -f "$OUT/$tag.cache"
  # shellcheck disable=SC2086
  nice -n 5 "$BUILD/onnxtd" compress "$model" -o "$OUT/$tag.onnx" --quiet \
    --report "$OUT/$tag.json" --latency-cache "$OUT/$tag.cache" $opts \
    2> "$OUT/$tag.err"
  echo "$tag: exit $? ($(tail -c 300 "$OUT/$tag.err" | tr '\n' ' '))" >&2
done
/usr/bin/python3 - "$OUT" "${cases[@]}" <<'PY'
import json, os, sys
out = sys.argv[1]
print("| model | layer | chain | predicted | measured (layer ms -> chain ms) | verdict from | agree |")
print("|---|---|---|---|---|---|---|")
summary = []
for c in sys.argv[2:]:
    tag = c.split("=", 1)[0]
    p = os.path.join(out, tag + ".json")
    if not os.path.exists(p):
        summary.append((tag, None)); continue
    r = json.load(open(p))
    n = agree = decided = 0
    for l in r["layers"]:
        lat = l.get("latency")
        if not lat or "layer_ms" not in lat or "predicted_ratio" not in lat:
            continue
        pred = lat["predicted_ratio"]
        meas = lat["chain_ms"] / lat["layer_ms"]
        ok = (pred < 1) == (meas < 1)
        n += 1; agree += ok; decided += lat["source"] == "measured"
        chain = l["method"] if l["method"] != "keep" else "keep (%s)" % (
            "measured" if lat["source"] == "measured" else "model")
        print("| %s | `%s` | %s | %.2f | %.2f (%.3f -> %.3f) | %s | %s |" % (
            tag, l["node"], chain, pred, meas, lat["layer_ms"], lat["chain_ms"],
            lat["source"], "yes" if ok else "**no**"))
    t = r["totals"]
    summary.append((tag, (n, agree, decided, t.get("latency_measure", {}).get("seconds", 0),
                          t["seconds"], (r.get("speed") or {}).get("speedup"))))
print()
print("| model | layers timed | model and measurement agree | verdicts measured | timing s | compress s | whole model speed-up |")
print("|---|---|---|---|---|---|---|")
for tag, s in summary:
    if s is None:
        print("| %s | failed | | | | | |" % tag); continue
    n, a, d, ts, cs, sp = s
    print("| %s | %d | %d/%d | %d | %.1f | %.1f | %s |" % (
        tag, n, a, n, d, ts, cs, "%.2f" % sp if sp else "-"))
PY
