#pragma once
// Process-wide CUDA state of the backend: the device count (0 without a usable device), and one cuBLAS handle
// on the legacy default stream with its workspace from the caching allocator.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>

#include "mae/backend/cuda/allocator.hpp"
#include "mae/backend/cuda/check.hpp"

namespace mae::cuda_backend {

// Number of usable CUDA devices; 0 when the driver or device is missing (cudaGetDeviceCount then fails and may
// leave its output unset, DESIGN_NOTES trap 12).
inline int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

class context {
 public:
  static context& instance() {
    static context c;
    return c;
  }
  cublasHandle_t cublas() const noexcept { return handle_; }

  // FP32 GEMMs on TF32 tensor cores (about 8x the FP32 rate on H100, 10-bit mantissas). Off by default: the
  // parity tests hold CUDA to FP32 results.
  void set_tf32(bool on) {
    MAE_CUBLAS_CHECK(cublasSetMathMode(handle_, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  }

  context(const context&) = delete;
  context& operator=(const context&) = delete;

 private:
  static constexpr std::size_t workspace_bytes = std::size_t(32) << 20;  // cuBLAS's recommendation for Hopper

  context() {
    MAE_CUBLAS_CHECK(cublasCreate(&handle_));
    workspace_ = caching_allocator::instance().allocate(workspace_bytes);
    MAE_CUBLAS_CHECK(cublasSetWorkspace(handle_, workspace_, workspace_bytes));
    MAE_CUBLAS_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
  }
  ~context() { (void)cublasDestroy(handle_); }  // at exit, errors cannot be reported

  cublasHandle_t handle_ = nullptr;
  void* workspace_ = nullptr;
};

}  // namespace mae::cuda_backend
