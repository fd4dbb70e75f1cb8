#!/usr/bin/env bash
# The GPU check, on a machine with an NVIDIA GPU (H100/H200), in at most ~8 minutes:
#   1. builds the CUDA parity tests (tests/cuda/test_*.cu) and the training-step benchmark (bench/gpu) with nvcc,
#      four translation units in parallel;
#   2. runs the parity tests: CPU vs CUDA loss and every gradient within 1e-4 relative (FP32), masks bitwise;
#   3. benchmarks one mae_vit_base_patch16 training step at batch 64 (FP32, then TF32 GEMMs) and the PyTorch
#      anchor on the same GPU: eager, torch.compile, each in FP32 (the anchor enables TF32 matmuls) and bf16 AMP;
#   4. prints the table (img/s, model TFLOP/s, % of the GPU's dense peak for the precision used).
#
# Usage: tests/gpu/run.sh [path/to/torch_mae_anchor.py]
#        tests/gpu/run.sh --pack-deps   (on a dev machine: copies the header-only dependencies and the anchor script
#                                        into .gpu-deps/, which a device call carries: the GPU image has nvcc, cuBLAS,
#                                        CMake and PyTorch but not Debian's Eigen/doctest, and ../shared does not travel)
# Environment: MAE_GPU_BUILD (build dir, default build-gpu), MAE_GPU_ARCH (default 90), MAE_GPU_JOBS (parallel
#              compiles, default nproc), BATCH (64), STEPS (20), TORCH_TIMEOUT (seconds per PyTorch run, default 120).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
deps="$root/.gpu-deps"

if [[ "${1:-}" == "--pack-deps" ]]; then
  mkdir -p "$deps/include"
  cp -r /usr/include/eigen3/Eigen "$deps/include/"
  cp -r /usr/include/doctest "$deps/include/"
  cp "$root/../shared/reference/torch_mae_anchor.py" "$deps/"
  grep -qx '/.gpu-deps/' "$root/.git/info/exclude" 2>/dev/null || echo '/.gpu-deps/' >> "$root/.git/info/exclude"
  echo "packed into $deps ($(du -sh "$deps" | cut -f1)); carry .gpu-deps in the device call"
  exit 0
fi

export PYTHONUNBUFFERED=1
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start )) s"; }

anchor="${1:-}"
for candidate in "$anchor" "$root/../shared/reference/torch_mae_anchor.py" "$deps/torch_mae_anchor.py"; do
  [[ -n "$candidate" && -f "$candidate" ]] && { anchor="$candidate"; break; }
done

nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
includes=(-I"$root/include")
for dir in /usr/include/eigen3 "$deps/include"; do [[ -d "$dir/Eigen" ]] && { includes+=(-I"$dir"); break; }; done
# doctest: the default include path (Debian's doctest-dev), else the packed copy.
[[ -f /usr/include/doctest/doctest.h ]] || includes+=(-I"$deps/include")
arch=${MAE_GPU_ARCH:-90}
build="${MAE_GPU_BUILD:-$root/build-gpu}"
mkdir -p "$build"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
echo "nvcc: $("$nvcc" --version | tail -1)"

