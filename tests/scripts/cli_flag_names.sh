#!/usr/bin/env bash
# The command speaks in its flags: every refusal and usage error the
# library words with its option fields ("options.allow_slower",
# "target_params 0.5", "within max_error 0.05") reaches the terminal with
# the flag instead, for each kind of message (compress's budgets, bounds,
# caps, speed rule, statistics and dims; eval's failures and dims; the
# runtime's hint), and no library field name is left anywhere on stderr or
# in the summary. Each case: the exit code, the flag text expected, and
# the absence of any field name.
#
#   bash tests/scripts/cli_flag_names.sh BINARY SRCDIR
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
td_use_ort
MODEL=$SRCDIR/tests/onnx_models/small_cnn.onnx
"$PY" "$SRCDIR/tests/tools/make_images.py" "$T/in" 8 64 --seed 3 ||
  { echo "FAIL: making the images"; exit 1; }
"$PY" - "$T" <<'PY' || { echo "FAIL: making the models"; exit 1; }
import sys, numpy as np, onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as P
rng = np.random.default_rng(5)
w = nh.from_array(rng.standard_normal((32, 32, 3, 3)).astype(np.float32), "w")
g = h.make_graph([h.make_node("Conv", ["x", "w"], ["y"], name="c", pads=[1, 1, 1, 1])],
                 "g", [h.make_tensor_value_info("x", P.FLOAT, ["N", 32, "H", "W"])],
                 [h.make_tensor_value_info("y", P.FLOAT, ["N", 32, "H", "W"])], [w])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), f"{sys.argv[1]}/sym.onnx")
w = nh.from_array(rng.standard_normal((64, 64, 1, 1)).astype(np.float32), "w")
g = h.make_graph([h.make_node("Conv", ["x", "w"], ["y"], name="pw")], "g",
                 [h.make_tensor_value_info("x", P.FLOAT, [1, 64, 8, 8])],
                 [h.make_tensor_value_info("y", P.FLOAT, [1, 64, 8, 8])], [w])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), f"{sys.argv[1]}/pw.onnx")
PY

# A library name: options.X, or a field standing alone (not after "--",
# a letter, "_", "." or a quote, which would be a flag or part of a name).
LIBNAME="options\.|(^|[^-a-zA-Z0-9_.'])(target_params|target_flops|also_flops|max_error|min_agreement|min_iou|iou_threshold|max_layer_error|allow_slower|sens_cache|sens_groups|min_cosine|rtol)([^a-zA-Z0-9_]|$)"

# case NAME EXIT TEXT ARGS...: onnxtd ARGS exits EXIT, its output holds
# TEXT, and no library name
case_() {
  local name=$1 want=$2 text=$3
  shift 3
  rm -f "$T/x.onnx"
  "$BIN" "$@" > "$T/out" 2>&1
  local rc=$?
  [ "$rc" = "$want" ] || bad "$name: exit $rc, wanted $want: $(cat "$T/out")"
  grep -qF -- "$text" "$T/out" || bad "$name: lacks '$text': $(cat "$T/out")"
  if grep -qE -- "$LIBNAME" "$T/out"; then
    bad "$name: a library name is left: $(grep -oE -- "$LIBNAME" "$T/out" | head -3 | tr '\n' ' ')"
  fi
  [ "$want" = 0 ] || [ ! -e "$T/x.onnx" ] || bad "$name: an output was written"
}

C=(compress "$MODEL" -o "$T/x.onnx" --threads 1)
# budgets: the data-free cap, then the reachable budget
case_ "cap refusal" 1 "would pass --max-layer-error 0.3" "${C[@]}" --target-params 0.1 \
  --allow-slower
grep -qF -- "the most compression found is --target-params 0." "$T/out" ||
  bad "cap refusal: no reachable budget as a flag: $(cat "$T/out")"
case_ "speed rule" 1 "--allow-slower uses such chains" "${C[@]}" --target-params 0.1 \
  --max-layer-error off
case_ "method fits no layer" 1 "--method tucker2 applies to none of" \
  compress "$T/pw.onnx" -o "$T/x.onnx" --target-params 0.5 --method tucker2
# filters that leave a layer the method does not fit: the method is why
case_ "method fits what the filter left" 1 "--method tucker2 applies to none of the 1 layer --include/--exclude leave (the first, 'proj' (Conv))" \
  "${C[@]}" --target-params 0.5 --method tucker2 --include '^proj$'
case_ "filtered out" 1 "--include/--exclude leave no layer to factor" \
  "${C[@]}" --target-params 0.5 --include nomatch
# the output-error bound: its refusal and its reachable budget
case_ "bound refusal" 1 "--target-params 0.2 cannot be met within --max-error 0.0001 and --min-agreement 0.98" \
  "${C[@]}" --target-params 0.2 --calib "$T/in" --max-error 0.0001 --allow-slower --runs 0
grep -qE -- "the most compression found within the bound is --target-params [0-9.]+|no budget tried is within it" "$T/out" ||
  bad "bound refusal: no reachable budget: $(cat "$T/out")"
case_ "min-iou on no map" 2 "--min-iou bounds nothing here" \
  "${C[@]}" --calib "$T/in" --min-iou 0.9 --allow-slower --runs 0
# statistics and sensitivity
case_ "holdout" 2 "--holdout 8 leaves no calibration input of the 8 given" \
  "${C[@]}" --ratio 0.5 --calib "$T/in" --holdout 8
case_ "sens-cache" 2 "--sens-cache needs --sensitivity measured" \
  "${C[@]}" --target-params 0.5 --calib "$T/in" --sens-cache "$T/w.sens"
# dims: a FLOPs budget and the speed note on symbolic shapes
case_ "flops, symbolic" 2 "with --dim NAME=N or --input-shape INPUT:D1,D2,...:" \
  compress "$T/sym.onnx" -o "$T/x.onnx" --target-flops 0.5
case_ "speed note, symbolic" 0 "random inputs need its value: give it with --dim NAME=N" \
  compress "$T/sym.onnx" -o "$T/x.onnx" --ratio 0.5 --method tucker2
# a bound met: the summary's bound lines
case_ "summary" 0 "--target-params 0.9 asked, within the bound" \
  "${C[@]}" --target-params 0.9 --calib "$T/in" --allow-slower --runs 3
grep -qF -- "x the original's speed), medians of 3 interleaved runs" "$T/out" ||
  bad "summary: the measured latency is not a speed: $(cat "$T/out")"
# eval's failures and dims
"$BIN" compress "$MODEL" -o "$T/c.onnx" --ratio 0.3 --method tucker2 --quiet ||
  bad "compress for eval failed"
case_ "eval failures" 1 "> --rtol 1e-09" \
  eval "$MODEL" "$T/c.onnx" --inputs "$T/in" --rtol 1e-9 --min-cosine 1 --min-agreement 1 --runs 0
case_ "eval dims" 2 "give it with --dim NAME=N" eval "$T/sym.onnx" "$T/sym.onnx" --random 1
# the runtime's hint
ONNXTD_ORT_LIB= case_ "ort-lib" 1 "point --ort-lib or ONNXTD_ORT_LIB at" \
  eval "$MODEL" "$MODEL" --random 1 --ort-lib "$T/nosuch.so.1"
td_done cli_flag_names
