#!/usr/bin/env bash
# One-input-channel convs and method reasons (run by ctest):
#   bash tests/scripts/one_channel_conv.sh BINARY SRCDIR
# - a group=1 Conv with Cin=1 (1-D STFT-like, 2-D with stride/pads/dilation,
#   tests/tools/make_one_channel.py) is factored by every method at --tol 0
#   --force, same outputs as the original in ONNX Runtime (rel. L2 <= 1e-5),
#   and by svd at --ratio 0.5 to at most half its parameters;
# - --method tucker2 on 1x1 convs says why in the report, and a refused
#   --target-params names the layers the method left as they are.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
CMP="$SRCDIR/tools/ort/ort_compare.js"
layer() { "$PY" -c "import json,sys; L=json.load(open(sys.argv[1]))['layers']; l=L[0] if L else {}; print(eval(sys.argv[2]))" "$@"; }
"$PY" "$SRCDIR/tests/tools/make_one_channel.py" "$T" || { echo "FAIL: generator"; exit 1; }
for m in stft1d first2d; do
  for meth in auto svd tucker2 cp tr rsdtr; do
    out="$T/$m.$meth.onnx"
    "$BIN" compress "$T/$m.onnx" -o "$out" --method "$meth" --tol 0 --force --quiet \
      --report "$T/r.json" 2>"$T/err" || { bad "$m $meth: $(cat "$T/err")"; continue; }
    got=$(layer "$T/r.json" "l.get('method', 'none')")
    [ "$got" = "$meth" ] || [ "$meth" = auto -a "$got" != keep -a "$got" != none ] ||
      { bad "$m $meth: report says '$got'"; continue; }
    res=$(node "$CMP" "$T/$m.onnx" "$out" --rtol 1e-5 2>&1 | tail -1)
    case "$res" in PASS*) ;; *) bad "$m $meth: $res" ;; esac
  done
  "$BIN" compress "$T/$m.onnx" -o "$T/$m.half.onnx" --method svd --ratio 0.5 --allow-slower --quiet \
    --report "$T/r.json" 2>"$T/err" || { bad "$m ratio: $(cat "$T/err")"; continue; }
  r=$(layer "$T/r.json" "l['params_after'] / l['params_before'] if l.get('method') == 'svd' else 9")
  echo "$m --method svd --ratio 0.5: parameters x$r"
  "$PY" -c "import sys; sys.exit(0 if 0 < float(sys.argv[1]) <= 0.5 else 1)" "$r" ||
    bad "$m --ratio 0.5: parameters x$r"
  res=$(node "$CMP" "$T/$m.onnx" "$T/$m.half.onnx" --rtol 1e30 2>&1 | tail -1)
  case "$res" in PASS*) ;; *) bad "$m ratio: does not run in ORT: $res" ;; esac
done

# tucker2 on 1x1 convs: a reason per layer, and in the refusal
cls="$SRCDIR/bench/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
"$BIN" compress "$cls" -o "$T/cls.onnx" --method tucker2 --ratio 0.5 --quiet \
  --report "$T/r.json" 2>"$T/err" || bad "cls tucker2: $(cat "$T/err")"
n=$("$PY" -c "import json,sys; L=json.load(open(sys.argv[1]))['layers']; print(sum(1 for l in L if l.get('note','').startswith('1x1 kernel: tucker2 has no spatial modes')))" "$T/r.json")
[ "$n" -gt 0 ] || bad "cls tucker2: no 1x1 reason in the report"
# --no-protect: protection would leave out cls's first conv, the one layer
# tucker2 can take, and the refusal would have no layer to explain
"$BIN" compress "$cls" -o "$T/cls2.onnx" --method tucker2 --target-params 0.9 --no-protect --quiet 2>"$T/err"
rc=$?
grep -q "layers stay as they are (the first, '[^']*' (Conv): 1x1 kernel: tucker2 has no spatial modes; use svd or auto)" "$T/err" ||
  bad "tucker2 refusal (exit $rc) without the reason: $(cat "$T/err")"
[ -e "$T/cls2.onnx" ] && bad "refused compress wrote its output"
td_done one_channel_conv
