#!/usr/bin/env bash
# Default compress (and optional extra options) on each model, with the
# end-of-compress timing: one line per model with the outcome (written or
# the refusal), the MAC and parameter ratios and the measured speed-up
# (median of interleaved pairs in ONNX Runtime, generated inputs).
#   bash bench/speed_default.sh BUILD_DIR OUTDIR "EXTRA OPTIONS" MODEL...
# e.g. bash bench/speed_default.sh build /tmp/sp "" bench/models/*.onnx
set -u
BIN="$1/onnxtd"; OUT="$2"; EXTRA="$3"; shift 3
mkdir -p "$OUT"
printf "%-36s %-8s %8s %8s %9s  %s\n" model exit params MACs speedup note
for m in "$@"; do
  name=$(basename "$m" .onnx)
  dims=""
  case $name in  # symbolic input dims of the PP-OCR models
    *det*) dims="--dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=640 --dim p2o.DynamicDimension.2=640" ;;
    *rec*) dims="--dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=320" ;;
    *cls*) dims="--dim p2o.DynamicDimension.0=32 --dim p2o.DynamicDimension.1=48 --dim p2o.DynamicDimension.2=192" ;;
  esac
  # shellcheck disable=SC2086
  nice -n 5 "$BIN" compress "$m" -o "$OUT/$name.c.onnx" $dims $EXTRA --quiet \
    --runs 9 --report "$OUT/$name.json" 2> "$OUT/$name.err"
  rc=$?
  if [ $rc -eq 0 ]; then
    /usr/bin/python3 - "$OUT/$name.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = r["totals"]; s = r["speed"] or {}
fl = (t.get("model_flops_after") or t["flops_after"]) / (t.get("model_flops_before") or t["flops_before"]) if t.get("flops_before") else float("nan")  # every layer, those left as they are too
sp = "%.3f" % s["speedup"] if s.get("timed") else "-"
kept = sum(1 for l in r["layers"] if l.get("kept_for_speed"))
print("%-36s %-8s %8.3f %8.3f %9s  %d kept for speed%s" % (
    sys.argv[2], 0, t["model_params_after"] / t["model_params_before"], fl, sp,
    kept, "" if s.get("timed") else "; " + s.get("why", "")))
PY
  else
    printf "%-36s %-8s %8s %8s %9s  %s\n" "$name" $rc - - - "$(cut -c1-160 "$OUT/$name.err")"
  fi
done
