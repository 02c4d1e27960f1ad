#!/usr/bin/env bash
# Ranks rounded to multiples of K (--rank-multiple K, K in $KS, default
# "1 8 16") under one budget: per model and K, the compressed model's
# parameters and MACs (after / before), the replaced layers, their mean and
# largest per-layer rel. error, the output's rel. L2 on one seeded random
# input, and the speed-up in ONNX Runtime: `onnxtd eval ORIG COMP --runs
# RUNS` per K, the Ks interleaved within each of ROUNDS rounds; the table
# gives every round's speed-up (original / compressed median) and their
# median, and that median over the MAC ratio.
#   bash bench/rank_multiple.sh BIN OUTDIR "OPTIONS" ROUNDS RUNS MODEL...
# e.g. bash bench/rank_multiple.sh build/onnxtd /tmp/rm "--target-flops 0.5" 3 7 m.onnx
set -u
BIN="$1"; OUT="$2"; OPTS="$3"; ROUNDS="$4"; RUNS="$5"; shift 5
KS="${KS:-1 8 16}"
mkdir -p "$OUT"
dims_of() {  # symbolic input dims of the PP-OCR models
  case $1 in
    *det*) echo "--dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=640 --dim p2o.DynamicDimension.2=640" ;;
    *rec*) echo "--dim p2o.DynamicDimension.0=1 --dim p2o.DynamicDimension.1=320" ;;
    *cls*) echo "--dim p2o.DynamicDimension.0=32 --dim p2o.DynamicDimension.1=48 --dim p2o.DynamicDimension.2=192" ;;
  esac
}
printf "%-30s %3s %4s %6s %6s %5s %13s %8s  %-24s %7s %6s\n" model K exit params MACs repl "err mean/max" out_rl2 "speed-up per round" median "/MACs"
for m in "$@"; do
  name=$(basename "$m" .onnx)
  dims=$(dims_of "$name")
  for k in $KS; do
    # shellcheck disable=SC2086
    nice -n 5 "$BIN" compress "$m" -o "$OUT/$name.k$k.onnx" $dims $OPTS \
      --rank-multiple "$k" --no-measure --quiet --report "$OUT/$name.k$k.json" \
      2> "$OUT/$name.k$k.err"
    echo $? > "$OUT/$name.k$k.rc"
    rm -f "$OUT/$name.k$k.eval"
  done
  for _ in $(seq "$ROUNDS"); do
    for k in $KS; do
      [ "$(cat "$OUT/$name.k$k.rc")" = 0 ] || continue
      # shellcheck disable=SC2086
      nice -n 5 "$BIN" eval "$m" "$OUT/$name.k$k.onnx" --random 1 --runs "$RUNS" \
        $dims --json >> "$OUT/$name.k$k.eval" 2>/dev/null
      echo >> "$OUT/$name.k$k.eval"
    done
  done
  for k in $KS; do
    /usr/bin/python3 - "$OUT/$name.k$k" "$name" "$k" <<'PY'
import json, statistics, sys
base, name, k = sys.argv[1:4]
rc = open(base + ".rc").read().strip()
if rc != "0":
    msg = open(base + ".err").read().strip().replace("\n", " ")[:150]
    print("%-30s %3s %4s  %s" % (name, k, rc, msg))
    sys.exit(0)
r = json.load(open(base + ".json")); t = r["totals"]
rep = [l for l in r["layers"] if l["method"] != "keep"]
errs = [l["rel_error"] for l in rep if l.get("rel_error") is not None]
macs = (t.get("model_flops_after") or t["flops_after"]) / (t.get("model_flops_before") or t["flops_before"]) if t.get("flops_before") else float("nan")  # every layer, those left as they are too
evals = [json.loads(x) for x in open(base + ".eval").read().split("\n") if x.strip()]
sp = [1 / e["latency"]["ratio"] for e in evals if e.get("latency")]
rl2 = max(o["rel_l2"] for o in evals[0]["outputs"]) if evals else float("nan")
med = statistics.median(sp) if sp else float("nan")
print("%-30s %3s %4s %6.3f %6.3f %5d %6.3f/%6.3f %8.4f  %-24s %7.3f %6.2f" % (
    name, k, 0, t["model_params_after"] / t["model_params_before"], macs,
    len(rep), statistics.mean(errs) if errs else 0, max(errs) if errs else 0,
    rl2, ",".join("%.2f" % s for s in sp), med, med * macs))
PY
  done
done
