#pragma once
// The CUDA backend, backends::cuda: the Thrust backend's kernels (mae/backend/thrust/kernels.hpp) run on the
// GPU through Thrust's CUDA system, with cuBLAS GEMMs (linear layers, attention as strided-batched GEMMs) and
// hand-written kernels where they pay: LayerNorm, softmax, GELU, AdamW, token gather/scatter, bias gradients.
// Memory is device memory from a caching allocator (no cudaMalloc/cudaFree once a step has run). Everything
// runs on the legacy default stream. Compile with nvcc (a .cu translation unit) and link mae::cuda.
//
// Device memory is not host-accessible: build a host model (initialisation, checkpoints), then copy it over:
//   MaskedAutoencoder<Preset> host(seed);
//   MaskedAutoencoder<Preset, float, backends::cuda> gpu(seed);
//   copy_parameters(host, gpu);
// Images and injected masking noise passed to the GPU model must be device pointers (copy_from_host); scalars
// such as the loss are read with kernels<backends::cuda>::read_scalar.
#if !defined(__CUDACC__)
#error "mae/backend/cuda.hpp holds CUDA kernels: include it from a .cu file compiled by nvcc (target mae::cuda)"
#endif

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "mae/backend/cuda/allocator.hpp"
#include "mae/backend/cuda/check.hpp"
#include "mae/backend/cuda/context.hpp"
#include "mae/backend/cuda/kernels.hpp"
#include "mae/backend/cuda/system.hpp"
#include "mae/backend/thrust/kernels.hpp"
#include "mae/backend/thrust/transfer.hpp"
#include "mae/core/backend.hpp"

namespace mae {

namespace backends {
struct cuda {};
}  // namespace backends

template <>
struct backend_traits<backends::cuda> {
  static constexpr bool host_accessible = false;
  static constexpr std::size_t alignment = 256;  // cudaMalloc's; the cache hands out whole cudaMalloc blocks
  static void* allocate(std::size_t bytes) { return cuda_backend::caching_allocator::instance().allocate(bytes); }
  static void deallocate(void* p) noexcept { cuda_backend::caching_allocator::instance().deallocate(p); }
  static void discard(void*, std::size_t) noexcept {}  // device memory stays committed
};

template <>
struct host_transfer<backends::cuda> {
  static void to_host(void* dst, const void* src, std::size_t bytes) { cuda_backend::system::to_host(dst, src, bytes); }
  static void from_host(void* dst, const void* src, std::size_t bytes) {
    cuda_backend::system::from_host(dst, src, bytes);
  }
};

template <>
struct kernels<backends::cuda> : thrust_backend::kernels<cuda_backend::system, kernels<backends::cuda>> {
  using base = thrust_backend::kernels<cuda_backend::system, kernels<backends::cuda>>;
  static constexpr unsigned row_threads = cuda_backend::rows_per_block * cuda_backend::warp;
  static unsigned row_blocks(std::size_t rows) { return cuda_backend::row_blocks(rows); }

