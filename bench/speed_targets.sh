#!/usr/bin/env bash
# The speed targets of issue 21 side by side in one run: every MODEL under
# default compress (`onnxtd compress M -o OUT`, the tool's own end-of-compress
# timing, --runs 9), and the models given after `--` under "--target-flops
# 0.5". A written model is then timed again against its original with
# `onnxtd eval ORIG COMP --random 1 --runs RUNS`, ROUNDS times, the rows
# interleaved round by round; the table gives the tool's speed-up, each
# round's (original / compressed median), their median and, for
# --target-flops, that median over the MAC ratio (target >= 0.8; default
# compress: speed-up >= 0.98). SPEED_OPTS adds options to every compress
# (e.g. "--max-layer-error off" for make_cnns.py's random weights, whose
# flat spectra the data-free layer error cap would keep whole).
#   bash bench/speed_targets.sh BIN OUTDIR ROUNDS RUNS MODEL... [-- MODEL...]
set -u
SPEED_OPTS=${SPEED_OPTS:-}
BIN="$1"; OUT="$2"; ROUNDS="$3"; RUNS="$4"; shift 4
mkdir -p "$OUT"
dims_of() {  # symbolic input dims of the PP-OCR models
  case $1 in
    *det*) echo "--dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=640 --dim p2o.DynamicDimension.2=640" ;;
    *rec*) echo "--dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=320" ;;
    *cls*) echo "--dim p2o.DynamicDimension.0=32 --dim p2o.DynamicDimension.1=48 --dim p2o.DynamicDimension.2=192" ;;
  esac
}
rows=()
opts="default"
for m in "$@"; do
  if [ "$m" = "--" ]; then opts="--target-flops 0.5"; continue; fi
  name=$(basename "$m" .onnx); tag="$name.${opts// /}"; tag="${tag//--/}"
  dims=$(dims_of "$name")
  extra=""; [ "$opts" = default ] || extra="$opts"
  # shellcheck disable=SC2086
  nice -n 5 "$BIN" compress "$m" -o "$OUT/$tag.onnx" $dims $extra $SPEED_OPTS --runs 9 --quiet \
    --report "$OUT/$tag.json" 2> "$OUT/$tag.err"
  echo $? > "$OUT/$tag.rc"
  rm -f "$OUT/$tag.eval"
  rows+=("$m|$tag|$opts")
done
for _ in $(seq "$ROUNDS"); do
  for row in "${rows[@]}"; do
    IFS='|' read -r m tag opts <<< "$row"
    [ "$(cat "$OUT/$tag.rc")" = 0 ] || continue
    # shellcheck disable=SC2086
    nice -n 5 "$BIN" eval "$m" "$OUT/$tag.onnx" --random 1 --runs "$RUNS" \
      $(dims_of "$(basename "$m" .onnx)") --json >> "$OUT/$tag.eval" 2>/dev/null
    echo >> "$OUT/$tag.eval"
  done
done
printf "%-30s %-19s %4s %6s %6s %7s  %-30s %7s %6s  %s\n" model options exit params MACs tool "speed-up per round (eval)" median "/MACs" note
for row in "${rows[@]}"; do
  IFS='|' read -r m tag opts <<< "$row"
  /usr/bin/python3 - "$OUT/$tag" "$(basename "$m" .onnx)" "$opts" <<'PY'
import json, os, statistics, sys
base, name, opts = sys.argv[1:4]
rc = open(base + ".rc").read().strip()
if rc != "0":
    msg = open(base + ".err").read().strip().replace("\n", " ")
    msg = msg.split(": ", 1)[-1][:170]
    print("%-30s %-19s %4s %6s %6s %7s  %-30s %7s %6s  %s" % (
        name, opts, rc, "-", "-", "-", "-", "-", "-", msg))
    sys.exit(0)
r = json.load(open(base + ".json")); t = r["totals"]; s = r.get("speed") or {}
macs = (t.get("model_flops_after") or t["flops_after"]) / (t.get("model_flops_before") or t["flops_before"]) if t.get("flops_before") else float("nan")  # every layer, those left as they are too
evals = []
if os.path.exists(base + ".eval"):
    evals = [json.loads(x) for x in open(base + ".eval").read().split("\n") if x.strip()]
sp = [1 / e["latency"]["ratio"] for e in evals if e.get("latency")]
med = statistics.median(sp) if sp else float("nan")
kept = sum(1 for l in r["layers"] if l.get("kept_for_speed"))
meth = {}
for l in r["layers"]:
    if l["method"] != "keep":
        meth[l["method"]] = meth.get(l["method"], 0) + 1
print("%-30s %-19s %4s %6.3f %6.3f %7s  %-30s %7.3f %6s  %s" % (
    name, opts, 0, t["model_params_after"] / t["model_params_before"], macs,
    "%.3f" % s["speedup"] if s.get("timed") else "-",
    ",".join("%.2f" % x for x in sp), med,
    "%.2f" % (med * macs) if opts != "default" else "-",
    "%d kept for speed; %s" % (kept, " ".join("%s %d" % kv for kv in sorted(meth.items())))))
PY
done
