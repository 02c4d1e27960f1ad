#!/bin/bash
# A short fuzz run of every libFuzzer target (FUZZ_RUNS inputs each, about
# 10-20 s under the sanitizers; two targets at once), built with ASan+UBSan in a build folder kept beside the binary so
# later runs rebuild incrementally. Fails on any crash, leak, timeout or
# sanitizer report; skipped (77) when clang or libFuzzer is missing.
# usage: fuzz_short.sh BINARY SRCDIR
set -u
bin=${1:?usage: fuzz_short.sh BINARY SRCDIR}
src=${2:?usage: fuzz_short.sh BINARY SRCDIR}
# A fixed seed and a fixed number of inputs: the suite replays the same
# mutations every run, so it fails on a change of the code, not on the
# luck of the draw nor on the machine's speed (a time limit reaches more
# inputs on a faster or quieter machine: one CI run met a crash at input
# 12230 that the runs before had stopped short of). Open-ended searching
# is bench/fuzz_long.sh's job (FUZZ_SEED=0: a random seed; FUZZ_RUNS=0:
# as many as FUZZ_SECONDS allow). FUZZ_SECONDS caps a target's time.
seed=${FUZZ_SEED:-1}
runs=${FUZZ_RUNS:-8000}
[ "$runs" -gt 0 ] 2>/dev/null || runs=-1
secs=${FUZZ_SECONDS:-180}
command -v clang >/dev/null || { echo "skip: no clang"; exit 77; }
# libFuzzer itself: a one-line program must link with -fsanitize=fuzzer.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
    >"$probe/p.c"
clang -fsanitize=fuzzer,address "$probe/p.c" -o "$probe/p" >/dev/null 2>&1 ||
    { echo "skip: clang cannot link libFuzzer"; exit 77; }
[ -d /usr/share/libonnx-testdata/data ] || { echo "skip: no seed models"; exit 77; }

build=$(dirname "$(readlink -f "$bin")")/fuzz-short-build
targets="fuzz_load fuzz_convert fuzz_compress fuzz_diff"
# Seeds and regressions per target: fuzz_load and fuzz_convert read a
# model (regress/*.onnx), fuzz_compress 4 option bytes and a model
# (regress/compress/), fuzz_diff two models (regress/diff/).
regress() {
  case $1 in
  fuzz_compress) echo "$src/tests/fuzz/regress/compress" ;;
  fuzz_diff) echo "$src/tests/fuzz/regress/diff" ;;
  *) echo "$src/tests/fuzz/regress" ;;
  esac
}
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DONNXTD_FUZZ=ON \
    -DONNXTD_SANITIZE=ON -DONNXTD_TESTS=OFF >"$probe/cmake.log" 2>&1 &&
cmake --build "$build" -j2 --target $targets \
    >>"$probe/cmake.log" 2>&1 || { tail -30 "$probe/cmake.log"; exit 1; }
bash "$src/tests/fuzz/make_seeds.sh" "$probe/seeds" >/dev/null || exit 1

# Inputs that once failed are replayed first, each once.
fail=0
for t in $targets; do
    for r in "$(regress $t)"/*; do
        [ -f "$r" ] || continue
        if ! "$build/fuzz/$t" "$r" >"$probe/replay.log" 2>&1; then
            echo "FAIL $t on $(basename "$r"):"
            grep -E -B4 -A12 'ERROR|runtime error' "$probe/replay.log" | head -40
            fail=1
        fi
    done
done

# Two targets at a time (the machine's cores), each on its own corpus.
run_target() {
    local t=$1 seeds=$probe/seeds
    mkdir -p "$probe/corpus-$t"
    [ "$t" = fuzz_compress ] || [ "$t" = fuzz_diff ] && seeds=$(regress $t)
    "$build/fuzz/$t" -seed="$seed" -runs="$runs" -max_total_time="$secs" \
        -max_len=65536 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$probe/$t-" "$probe/corpus-$t" "$seeds" \
        >"$probe/$t.log" 2>&1
}
report_target() {
    local t=$1 rc=$2 n
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$probe/$t.log")
    if [ "$rc" -ne 0 ] ||
       grep -qE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:' "$probe/$t.log"; then
        echo "FAIL $t (rc $rc, ${n:-?} executions, seed $seed):"
        grep -E -A12 'ERROR|runtime error|abort|disagree|reports|does not' "$probe/$t.log" | head -40
        for a in "$probe/$t-"*; do
            [ -f "$a" ] && { echo "reproducer ($a):"; od -c "$a" | head -20; }
        done
        fail=1
    else
        echo "ok $t: ${n:-?} executions (seed $seed, runs $runs, at most ${secs}s)"
    fi
}
set -- $targets
while [ $# -gt 0 ]; do
    run_target "$1" & p1=$!
    p2=
    [ $# -gt 1 ] && { run_target "$2" & p2=$!; }
    wait $p1; report_target "$1" $?
    [ -n "$p2" ] && { wait $p2; report_target "$2" $?; }
    shift; [ $# -gt 0 ] && shift
done
exit $fail
