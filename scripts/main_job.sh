#!/usr/bin/env bash
# The main job. Placeholder until the MAE pretraining example exists: builds and runs the tensor demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -f examples/tensor_demo.cpp ]]; then
  echo "main_job: examples/tensor_demo.cpp does not exist yet" >&2
  exit 1
fi

bash scripts/install_deps.sh

generator=()
[[ -f build/CMakeCache.txt ]] || generator=(-G Ninja)  # an existing build dir keeps its generator
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
cmake --build build --target tensor_demo -j2
./build/examples/tensor_demo "$@"
