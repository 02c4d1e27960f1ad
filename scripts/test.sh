#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test
# with ctest, then builds again with AddressSanitizer + UBSan and runs the
# same suite (less the fuzz run, which builds its own sanitized targets).
# Ends with "N passed, N failed" over both runs, followed by ", N skipped"
# when tests were skipped. Every dependency can be installed on the
# machines this runs on, so a skip is a failure: it is counted among the
# failed (the last number says how many of them were skips), listed by
# name, and the script exits non-zero on any failure or skip.
set -u
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; exit 1; }
jobs=$(nproc)
total_pass=0 total_fail=0 total_skip=0
run_suite() {  # run_suite BUILDDIR CMAKEFLAGS CTESTARGS
  local dir=$1 flags=$2 extra=$3 log
  if ! cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo $flags >"$dir.cmake.log" 2>&1 ||
     ! cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1; then
    tail -30 "$dir.cmake.log" "$dir.build.log" 2>/dev/null
    echo "build in $dir failed"
    total_fail=$((total_fail + 1))
    return
  fi
  log="$dir.ctest.log"
  (cd "$dir" && ctest --output-on-failure -j"$jobs" $extra) 2>&1 | tee "$log"
  # ctest: "NN% tests passed, F tests failed out of T"
  local line t f s
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then
    total_fail=$((total_fail + 1))
    return
  fi
  t=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed.*/\1/')
  # ctest counts a skipped test (exit 77) as passed and lists it under
  # "The following tests did not run:" as "  N - NAME (Skipped)".
  s=$(grep -cE '^[[:space:]]+[0-9]+ - .+ \(Skipped\)$' "$log")
  if [ "$s" -gt 0 ]; then
    echo "skipped in $dir (counted as failed):"
    grep -E '^[[:space:]]+[0-9]+ - .+ \(Skipped\)$' "$log"
  fi
  total_pass=$((total_pass + t - f - s))
  total_fail=$((total_fail + f + s))
  total_skip=$((total_skip + s))
}
mkdir -p build build-asan
run_suite build "-DONNXTD_DEV=ON" ""
# LeakSanitizer stays on; OpenBLAS keeps its thread pool for the process's
# life, which is not a leak of ours.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run_suite build-asan "-DONNXTD_DEV=ON -DONNXTD_SANITIZE=ON" "-E fuzz_short"
if [ "$total_skip" -gt 0 ]; then
  echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
  echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
