#!/usr/bin/env bash
# The compressed model timed against the original at the end of compress
# (run by ctest):  bash tests/scripts/speed_measure.sh BINARY SRCDIR
#
# With ONNX Runtime present the JSON report's "speed" holds the interleaved
# pairs run (at least --runs), both medians and the median speed-up, and the
# summary a "speed:" line; --no-measure leaves it null; a symbolic input
# dim not given, or a runtime that cannot be loaded, is a reason in the
# report, not a failure; with --calib such a dim takes the first
# calibration input's shape and the model is timed on that input. Structure and consistency only, never timings.
set -u
BIN="$1"
SRCDIR="$2"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$SRCDIR/tests/lsan-ort.supp:print_suppressions=0}"
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
json() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

/usr/bin/python3 - "$T" <<'PY'
import sys, numpy as np, onnx
from onnx import helper as h, numpy_helper as nh, TensorProto as P
rng = np.random.default_rng(5)
w = nh.from_array(rng.standard_normal((64, 64, 3, 3)).astype(np.float32), "w")
for name, n in (("static", 1), ("symbolic", "N"), ("unnamed", None)):
    g = h.make_graph([h.make_node("Conv", ["x", "w"], ["y"], name="c",
                                  pads=[1, 1, 1, 1])], "g",
                     [h.make_tensor_value_info("x", P.FLOAT, [n, 64, 24, 24])],
                     [h.make_tensor_value_info("y", P.FLOAT, [n, 64, 24, 24])], [w])
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]),
              f"{sys.argv[1]}/{name}.onnx")
PY

# --method names the chain: it is written whatever the timing says
C=(compress --method tucker2 --ratio 0.3)
"$BIN" "${C[@]}" "$T/static.onnx" -o "$T/s.onnx" --runs 5 --report "$T/s.json" 2> "$T/err" ||
  bad "timed compress: $(cat "$T/err")"
/usr/bin/python3 - "$T/s.json" <<'PY' || bad "speed in the JSON: $(cat "$T/s.json")"
import json, sys
s = json.load(open(sys.argv[1]))["speed"]
assert s["timed"] is True and s["inputs"] == "generated" and s["runtime"], s
# at least the pairs asked for; a model this small gets more (about
# 300 ms of pairs, td_speed.c)
assert 5 <= s["pairs"] <= 1000, s
assert s["before_ms"] > 0 and s["after_ms"] > 0 and s["speedup"] > 0, s
PY
grep -q "^speed: .* ms -> .* ms, .*x the original's speed (median of [0-9]* interleaved pairs, ONNX Runtime" "$T/err" ||
  bad "no speed line on stderr: $(cat "$T/err")"

"$BIN" "${C[@]}" "$T/static.onnx" -o "$T/n.onnx" --no-measure --quiet --report "$T/n.json" ||
  bad "--no-measure compress failed"
[ "$(json "$T/n.json" "r['speed']")" = None ] || bad "--no-measure still timed: $(cat "$T/n.json")"

"$BIN" "${C[@]}" "$T/symbolic.onnx" -o "$T/y.onnx" --report "$T/y.json" 2> "$T/err" ||
  bad "symbolic compress: $(cat "$T/err")"
[ "$(json "$T/y.json" "(r['speed']['timed'], 'symbolic' in r['speed']['why'] and \"'N'\" in r['speed']['why'])")" = "(False, True)" ] ||
  bad "symbolic dim: no reason in the JSON: $(cat "$T/y.json")"
grep -q "^speed: not timed: .*'N'; random inputs need its value: give it with --dim NAME=N or --input-shape" "$T/err" ||
  bad "symbolic dim: no line on stderr naming the flags: $(cat "$T/err")"
# with data, a symbolic dim without a value takes the first calibration
# input's shape: timed there, and said so
/usr/bin/python3 -c "import numpy as np, sys; [np.save(f'{sys.argv[1]}/cal{i}.npy', np.random.default_rng(i).standard_normal((2, 64, 24, 24)).astype(np.float32)) for i in range(4)]" "$T" ||
  bad "making calibration inputs"
mkdir -p "$T/cal" && mv "$T"/cal?.npy "$T/cal/"
"$BIN" "${C[@]}" "$T/symbolic.onnx" -o "$T/yc.onnx" --calib "$T/cal" --max-error off \
  --report "$T/yc.json" 2> "$T/errc" || bad "symbolic with --calib failed: $(cat "$T/errc")"
[ "$(json "$T/yc.json" "(r['speed']['timed'], r['speed']['inputs'], r['speed']['pairs'] >= 5)")" = "(True, 'calibration', True)" ] ||
  bad "symbolic with --calib: not timed on the calibration input: $(cat "$T/yc.json")"
grep -q "^speed: .* ms -> .* ms, .*x the original's speed (median of [0-9]* interleaved pairs, ONNX Runtime .*, calibration inputs)" "$T/errc" ||
  bad "symbolic with --calib: no speed line: $(cat "$T/errc")"
# a dim with neither size nor name (Silero VAD's batch): not timed without
# data, timed on the calibration input with it
"$BIN" "${C[@]}" "$T/unnamed.onnx" -o "$T/u.onnx" --quiet --report "$T/u.json" ||
  bad "unnamed dim compress failed"
[ "$(json "$T/u.json" "(r['speed']['timed'], 'no size and no name' in r['speed']['why'])")" = "(False, True)" ] ||
  bad "unnamed dim: no reason: $(cat "$T/u.json")"
"$BIN" "${C[@]}" "$T/unnamed.onnx" -o "$T/uc.onnx" --calib "$T/cal" --max-error off --quiet \
  --report "$T/uc.json" || bad "unnamed dim with --calib failed"
[ "$(json "$T/uc.json" "(r['speed']['timed'], r['speed']['inputs'])")" = "(True, 'calibration')" ] ||
  bad "unnamed dim with --calib: not timed on the calibration input: $(cat "$T/uc.json")"
"$BIN" "${C[@]}" "$T/symbolic.onnx" -o "$T/y2.onnx" --dim N=1 --quiet --report "$T/y2.json" ||
  bad "symbolic with --dim failed"
[ "$(json "$T/y2.json" "r['speed']['timed']")" = True ] || bad "--dim N=1 not timed: $(cat "$T/y2.json")"

"$BIN" "${C[@]}" "$T/static.onnx" -o "$T/o.onnx" --ort-lib "$T/none.so" --quiet --report "$T/o.json" ||
  bad "no runtime: compress failed"
[ "$(json "$T/o.json" "(r['speed']['timed'], r['speed']['why'].startswith('not timed: '))")" = "(False, True)" ] ||
  bad "no runtime: no reason in the JSON: $(cat "$T/o.json")"
[ -e "$T/o.onnx" ] || bad "no runtime: the model was not written"

[ $fail -eq 0 ] && echo "speed_measure: all passed"
[ $fail -eq 0 ]
