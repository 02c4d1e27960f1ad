#!/bin/bash
# Hostile integers in models and --dim values: every size that does not
# fit in int64 ends in a clean error naming the node and the attribute (exit
# 1, never a crash or an UBSan report), sizes with
# an exact answer (Slice steps of INT64_MIN, ceil_mode, SAME) are accepted,
# and convert, which infers no shapes, copies every model.
# Usage: bash overflow_models.sh BINARY SRCDIR   (exit 0 pass, 1 fail)
. "$(dirname "${BASH_SOURCE[0]}")/common.sh" "$@"
SRC=$SRCDIR

"$PY" "$SRC/tests/tools/make_overflow.py" "$T/m" > "$T/list" || {
    echo "FAIL: make_overflow.py"; exit 1; }
[ "$(wc -l < "$T/list")" -ge 25 ] || fail "too few models generated"

# A sanitizer report, or a signal, is never a clean error.
clean() {  # FILE RC
    if grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' "$1"; then
        return 1
    fi
    [ "$2" -lt 128 ]
}

while read -r name expect node word; do
    m="$T/m/$name.onnx"
    "$BIN" info "$m" > "$T/info.out" 2> "$T/info.err"; ri=$?
    "$BIN" compress "$m" -o "$T/out.onnx" --target-flops 0.5 --quiet \
        > /dev/null 2> "$T/comp.err"; rc=$?
    "$BIN" convert "$m" -o "$T/conv.onnx" > /dev/null 2> "$T/conv.err"; rv=$?
    clean "$T/info.err" $ri || fail "$name: info crashed: $(head -3 "$T/info.err")"
    clean "$T/comp.err" $rc || fail "$name: compress crashed: $(head -3 "$T/comp.err")"
    clean "$T/conv.err" $rv || fail "$name: convert crashed: $(head -3 "$T/conv.err")"
    [ $rv -eq 0 ] || fail "$name: convert exit $rv: $(cat "$T/conv.err")"
    if [ "$expect" = error ]; then
        [ $ri -eq 1 ] || fail "$name: info exit $ri, expected 1"
        [ $rc -eq 1 ] || fail "$name: compress exit $rc, expected 1"
        for f in info comp; do
            grep -q "node '$node'\|tensor '$node'" "$T/$f.err" &&
                grep -q "$word" "$T/$f.err" &&
                grep -q "overflows int64" "$T/$f.err" ||
                fail "$name: $f message lacks '$node', '$word': $(cat "$T/$f.err")"
        done
        [ -e "$T/out.onnx" ] && fail "$name: compress wrote a model"
    else
        [ $ri -eq 0 ] || fail "$name: info exit $ri: $(cat "$T/info.err")"
        # 1: the FLOPs target cannot be met or there is no layer
        # (EUNMET); 2: it needs static shapes the model lacks
        [ $rc -eq 0 ] || [ $rc -eq 1 ] || [ $rc -eq 2 ] ||
            fail "$name: compress exit $rc: $(cat "$T/comp.err")"
    fi
    rm -f "$T/out.onnx" "$T/conv.onnx"
done < "$T/list"

# --dim: INT64_MAX overflows the padded input; 2^32 the pixel count;
# 3037000499 (its square just fits) the MAC count; a large but fitting
# size is counted exactly.
m="$T/m/dim_conv.onnx"
for d in 9223372036854775807:pads 4294967296:pixel 3037000499:MAC; do
    v=${d%%:*} word=${d#*:}
    "$BIN" info "$m" --dim h=$v > /dev/null 2> "$T/e"; ri=$?
    clean "$T/e" $ri && [ $ri -eq 1 ] && grep -q "node 'dim_conv'" "$T/e" ||
        fail "info --dim h=$v: exit $ri: $(head -3 "$T/e")"
    for args in "--target-flops 0.5" "--method tr --tol 0.3 --force"; do
        "$BIN" compress "$m" -o "$T/out.onnx" --quiet --dim h=$v $args \
            > /dev/null 2> "$T/e"; rc=$?
        clean "$T/e" $rc && [ $rc -eq 1 ] && grep -q "node 'dim_conv'" "$T/e" &&
            grep -q "$word" "$T/e" ||
            fail "compress --dim h=$v $args: exit $rc: $(head -3 "$T/e")"
        [ -e "$T/out.onnx" ] && fail "compress --dim h=$v wrote a model"
    done
done
# 10^8 x 10^8 pixels x 576 weights = 5.76e18 MACs: fits, counted exactly
"$BIN" info "$m" --dim h=100000000 --json > "$T/j" 2> "$T/e" ||
    fail "info --dim h=100000000: $(cat "$T/e")"
"$PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
m = j["convs"][0]["macs"]
sys.exit(m != 10**16 * 576)' "$T/j" || fail "info --dim h=1e8: wrong MACs"

# The huge-stride Conv: its chains' MACs do not fit, so the layer is kept
# (with a note) rather than replaced by a count that wrapped.
"$BIN" compress "$T/m/stride_chain.onnx" -o "$T/out.onnx" --quiet --force \
    --report "$T/r.json" > /dev/null 2> "$T/e"; rc=$?
clean "$T/e" $rc && [ $rc -eq 0 ] || fail "stride_chain: exit $rc: $(head -3 "$T/e")"
"$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
l = r["layers"][0]
ok = l["method"] == "keep" and "int64" in l.get("note", "")
sys.exit(0 if ok else 1)' "$T/r.json" 2>/dev/null ||
    fail "stride_chain: layer not kept for its MAC count: $(cat "$T/r.json" 2>/dev/null | head -c 600)"

td_done overflow_models