  template <class T> static void zero(T* p, std::size_t n) {
    if (n) MAE_CUDA_CHECK(cudaMemsetAsync(p, 0, n * sizeof(T)));
  }
  template <class T> static void copy(const T* src, T* dst, std::size_t n) {
    if (n) MAE_CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(T), cudaMemcpyDeviceToDevice));
  }

  // drow[c] += Σ_o dy[o, c]
  template <class T> static void sum_outer_accumulate(const T* dy, T* drow, std::size_t outer, std::size_t inner) {
    column_reduce(cuda_backend::dy_term<T>{dy, inner}, outer, inner, drow);
  }

  template <class T>
  static void layernorm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, std::size_t rows,
                                std::size_t cols, T eps) {
    if (rows == 0) return;
    MAE_CUDA_LAUNCH(cuda_backend::layernorm_forward_kernel<T><<<row_blocks(rows), row_threads>>>(
        x, w, b, y, mean, rstd, rows, cols, eps));
  }
  template <class T>
  static void layernorm_backward(const T* x, const T* w, const T* mean, const T* rstd, const T* dy, T* dx, T* dw,
                                 T* db, std::size_t rows, std::size_t cols) {
    if (dx && rows)
      MAE_CUDA_LAUNCH(cuda_backend::layernorm_backward_dx_kernel<T><<<row_blocks(rows), row_threads>>>(
          x, w, mean, rstd, dy, dx, rows, cols));
    if (dw) column_reduce(cuda_backend::dy_xhat_term<T>{dy, x, mean, rstd, cols}, rows, cols, dw);
    if (db) column_reduce(cuda_backend::dy_term<T>{dy, cols}, rows, cols, db);
  }

  template <class T> static void gelu_forward(const T* x, T* y, std::size_t n) {
    cuda_backend::launch_elementwise(thrust_backend::gelu_forward_op<T>{x, y}, n);
  }
  template <class T> static void gelu_backward(const T* x, const T* dy, T* dx, std::size_t n) {
    cuda_backend::launch_elementwise(thrust_backend::gelu_backward_op<T>{x, dy, dx}, n);
  }

  template <class T> static void softmax_forward(const T* x, T* y, std::size_t rows, std::size_t cols) {
    if (rows == 0) return;
    MAE_CUDA_LAUNCH(cuda_backend::softmax_forward_kernel<T><<<row_blocks(rows), row_threads>>>(x, y, rows, cols));
  }
  template <class T>
  static void softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols) {
    if (rows == 0) return;
    MAE_CUDA_LAUNCH(cuda_backend::softmax_backward_kernel<T, true><<<row_blocks(rows), row_threads>>>(
        y, dy, dx, rows, cols));
  }
  template <class T>
  static void softmax_backward_overwrite(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols) {
    if (rows == 0) return;
    MAE_CUDA_LAUNCH(cuda_backend::softmax_backward_kernel<T, false><<<row_blocks(rows), row_threads>>>(
        y, dy, dx, rows, cols));
  }

  template <class T>
  static void gather_tokens(const T* x, const std::int32_t* idx, T* y, std::size_t b, std::size_t nin,
                            std::size_t nout, std::size_t d) {
    check_indices("gather_tokens", "index", idx, b * nout, nout, nin);
    cuda_backend::launch_elementwise(thrust_backend::gather_tokens_op<T>{x, idx, y, nin, nout, d}, b * nout * d);
  }
  template <class T>
  static void scatter_add_tokens(const T* dy, const std::int32_t* idx, T* dx, std::size_t b, std::size_t nin,
                                 std::size_t nout, std::size_t d) {
    check_indices("scatter_add_tokens", "index", idx, b * nout, nout, nin);
    cuda_backend::launch_elementwise(thrust_backend::scatter_add_tokens_op<T>{dy, idx, dx, nin, nout, d}, b * d);
  }

  template <class T>
  static void adamw_step(T* param, const T* grad, T* m, T* v, std::size_t n, double lr, double beta1, double beta2,
                         double eps, double wd, long step) {
    const thrust_backend::adamw_factors<T> f(lr, beta1, beta2, eps, wd, step);
    cuda_backend::launch_elementwise(thrust_backend::adamw_op<T>{param, grad, m, v, f}, n);
  }

 private:
  // out[c] += Σ_r term(r, c) over (rows, cols), deterministic (see column_partial_kernel).
  template <class Term, class T>
  static void column_reduce(const Term& term, std::size_t rows, std::size_t cols, T* out) {
    if (rows == 0 || cols == 0) return;
    const std::size_t chunks = (rows + cuda_backend::column_chunk_rows - 1) / cuda_backend::column_chunk_rows;
    thrust_backend::temp_buffer<cuda_backend::system, T> partial(chunks * cols);
    const dim3 grid(static_cast<unsigned>((cols + cuda_backend::column_tile - 1) / cuda_backend::column_tile),
                    static_cast<unsigned>(chunks));
    const dim3 block(cuda_backend::column_tile, cuda_backend::column_lanes);
    MAE_CUDA_LAUNCH(cuda_backend::column_partial_kernel<T, Term><<<grid, block>>>(term, rows, cols, partial.data()));
    const unsigned finish_blocks = static_cast<unsigned>((cols + 255) / 256);
    MAE_CUDA_LAUNCH(cuda_backend::column_finish_kernel<T><<<finish_blocks, 256>>>(partial.data(), chunks, cols, out));
  }
};

}  // namespace mae
