#!/usr/bin/env bash
# Installs the dependencies, builds everything in build/ (Release; CUDA targets too where nvcc is
# found) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install_deps.sh

generator=()
[[ -f build/CMakeCache.txt ]] || generator=(-G Ninja)  # an existing build dir keeps its generator
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2
