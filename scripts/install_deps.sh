#!/usr/bin/env bash
# Installs every Debian 12 package that mae's build, tests, examples and benchmarks need.
# Idempotent: does nothing (not even `apt-get update`) when all packages are already installed.
# Run as root, or as a user with sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache          # toolchain
  libeigen3-dev                                     # CPU backend (GEMM)
  libomp-dev clang                                  # OpenMP for clang; clang for fuzzing/sanitizers
  libthrust-dev libcub-dev                          # Thrust backend
  librandom123-dev                                  # counter-based RNG reference
  doctest-dev libbenchmark-dev                      # tests, benchmarks
  nlohmann-json3-dev zlib1g-dev libstb-dev          # safetensors header, IDX gzip, PNG
  libcli11-dev                                      # example command lines
  dataset-fashion-mnist                             # training data
  python3-torch                                     # numerical reference for tests
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install_deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "install_deps: run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi

echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
