#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang++-14 (-fsanitize=fuzzer,address,undefined)
# and runs each for a fixed time from its seed corpus. Exits non-zero on any crash, sanitizer report,
# leak, timeout or out-of-memory; the reproducer is left in build-fuzz/artifacts/<harness>/.
#
#   scripts/fuzz.sh                      every harness, 20 s each (what CI runs)
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

seconds=${1:-20}
shift || true
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
  rc=0
  # The first corpus directory receives new inputs; the committed seeds are only read.
  "$out/fuzz_$h" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
    -print_final_stats=1 -dict=tests/fuzz/safetensors.dict -artifact_prefix="$out/artifacts/$h/" \
    "$out/corpus/$h" "tests/fuzz/corpus/$h" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(find "$out/corpus/$h" -type f | wc -l)
  summary+=("$(printf '%-12s %10s runs  %6s exec/s  %5s kept inputs  exit %d' "$h" "${runs:-?}" "${secs:-?}" "$units" "$rc")")
  if ((rc != 0)); then
    failed=1
    echo "fuzz.sh: fuzz_$h FAILED (exit $rc); the end of $log:" >&2
    tail -n 60 "$log" >&2
  fi
done

echo "fuzz.sh: ${seconds} s per harness, clang ASan+UBSan, -rss_limit_mb=2048 -malloc_limit_mb=1024"
printf '  %s\n' "${summary[@]}"
exit "$failed"
