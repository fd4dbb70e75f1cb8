#pragma once
// The System of thrust_backend::kernels on CUDA: Thrust algorithms run with thrust::cuda::par_nosync on the
// legacy default stream with temporaries from the caching allocator; GEMMs go to cuBLAS.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <thrust/system/cuda/execution_policy.h>

#include <climits>
#include <cstddef>
#include <string>
#include <type_traits>

#include "mae/backend/cuda/allocator.hpp"
#include "mae/backend/cuda/check.hpp"
#include "mae/backend/cuda/context.hpp"

namespace mae::cuda_backend {

inline int checked_int(std::size_t v, const char* what) {
  MAE_CHECK(v <= static_cast<std::size_t>(INT_MAX),
            std::string("cuBLAS GEMM: ") + what + " = " + std::to_string(v) + " exceeds the 32-bit API");
  return static_cast<int>(v);
}

inline cublasOperation_t cublas_op(bool transpose) { return transpose ? CUBLAS_OP_T : CUBLAS_OP_N; }

struct system {
  static auto exec() { return ::thrust::cuda::par_nosync(thrust_allocator::instance()); }
  static void* allocate(std::size_t bytes) { return caching_allocator::instance().allocate(bytes); }
  static void deallocate(void* p) noexcept { caching_allocator::instance().deallocate(p); }
  static void to_host(void* dst, const void* src, std::size_t bytes) {
    if (bytes) MAE_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
  }
  static void from_host(void* dst, const void* src, std::size_t bytes) {
    if (bytes) MAE_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
  }

  // Row-major C = alpha op(A) op(B) + beta C. cuBLAS is column-major: a row-major X is the column-major Xᵀ with
  // the same leading dimension, so it computes Cᵀ = op(B)ᵀ op(A)ᵀ with the operands swapped.
  template <class T>
  static void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                   std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    if (M == 0 || N == 0) return;
    const int m = checked_int(N, "N"), n = checked_int(M, "M"), k = checked_int(K, "K");
    const int la = checked_int(lda, "lda"), lb = checked_int(ldb, "ldb"), lc = checked_int(ldc, "ldc");
    cublasHandle_t h = context::instance().cublas();
    if constexpr (std::is_same_v<T, float>)
      MAE_CUBLAS_CHECK(cublasSgemm(h, cublas_op(tb), cublas_op(ta), m, n, k, &alpha, B, lb, A, la, &beta, C, lc));
    else
      MAE_CUBLAS_CHECK(cublasDgemm(h, cublas_op(tb), cublas_op(ta), m, n, k, &alpha, B, lb, A, la, &beta, C, lc));
  }

  template <class T>
  static void gemm_strided_batched(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                                   std::size_t lda, std::size_t stride_a, const T* B, std::size_t ldb,
                                   std::size_t stride_b, T beta, T* C, std::size_t ldc, std::size_t stride_c,
                                   std::size_t batch) {
    if (M == 0 || N == 0 || batch == 0) return;
    const int m = checked_int(N, "N"), n = checked_int(M, "M"), k = checked_int(K, "K");
    const int la = checked_int(lda, "lda"), lb = checked_int(ldb, "ldb"), lc = checked_int(ldc, "ldc");
    const int count = checked_int(batch, "batch");
    const auto sa = static_cast<long long>(stride_a), sb = static_cast<long long>(stride_b),
               sc = static_cast<long long>(stride_c);
    cublasHandle_t h = context::instance().cublas();
    if constexpr (std::is_same_v<T, float>)
      MAE_CUBLAS_CHECK(cublasSgemmStridedBatched(h, cublas_op(tb), cublas_op(ta), m, n, k, &alpha, B, lb, sb, A, la,
                                                 sa, &beta, C, lc, sc, count));
    else
      MAE_CUBLAS_CHECK(cublasDgemmStridedBatched(h, cublas_op(tb), cublas_op(ta), m, n, k, &alpha, B, lb, sb, A, la,
                                                 sa, &beta, C, lc, sc, count));
  }
};

}  // namespace mae::cuda_backend