# --- 1. build ------------------------------------------------------------------------------------------------
flags=(-std=c++20 -O2 "-gencode=arch=compute_$arch,code=[sm_$arch,compute_$arch]" -Xcompiler=-fopenmp "${includes[@]}")
sources=("$root"/tests/cuda/test_*.cu "$root/bench/gpu/bench_mae_step.cu")
jobs=${MAE_GPU_JOBS:-$(nproc)}
pids=()
failed=0
for src in "${sources[@]}"; do
  name=$(basename "$src" .cu)
  extra=()
  [[ "$name" == test_* ]] && extra=(-DDOCTEST_CONFIG_IMPLEMENT_WITH_MAIN)
  ( "$nvcc" "${flags[@]}" "${extra[@]}" "$src" -o "$build/$name" -lcublas > "$build/$name.log" 2>&1 \
      || { echo "BUILD FAILED: $name"; cat "$build/$name.log"; exit 1; } ) &
  pids+=($!)
  if (( ${#pids[@]} >= jobs )); then wait "${pids[0]}" || failed=1; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
(( failed == 0 )) || exit 1
echo "built ${#sources[@]} targets ($(elapsed))"

# --- 2. parity tests -----------------------------------------------------------------------------------------
status=0
for src in "$root"/tests/cuda/test_*.cu; do
  name=$(basename "$src" .cu)
  echo "=== $name"
  set +e
  "$build/$name"
  rc=$?
  set -e
  [[ $rc -eq 77 ]] && { echo "no CUDA device: this script needs a GPU"; exit 1; }
  [[ $rc -ne 0 ]] && status=1
done
echo "parity tests: $([[ $status -eq 0 ]] && echo passed || echo FAILED) ($(elapsed))"

# --- 3. benchmarks -------------------------------------------------------------------------------------------
batch=${BATCH:-64}
steps=${STEPS:-20}
results="$build/results.jsonl"
: > "$results"
"$build/bench_mae_step" --preset base --batch "$batch" --steps "$steps" | tee -a "$results"
"$build/bench_mae_step" --preset base --batch "$batch" --steps "$steps" --tf32 | tee -a "$results"
echo "mae benchmarks done ($(elapsed))"

python=python3
if [[ -z "$anchor" ]]; then
  echo "torch_mae_anchor.py not found (pass its path, or run --pack-deps first): PyTorch rows skipped"
elif ! "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "no CUDA-enabled PyTorch for $python: PyTorch rows skipped"
else
  for variant in "" "--compile" "--amp bf16" "--amp bf16 --compile"; do
    # shellcheck disable=SC2086  # variant holds separate arguments
    if ! timeout "${TORCH_TIMEOUT:-120}" "$python" "$anchor" mae-vit-base --device cuda --batch "$batch" \
        --steps "$steps" $variant 2> "$build/torch.log" | tail -1 | tee -a "$results"; then
      echo "{\"impl\": \"torch\", \"variant\": \"$variant\", \"error\": \"failed or timed out, see $build/torch.log\"}" \
        | tee -a "$results"
    fi
    echo "torch $variant done ($(elapsed))"
  done
fi

# --- 4. table ------------------------------------------------------------------------------------------------
"$python" - "$results" <<'EOF'
import json, subprocess, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
mae = [r for r in rows if r.get("impl") == "mae-cuda"]
gflop = mae[0]["gflop_per_img"] if mae else None
name = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                      text=True).stdout.strip()
# Dense peaks in TFLOP/s (NVIDIA datasheets): H100 SXM and H200 share the SXM5 compute; H100 PCIe is lower.
peaks = {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4}
if "PCIe" in name or "H100 PCI" in name:
    peaks = {"fp32": 51.2, "tf32": 378.0, "bf16": 756.0}
print(f"\nGPU: {name}; model FLOPs per image (training step): {gflop} GFLOP; batch {mae[0]['batch'] if mae else '?'}")
print(f"{'implementation':34s} {'img/s':>9s} {'ms/step':>9s} {'TFLOP/s':>9s} {'% of peak':>10s}")
def line(label, img_s, ms, precision):
    if img_s is None:
        print(f"{label:34s} {'-':>9s}"); return
    tflops = gflop * img_s / 1e3 if gflop else float('nan')
    print(f"{label:34s} {img_s:9.1f} {ms:9.2f} {tflops:9.1f} {100 * tflops / peaks[precision]:9.1f}% ({precision})")
for r in mae:
    line(f"mae CUDA {r['precision']}", r["img_per_s"], r["step_ms"], r["precision"])
for r in rows:
    if r.get("impl") == "torch":
        print(f"{'PyTorch ' + r['variant']:34s} {r['error']}")
    elif "torch" in r:
        label = f"PyTorch {r['torch']} {'torch.compile' if r['compile'] else 'eager'} {'bf16 AMP' if r['amp'] == 'bf16' else 'fp32/tf32'}"
        line(label, r["img_per_s"], r["step_ms"], "bf16" if r["amp"] == "bf16" else "tf32")
EOF
echo "total $(elapsed)"
exit $status
