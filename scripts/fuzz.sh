#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang++-14 (-fsanitize=fuzzer,address,undefined)
# and runs each for a bounded time from its seed corpus. Exits non-zero on any crash, sanitizer report,
# leak, timeout or out-of-memory; the reproducer is left in build-fuzz/artifacts/<harness>/.
#
#   scripts/fuzz.sh                      every harness until 100000 runs or 60 s, whichever comes first
#                                        (what CI runs: the bar of CHECKLISTS.md)
#   scripts/fuzz.sh 20                   every harness for exactly 20 s
#   scripts/fuzz.sh 3600 checkpoint      one harness for an hour (a long run; see docs/reliability.md)
#   scripts/fuzz.sh corpus               regenerate the seed corpus tests/fuzz/corpus (make_corpus.cpp)
#
# Inputs that reach new code are kept in build-fuzz/corpus/<harness>/ and reused by the next run.
# Environment: MAE_FUZZ_DIR (build directory, default build-fuzz), CXX_FUZZ (default clang++-14).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

all_harnesses=(safetensors checkpoint idx png)
out=${MAE_FUZZ_DIR:-build-fuzz}
cxx=${CXX_FUZZ:-clang++-14}
launcher=()
command -v ccache >/dev/null && launcher=(ccache)
includes=(-Iinclude -isystem /usr/include/eigen3 -isystem /usr/include/stb)
mkdir -p "$out"

if [[ ${1:-} == corpus ]]; then
  g++ -std=c++20 -O1 -fopenmp "${includes[@]}" tests/fuzz/make_corpus.cpp -o "$out/make_corpus" -lz
  "$out/make_corpus" tests/fuzz/corpus
  exit 0
fi

if (($#)); then
  [[ $1 =~ ^[0-9]+$ ]] || { echo "fuzz.sh: the first argument is the seconds per harness (or 'corpus')" >&2; exit 2; }
  seconds=$1
  limits=(-max_total_time="$seconds")
  shift
else
  seconds="100000 runs or 60"
  limits=(-runs=100000 -max_total_time=60)
fi
harnesses=("$@")
((${#harnesses[@]})) || harnesses=("${all_harnesses[@]}")

bash scripts/install_deps.sh >/dev/null

flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -fopenmp "${includes[@]}")
for h in "${harnesses[@]}"; do
  [[ -f tests/fuzz/fuzz_$h.cpp ]] || { echo "fuzz.sh: no harness tests/fuzz/fuzz_$h.cpp" >&2; exit 2; }
  echo "fuzz.sh: building fuzz_$h"
  "${launcher[@]}" "$cxx" "${flags[@]}" "tests/fuzz/fuzz_$h.cpp" -o "$out/fuzz_$h" -lz
done

failed=0
summary=()
for h in "${harnesses[@]}"; do
  mkdir -p "$out/corpus/$h" "$out/artifacts/$h"
  log="$out/fuzz_$h.log"
  echo "fuzz.sh: running fuzz_$h for ${seconds} s"
  dict=()
  [[ -f tests/fuzz/$h.dict ]] && dict=(-dict="tests/fuzz/$h.dict")
  rc=0
  # The first corpus directory receives new inputs; the committed seeds are only read.
  "$out/fuzz_$h" "${limits[@]}" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
    -print_final_stats=1 "${dict[@]}" -artifact_prefix="$out/artifacts/$h/" \
    "$out/corpus/$h" "tests/fuzz/corpus/$h" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(find "$out/corpus/$h" -type f | wc -l)
  time=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  summary+=("$(printf '%-12s %9s runs in %3s s  %6s exec/s  %5s inputs kept  exit %d' \
    "$h" "${runs:-?}" "${time:-?}" "${secs:-?}" "$units" "$rc")")
  if ((rc != 0)); then
    failed=1
    echo "fuzz.sh: fuzz_$h FAILED (exit $rc); the end of $log:" >&2
    tail -n 60 "$log" >&2
  fi
done

echo "fuzz.sh: ${seconds} s per harness, clang ASan+UBSan, -rss_limit_mb=2048 -malloc_limit_mb=1024"
printf '  %s\n' "${summary[@]}"
exit "$failed"
