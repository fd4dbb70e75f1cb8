#pragma once
// The System of thrust_backend::kernels for Thrust's host systems (CPP, OMP): memory is ordinary aligned host
// memory and GEMMs go to the CPU backend's Eigen GEMM (mae/backend/cpu/gemm.hpp).
#include <thrust/system/cpp/execution_policy.h>
#include <thrust/system/omp/execution_policy.h>

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "mae/backend/cpu/gemm.hpp"
#include "mae/core/backend.hpp"

namespace mae::thrust_backend {

template <class Tag>
inline constexpr bool is_host_system =
    std::is_same_v<Tag, ::thrust::system::cpp::tag> || std::is_same_v<Tag, ::thrust::system::omp::tag>;

template <class Tag>
struct host_system {
  static_assert(is_host_system<Tag>,
                "thrust_backend::host_system: Tag must be thrust::system::cpp::tag or thrust::system::omp::tag "
                "(for CUDA use backends::cuda from mae/backend/cuda.hpp)");

  static Tag exec() { return Tag{}; }
  static void* allocate(std::size_t bytes) { return backend_traits<backends::cpu>::allocate(bytes); }
  static void deallocate(void* p) noexcept { backend_traits<backends::cpu>::deallocate(p); }
  static void to_host(void* dst, const void* src, std::size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  static void from_host(void* dst, const void* src, std::size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
  }

  // Row-major C = alpha op(A) op(B) + beta C (arguments as mae::cpu::gemm).
  template <class T>
  static void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                   std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
    cpu::gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  template <class T>
  static void gemm_strided_batched(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                                   std::size_t lda, std::size_t stride_a, const T* B, std::size_t ldb,
                                   std::size_t stride_b, T beta, T* C, std::size_t ldc, std::size_t stride_c,
                                   std::size_t batch) {
    cpu::gemm_batched(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, batch, stride_a, stride_b, stride_c);
  }
};

}  // namespace mae::thrust_backend
