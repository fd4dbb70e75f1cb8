#pragma once
// Every CUDA runtime call, cuBLAS call and kernel launch is checked; a failure throws mae::error naming the
// file, the line and the call as written, e.g.
//   ".../cuda/allocator.hpp:61: cudaMalloc(&p, size) failed: cudaErrorMemoryAllocation (out of memory)".
// Kernel launches are asynchronous: a fault inside a kernel surfaces at the next checked call. Define
// MAE_CUDA_SYNC_CHECKS to synchronise after every launch and pin it on the launch itself (debugging).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "mae/core/error.hpp"

namespace mae::cuda_backend {

inline std::string call_site(const char* call, const char* file, int line) {
  return std::string(file) + ":" + std::to_string(line) + ": " + call;
}

inline void check_cuda(cudaError_t e, const char* call, const char* file, int line) {
  if (e != cudaSuccess) [[unlikely]]
    throw error(call_site(call, file, line) + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

inline void check_cublas(cublasStatus_t s, const char* call, const char* file, int line) {
  if (s != CUBLAS_STATUS_SUCCESS) [[unlikely]]
    throw error(call_site(call, file, line) + " failed: " + cublasGetStatusName(s) + " (" + cublasGetStatusString(s) +
                ")");
}

inline void check_launch(const char* launch, const char* file, int line) {
  check_cuda(cudaGetLastError(), launch, file, line);
#ifdef MAE_CUDA_SYNC_CHECKS
  check_cuda(cudaDeviceSynchronize(), launch, file, line);
#endif
}

}  // namespace mae::cuda_backend

#define MAE_CUDA_CHECK(...) ::mae::cuda_backend::check_cuda((__VA_ARGS__), #__VA_ARGS__, __FILE__, __LINE__)
#define MAE_CUBLAS_CHECK(...) ::mae::cuda_backend::check_cublas((__VA_ARGS__), #__VA_ARGS__, __FILE__, __LINE__)
// The whole launch statement as the argument: MAE_CUDA_LAUNCH(kernel<T><<<grid, block>>>(args...));
#define MAE_CUDA_LAUNCH(...)                                                  \
  do {                                                                        \
    __VA_ARGS__;                                                              \
    ::mae::cuda_backend::check_launch(#__VA_ARGS__, __FILE__, __LINE__);      \
  } while (0)
