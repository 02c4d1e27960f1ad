#!/usr/bin/env bash
# Allocation fault injection, SQLite-style (run by ctest):
#   bash tests/scripts/alloc_faults.sh BINARY SRCDIR
#
# ONNXTD_FAIL_ALLOC=N makes the Nth allocation of onnxtd's own code fail
# (src/util/td_mem.h; protobuf-c's unpack included, OpenBLAS/LAPACKE and
# libc internals not). For each command over tests/onnx_models/small_cnn.onnx
#   convert (tensors to a sidecar), info --json, compress (JSON and HTML
#   reports, sidecar) under --method tucker2, tr and auto (auto weighs
#   tucker2, rsdtr, cp and svd)
# a first run counts the allocations (M), then runs fail the Nth for N in
# 1..M. Each run must either exit 1 saying "out of memory" with nothing
# written (no output, sidecar, report or temporary file; no description
# printed) or, where the code has a way around the failure, finish with the
# same model as without it; never a crash, a sanitizer report or a leak
# (the ASan build runs with detect_leaks=1).
#
# Coverage, ASan build (small_cnn: the load makes about 360 allocations,
# the save 12 to 40, compress 900 to 2700 in all): every N of convert (the
# whole load and save), of info after the load, and of the last 64 of each
# compress (the save and the reports); 1 N in 13 of the load for compress
# and about 50 N spread over its factoring, where the same few allocations
# repeat per layer and per sweep. About 1000 runs. The normal build takes
# 1 N in 13 of the load, a fifth of the rest (a smoke run: no sanitizer to
# see a leak).
set -u
BIN=$(readlink -f "$1")
SRCDIR="$2"
MODEL="$SRCDIR/tests/onnx_models/small_cnn.onnx"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OPENBLAS_NUM_THREADS=1
ASAN=0
ldd "$BIN" 2>/dev/null | grep -q libasan && ASAN=1
cp "$MODEL" "$T/in.onnx"
mkdir -p "$T/w"

# run NAME N: runs command NAME in the empty folder $T/w with the Nth
# allocation failing (N = 0: none; "max": count only). Exit code in $rc,
# stderr in $T/err.
run() {
  local name=$1 n=$2 o=out.onnx
  rm -rf "$T/w" && mkdir "$T/w"
  local env=()
  [ "$n" != 0 ] && env=(ONNXTD_FAIL_ALLOC="$n")
  [ "$n" = max ] && env=(ONNXTD_FAIL_ALLOC=18446744073709551615)
  case $name in
  convert)
    (cd "$T/w" && env "${env[@]}" "$BIN" convert ../in.onnx -o $o \
       --external-data out.bin --size-threshold 64) >"$T/out" 2>"$T/err" ;;
  info)
    (cd "$T/w" && env "${env[@]}" "$BIN" info ../in.onnx --json) >"$T/w/info.json" 2>"$T/err" ;;
  compress-*)
    (cd "$T/w" && env "${env[@]}" "$BIN" compress ../in.onnx -o $o \
       --method "${name#compress-}" --ratio 0.5 --force --no-measure --threads 1 --quiet \
       --report r.json --report-html r.html --external-data out.bin \
       --size-threshold 64) >"$T/out" 2>"$T/err" ;;
  esac
  rc=$?
}

# The folder after a run, as one line per file with its checksum.
listing() { (cd "$T/w" && find . -type f | sort | xargs -r md5sum); }

# count NAME: the allocations NAME makes.
count() {
  run "$1" max
  sed -n 's/.*fault injection: allocation [0-9]* not reached, \([0-9]*\) counted.*/\1/p' "$T/err"
}

# check NAME N REF: one run with the Nth allocation failing.
check() {
  local name=$1 n=$2 ref=$3 what="$1 N=$2"
  run "$name" "$n"
  runs=$((runs + 1))
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T/err" || [ "$rc" -gt 2 ]; then
    bad "$what: crash or sanitizer report (rc $rc):"
    grep -E -A14 'ERROR|runtime error' "$T/err" | head -30
  elif ! grep -q "fault injection: allocation $n failed" "$T/err"; then
    bad "$what: the allocation was not reached (rc $rc): $(tail -1 "$T/err")"
  elif [ "$rc" -eq 0 ]; then
    # Worked around: the result must be the one without a fault.
    [ "$(listing | grep -v 'r\.html\|r\.json')" = "$ref" ] ||
      bad "$what: exit 0 with a different result"
    recovered=$((recovered + 1))
  else
    failed=$((failed + 1))
    [ "$rc" -eq 1 ] || bad "$what: exit $rc, expected 1"
    grep -q 'out of memory' "$T/err" ||
      bad "$what: the message does not say out of memory: $(grep -v 'fault injection' "$T/err" | head -2)"
    local left
    left=$(cd "$T/w" && find . -mindepth 1 ! -name info.json | sort | tr '\n' ' ')
    [ -z "$left" ] || bad "$what: failed but left $left"
    [ ! -s "$T/w/info.json" ] || bad "$what: failed but printed a description"
  fi
}

# The load is the same for every command: info makes a few allocations
# more than it (the description), convert a dozen (the save).
load=$(count info)
[ -n "$load" ] && [ "$load" -gt 100 ] || { bad "cannot count the load's allocations"; exit 1; }
for name in convert info compress-tucker2 compress-tr compress-auto; do
  run "$name" 0
  if [ "$rc" -ne 0 ]; then
    bad "$name: fails without a fault: $(head -3 "$T/err")"
    continue
  fi
  # Reports carry timings: compare the model and its sidecar only.
  ref=$(listing | grep -v 'r\.html\|r\.json')
  m=$(count "$name")
  [ -n "$m" ] || { bad "$name: the counting run failed: $(tail -2 "$T/err")"; continue; }
  # Coverage: see the top of this file.
  tail=$((m - 64)) lstep=1 mstep=$(( (m - 64 - load) / 50 + 1 )) tstep=1
  case $name in info) lstep=$load ;; compress-*) lstep=13 ;; esac
  if [ "$ASAN" = 0 ]; then  # a smoke run: no sanitizer to see a leak
    lstep=13 mstep=$((mstep * 5)) tstep=5
  fi
  runs=0 failed=0 recovered=0
  for ((n = 1; n <= load && n <= tail; n += lstep)); do check "$name" $n "$ref"; done
  for ((n = load + 1; n <= tail; n += mstep)); do check "$name" $n "$ref"; done
  for ((n = (tail > 0 ? tail + 1 : 1); n <= m; n += tstep)); do check "$name" $n "$ref"; done
  echo "$name: $m allocations, $runs runs: $failed clean failures, $recovered worked around"
done
[ "$fail" -eq 0 ] && echo "alloc faults: all checks passed"
[ "$fail" -eq 0 ]
