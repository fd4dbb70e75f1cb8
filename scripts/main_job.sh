#!/usr/bin/env bash
# The main job: pretrain the default MAE (preset fmnist-tiny) on Fashion-MNIST for a few minutes, then probe its
# encoder linearly and compare with logistic regression on raw pixels. Extra arguments go to mae_pretrain
# (e.g. --epochs 12). Outputs land in runs/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install_deps.sh

generator=()
[[ -f build-main/CMakeCache.txt ]] || generator=(-G Ninja)
# MAE_NATIVE: the job trains where it is built, so every kernel uses this CPU's widest vectors (the float GEMM
# takes AVX-512 at run time in any build; the rest makes the native build about 1.06x the portable one here,
# docs/performance.md).
cmake -S . -B build-main "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DMAE_NATIVE=ON \
  -DMAE_BUILD_TESTS=OFF -DMAE_BUILD_BENCH=OFF -DMAE_ENABLE_CUDA=OFF
cmake --build build-main --target mae_pretrain mae_probe -j2

./build-main/examples/mae_pretrain --checkpoint runs/mae_fmnist-tiny.safetensors --png runs/reconstructions.png "$@"
echo
./build-main/examples/mae_probe --checkpoint runs/mae_fmnist-tiny.safetensors --pool both --layers 4
./build-main/examples/mae_probe --raw-pixels
echo
echo "reconstruction figure: $(pwd)/runs/reconstructions.png"
