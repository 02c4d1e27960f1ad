#!/bin/bash
# Long fuzz run of every libFuzzer target (ASan+UBSan), each for SECONDS
# (default 900) or until it has done at least MIN_RUNS executions
# (default 1,000,000), whichever is later. Prints the execution count and the
# result per target; exits 1 on any crash, leak, timeout or sanitizer report
# (reproducers are kept in WORK/artifacts). TARGETS=fuzz_convert runs one.
# usage: bench/fuzz_long.sh [SECONDS] [WORK]
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-900}
work=${2:-${TMPDIR:-/tmp}/onnxtd-fuzz-long}
min_runs=${MIN_RUNS:-1000000}
command -v clang >/dev/null || { echo "clang not found" >&2; exit 77; }
mkdir -p "$work/artifacts"
cmake -S "$src" -B "$work/build" -DCMAKE_C_COMPILER=clang -DONNXTD_FUZZ=ON \
    -DONNXTD_SANITIZE=ON -DONNXTD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >"$work/cmake.log" 2>&1 &&
cmake --build "$work/build" -j2 --target fuzz_load fuzz_convert fuzz_compress fuzz_diff \
    >>"$work/cmake.log" 2>&1 || { tail -30 "$work/cmake.log"; exit 1; }
[ -d "$work/seeds" ] || bash "$src/tests/fuzz/make_seeds.sh" "$work/seeds" >/dev/null ||
    exit 1
status=0
targets=${TARGETS:-fuzz_load fuzz_convert fuzz_compress fuzz_diff}
for t in $targets; do
    mkdir -p "$work/corpus-$t"
    # fuzz_compress and fuzz_diff read option bytes or two models: their
    # seeds are their own (tests/fuzz/regress/compress, .../diff).
    seeds=$work/seeds
    case $t in
    fuzz_compress) seeds=$src/tests/fuzz/regress/compress ;;
    fuzz_diff) seeds=$src/tests/fuzz/regress/diff ;;
    esac
    runs=0
    elapsed=0
    result=ok
    # Rounds of at most SECONDS each, until both bounds are met.
    while [ "$elapsed" -lt "$secs" ] || [ "$runs" -lt "$min_runs" ]; do
        left=$((secs - elapsed))
        [ "$left" -lt 60 ] && left=60
        start=$(date +%s)
        "$work/build/fuzz/$t" -max_total_time="$left" -max_len=65536 \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$work/artifacts/$t-" \
            "$work/corpus-$t" "$seeds" >"$work/$t.log" 2>&1
        rc=$?
        elapsed=$((elapsed + $(date +%s) - start))
        n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
        runs=$((runs + ${n:-0}))
        if [ $rc -ne 0 ] || grep -qE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:' "$work/$t.log"; then
            result="FAILED (rc $rc, see $work/$t.log)"
            grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$work/$t.log" | head -5
            status=1
            break
        fi
    done
    echo "$t: $runs executions in ${elapsed}s: $result"
done
exit $status
