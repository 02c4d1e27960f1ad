#!/bin/bash
# Broken models (tests/bad/make_bad.py: malformed bytes, other file types,
# absurd lengths, group wire types, deep nesting, payloads not matching dims,
# NUL in strings, graph faults, NaN/Inf weights, external data escapes and bad
# ranges, FIFOs, the memory bound, hollowed payloads) through convert, info
# and compress:
# each expectation gives the exit code and a message substring; every
# failure message must also name the model's path. For every run: no output
# file (nor temp file) appears unless the command succeeds, and the model's
# folder is byte-identical afterwards. Commands the binary does not have yet
# (COMMAND --help does not exit 0) are reported and not counted.
# usage: bad_inputs_cmds.sh BINARY SRCDIR
set -u
bin=${1:?usage: bad_inputs_cmds.sh BINARY SRCDIR}
src=${2:?usage: bad_inputs_cmds.sh BINARY SRCDIR}
py=/usr/bin/python3
"$py" -c 'import onnx, numpy' 2>/dev/null || { echo "skip: no python3-onnx"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" "$src/tests/bad/make_bad.py" "$work/in" || { echo "FAIL: make_bad.py"; exit 1; }

declare -A have
for c in convert info compress; do
    if "$bin" "$c" --help >/dev/null 2>&1; then
        have[$c]=1
    else
        have[$c]=0
        echo "note: '$c' is not available yet; its expectations are not checked"
    fi
done

# Content fingerprint of a folder: names, link targets and file bytes.
fingerprint() {
    (cd "$1" && find . -mindepth 1 -maxdepth 1 | sort | while IFS= read -r f; do
        if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"
        elif [ -p "$f" ]; then echo "$f fifo"
        elif [ -f "$f" ]; then sha256sum "$f"
        else echo "$f $(stat -c %F "$f")"; fi
    done)
}

pass=0 fail=0 skipped=0 n=0
while IFS=$'\t' read -r case rel cmd code substr extra; do
    [ "$substr" = - ] && substr=""
    [ "$extra" = - ] && extra=""
    if [ "${have[$cmd]}" != 1 ]; then
        skipped=$((skipped + 1))
        continue
    fi
    n=$((n + 1))
    model="$work/in/$rel"
    dir=$(dirname "$model")
    before=$(fingerprint "$dir")
    out="$work/out/$n"
    mkdir -p "$out"
    args=()
    case $cmd in
    convert|compress) args=("$model" -o "$out/result.onnx") ;;
    info) args=("$model") ;;
    esac
    # shellcheck disable=SC2206  # extra holds plain option words
    [ -n "$extra" ] && args+=($extra)
    [ "$cmd" = compress ] && args+=(--quiet)
    timeout 10 "$bin" "$cmd" "${args[@]}" >"$work/stdout" 2>"$work/stderr"
    rc=$?
    why=""
    if [ "$rc" -ne "$code" ]; then
        why="exit $rc, expected $code"
    elif [ "$code" -ne 0 ] && ! grep -qF -- "$model" "$work/stderr"; then
        why="message does not name the file"
    elif [ -n "$substr" ] && ! grep -qF -- "$substr" "$work/stderr"; then
        why="message lacks '$substr'"
    elif [ "$code" -ne 0 ] && [ -n "$(ls -A "$out")" ]; then
        why="files written on failure: $(ls -A "$out" | tr '\n' ' ')"
    elif [ "$code" -eq 0 ] && [ "$cmd" != info ] &&
         ! "$bin" convert "$out/result.onnx" -o "$out/again.onnx" 2>>"$work/stderr"; then
        why="its output does not load again"
    elif [ "$before" != "$(fingerprint "$dir")" ]; then
        why="the model's folder changed"
    fi
    if [ -z "$why" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $case ($cmd $extra): $why"
        sed 's/^/    /' "$work/stderr" | head -5
    fi
    rm -rf "$out"
done <"$work/in/cases.tsv"
echo "bad inputs: $pass passed, $fail failed, $skipped not checked (command missing)"
[ "$fail" -eq 0 ]
