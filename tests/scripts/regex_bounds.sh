#!/bin/bash
# --include/--exclude patterns are bounded before regcomp: the patterns
# that crashed glibc's regcomp ('(.*){1,32767}', a stack overflow) or took
# gigabytes ('a{1,32767}') are refused at once with exit 2, in little
# memory, as are over-long, deeply nested and exploding patterns, while
# ordinary patterns still select the layers they match.
# Usage: bash regex_bounds.sh BINARY SRCDIR   (exit 0 pass, 1 fail)
set -u
BIN=$1
SRC=$2
PY=/usr/bin/python3
M="$SRC/tests/onnx_models/small_cnn.onnx"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
FAIL=0
fail() { echo "FAIL: $*"; FAIL=1; }

# An address-space limit shows the memory bound; ASan reserves terabytes
# of shadow at start, so under ASan only the time limit applies.
LIMIT="ulimit -v 1000000"
if ldd "$BIN" 2>/dev/null | grep -q libasan; then
    LIMIT=:
fi

run() {  # OPTION PATTERN -> exit code in $rc, stderr in $T/e
    (eval "$LIMIT"; exec timeout 20 "$BIN" compress "$M" -o "$T/o.onnx" \
        --quiet --ratio 0.9 --allow-slower --report "$T/r.json" "$1" "$2") \
        > /dev/null 2> "$T/e"
    rc=$?
}

long=$(printf 'a%.0s' $(seq 1025))
deep=$(printf '(%.0s' $(seq 33))$(printf ')%.0s' $(seq 33))
while IFS='@' read -r pattern word; do
    [ "$pattern" = LONG ] && pattern=$long
    [ "$pattern" = DEEP ] && pattern=$deep
    for opt in --include --exclude; do
        rm -f "$T/o.onnx"
        start=$(date +%s)
        run "$opt" "$pattern"
        secs=$(( $(date +%s) - start ))
        [ $rc -eq 2 ] || fail "$opt '${pattern:0:40}': exit $rc, expected 2: $(head -3 "$T/e")"
        # the option, as given
        grep -q -- "$opt pattern" "$T/e" && grep -q -- "$word" "$T/e" ||
            fail "$opt '${pattern:0:40}': message lacks '$word': $(head -3 "$T/e")"
        [ $secs -le 5 ] || fail "$opt '${pattern:0:40}': took ${secs}s"
        [ -e "$T/o.onnx" ] && fail "$opt '${pattern:0:40}': wrote a model"
    done
done <<'LIST'
(.*){1,32767}@count 32767 exceeds 255
a{1,32767}@count 32767 exceeds 255
a{,32767}@count 32767 exceeds 255
x|{1,32767}@count 32767 exceeds 255
a{256}@count 256 exceeds 255
(a{1,255}){1,255}@more than 4096 atoms
((.+){64}){64}@more than 4096 atoms
LONG@1025 bytes
DEEP@deeper than 32
conv(@Unmatched
LIST

# Ordinary patterns, the largest bounds included, select what they match.
selected() {  # OPTION PATTERN EXPECTED-NODES
    run "$1" "$2"
    [ $rc -eq 0 ] || { fail "$1 '$2': exit $rc: $(head -3 "$T/e")"; return; }
    got=$("$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(" ".join(sorted(l["node"] for l in r["layers"])))' "$T/r.json")
    [ "$got" = "$3" ] || fail "$1 '$2': layers '$got', expected '$3'"
}
selected --include 'conv[0-9]+' "conv0 conv1 conv2 conv3"
selected --include '^(conv1|proj)$' "conv1 proj"
selected --exclude '^conv[[:digit:]]{1,255}$' "fc proj"
selected --include '^(c|o|n|v|p|r|j|[0-9]){1,255}$' "conv0 conv1 conv2 conv3 proj"
selected --include "^((conv|proj)[0-9]{0,2}){1,16}$" "conv0 conv1 conv2 conv3 proj"

[ $FAIL -eq 0 ] && echo "regex_bounds: all passed"
exit $FAIL
