#!/usr/bin/env bash
# Every op onnxtd emits is valid at the model's opset (run by ctest):
#   bash tests/scripts/opset_sweep.sh BINARY SRCDIR
# tests/tools/make_opsets.py writes a Conv -> Flatten -> Gemm -> MatMul model
# for every opset from 1 to the newest onnx.checker knows; each is compressed
# with every method at --tol 0 --force and with auto at --ratio 0.5, and
# every output must pass onnx.checker.check_model(full_check=True) (Tile-1
# takes 3 inputs, Gemm up to opset 6 keeps `broadcast`, C is given before
# opset 11 ...); where ONNX Runtime runs the opset (7 on), the --tol 0
# outputs equal the original's (onnxtd eval, rel. L2 <= 1e-5): the svd
# (Gemm) and tr (Tile) chains at every such opset, the others at the first
# and the newest. The TR chains must have
# used Tile somewhere, or the sweep would not test it.
set -u
BIN="$1"
SRCDIR="$2"
PY=/usr/bin/python3
# ONNX Runtime keeps a few allocations until exit (eval runs it in-process)
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$SRCDIR/tests/lsan-ort.supp:print_suppressions=0}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
opsets=$("$PY" "$SRCDIR/tests/tools/make_opsets.py" "$T") || { echo "FAIL: generator"; exit 1; }
: > "$T/outputs.txt"
last=$(echo "$opsets" | tail -1)
for o in $opsets; do
  for m in tucker2 cp svd tr rsdtr auto; do
    out="$T/o$o.$m.onnx"
    if [ "$m" = auto ]; then args="--ratio 0.5 --allow-slower"; else args="--tol 0 --force"; fi
    # shellcheck disable=SC2086
    "$BIN" compress "$T/opset$o.onnx" -o "$out" --method "$m" $args --quiet \
      --report "$T/r.json" 2>"$T/err" || { bad "opset $o $m: $(cat "$T/err")"; continue; }
    grep -Eq '"method":"(tucker2|cp|svd|tr|rsdtr)"' "$T/r.json" || bad "opset $o $m: no layer factored"
    echo "$o $m $out" >> "$T/outputs.txt"
    # ONNX Runtime (opset 7 on) on what changes with the opset: the Gemm
    # chain (svd) and Tile (tr) at every opset, the rest at the first and last
    if [ "$o" -ge 7 ] && [ "$m" != auto ] &&
       { [ "$m" = svd ] || [ "$m" = tr ] || [ "$o" = 7 ] || [ "$o" = "$last" ]; }; then
      res=$("$BIN" eval "$T/opset$o.onnx" "$out" --random 1 --rtol 1e-5 --runs 0 2>&1 | tail -1)
      case "$res" in "result: PASS"*) ;; *) bad "opset $o $m: ORT: $res" ;; esac
    fi
  done
done
"$PY" - "$T/outputs.txt" <<'PYEOF' || fail=$((fail + 1))
import sys, onnx
bad = 0
tiles = 0
for line in open(sys.argv[1]):
    o, m, path = line.split()
    model = onnx.load(path)
    tiles += sum(n.op_type == "Tile" for n in model.graph.node)
    # the checker does not hold a C of another shape against `broadcast`
    for n in model.graph.node:
        b = [a.i for a in n.attribute if a.name == "broadcast"]
        if n.op_type == "Gemm" and int(o) < 7 and b != [1]:
            bad += 1
            print(f"FAIL: opset {o} {m}: Gemm '{n.name}' without broadcast=1")
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:
        bad += 1
        print(f"FAIL: opset {o} {m}: onnx.checker: {str(e).splitlines()[0][:300]}")
if tiles == 0:
    bad += 1
    print("FAIL: no output holds a Tile")
print(f"onnx.checker: {bad} failed, Tile nodes seen: {tiles}")
sys.exit(1 if bad else 0)
PYEOF
echo "$fail failed"
[ "$fail" -eq 0 ]
