#pragma once
// Hand-written CUDA kernels of the CUDA backend (compiled by nvcc only):
// - row kernels (LayerNorm, softmax): one warp per row, lane-strided loops, butterfly shuffles (every lane
//   gets the same, order-fixed sum);
// - column reductions (bias and LayerNorm parameter gradients): fixed chunks of rows per block, then the
//   chunks in order, so sums are deterministic without atomics;
// - element-wise kernels (GELU, AdamW, token gather/scatter): grid-stride loops over the MAE_HD functors the
//   Thrust backend uses, so both backends share one definition of each formula.
#include <cuda_runtime.h>

#include <cstddef>

#include "mae/backend/cuda/check.hpp"
#include "mae/backend/thrust/math.hpp"

namespace mae::cuda_backend {

inline constexpr unsigned warp = 32;
inline constexpr unsigned rows_per_block = 4;  // warps per block of the row kernels
inline constexpr unsigned elementwise_threads = 256;

template <class T>
__device__ T warp_sum(T v) {
  for (unsigned o = warp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <class T>
__device__ T warp_max(T v) {
  for (unsigned o = warp / 2; o > 0; o /= 2) v = thrust_backend::math::max(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// --- element-wise -------------------------------------------------------------------------------------------

template <class F>
__global__ void elementwise_kernel(F f, std::size_t n) {
  const std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}

template <class F>
void launch_elementwise(const F& f, std::size_t n) {
  if (n == 0) return;
  const std::size_t blocks = (n + elementwise_threads - 1) / elementwise_threads;
  const unsigned grid = static_cast<unsigned>(blocks < (1u << 16) ? blocks : (1u << 16));
  MAE_CUDA_LAUNCH(elementwise_kernel<<<grid, elementwise_threads>>>(f, n));
}

// --- row kernels ---------------------------------------------------------------------------------------------

inline unsigned row_blocks(std::size_t rows) {
  return static_cast<unsigned>((rows + rows_per_block - 1) / rows_per_block);
}

template <class T>
__global__ void layernorm_forward_kernel(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                                         T* __restrict__ y, T* __restrict__ mean, T* __restrict__ rstd,
                                         std::size_t rows, std::size_t cols, T eps) {
  const std::size_t r = std::size_t(blockIdx.x) * rows_per_block + threadIdx.x / warp;
  const unsigned lane = threadIdx.x % warp;
  if (r >= rows) return;
  const T* xr = x + r * cols;
  T s = T(0);
  for (std::size_t c = lane; c < cols; c += warp) s += xr[c];
  const T mu = warp_sum(s) / T(cols);
  T ss = T(0);
  for (std::size_t c = lane; c < cols; c += warp) ss += (xr[c] - mu) * (xr[c] - mu);
  const T rs = T(1) / thrust_backend::math::sqrt(warp_sum(ss) / T(cols) + eps);
  if (lane == 0) {
    mean[r] = mu;
    rstd[r] = rs;
  }
  T* yr = y + r * cols;
  for (std::size_t c = lane; c < cols; c += warp) yr[c] = (xr[c] - mu) * rs * w[c] + b[c];
}

// dx += rstd * (g - mean(g) - x̂ mean(g x̂)), g = dy w
template <class T>
__global__ void layernorm_backward_dx_kernel(const T* __restrict__ x, const T* __restrict__ w,
                                             const T* __restrict__ mean, const T* __restrict__ rstd,
                                             const T* __restrict__ dy, T* __restrict__ dx, std::size_t rows,
                                             std::size_t cols) {
  const std::size_t r = std::size_t(blockIdx.x) * rows_per_block + threadIdx.x / warp;
  const unsigned lane = threadIdx.x % warp;
  if (r >= rows) return;
  const T* xr = x + r * cols;
  const T* dyr = dy + r * cols;
  const T mu = mean[r], rs = rstd[r];
  T sum_g = T(0), sum_gx = T(0);
  for (std::size_t c = lane; c < cols; c += warp) {
    const T g = dyr[c] * w[c];
    sum_g += g;
    sum_gx += g * (xr[c] - mu);
  }
  const T mean_g = warp_sum(sum_g) / T(cols), mean_gx = warp_sum(sum_gx) * rs / T(cols);
  T* dxr = dx + r * cols;
  for (std::size_t c = lane; c < cols; c += warp) dxr[c] += rs * (dyr[c] * w[c] - mean_g - (xr[c] - mu) * rs * mean_gx);
}

template <class T>
__global__ void softmax_forward_kernel(const T* x, T* y, std::size_t rows, std::size_t cols) {
  const std::size_t r = std::size_t(blockIdx.x) * rows_per_block + threadIdx.x / warp;
  const unsigned lane = threadIdx.x % warp;
  if (r >= rows || cols == 0) return;
  const T* xr = x + r * cols;
  T* yr = y + r * cols;
  T m = xr[0];
  for (std::size_t c = lane; c < cols; c += warp) m = thrust_backend::math::max(m, xr[c]);
  m = warp_max(m);
  T s = T(0);
  for (std::size_t c = lane; c < cols; c += warp) {
    const T e = thrust_backend::math::exp(xr[c] - m);
    yr[c] = e;
    s += e;
  }
  const T inv = T(1) / warp_sum(s);
  for (std::size_t c = lane; c < cols; c += warp) yr[c] *= inv;
}

// dx (+)= y (dy - Σ dy y); overwriting may run in place (dx == dy): each lane reads its elements before the
// shuffle reduction and writes them after it.
template <class T, bool Accumulate>
__global__ void softmax_backward_kernel(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols) {
  const std::size_t r = std::size_t(blockIdx.x) * rows_per_block + threadIdx.x / warp;
  const unsigned lane = threadIdx.x % warp;
  if (r >= rows) return;
  const T* yr = y + r * cols;
  const T* dyr = dy + r * cols;
  T* dxr = dx + r * cols;
  T d = T(0);
  for (std::size_t c = lane; c < cols; c += warp) d += dyr[c] * yr[c];
  d = warp_sum(d);
  for (std::size_t c = lane; c < cols; c += warp) {
    if constexpr (Accumulate)
      dxr[c] += yr[c] * (dyr[c] - d);
    else
      dxr[c] = yr[c] * (dyr[c] - d);
  }
}

// --- column reductions ---------------------------------------------------------------------------------------

inline constexpr unsigned column_tile = 32, column_lanes = 8;
inline constexpr std::size_t column_chunk_rows = 128;

// partial[chunk, c] = Σ_{r in chunk} term(r, c): block (32 columns x 8 row lanes), lanes summed in order.
template <class T, class Term>
__global__ void column_partial_kernel(Term term, std::size_t rows, std::size_t cols, T* partial) {
  __shared__ T lanes[column_lanes][column_tile + 1];
  const std::size_t c = std::size_t(blockIdx.x) * column_tile + threadIdx.x;
  const std::size_t r0 = std::size_t(blockIdx.y) * column_chunk_rows;
  const std::size_t r1 = r0 + column_chunk_rows < rows ? r0 + column_chunk_rows : rows;
  T s = T(0);
  if (c < cols)
    for (std::size_t r = r0 + threadIdx.y; r < r1; r += column_lanes) s += term(r, c);
  lanes[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    T total = T(0);
    for (unsigned l = 0; l < column_lanes; ++l) total += lanes[l][threadIdx.x];
    partial[std::size_t(blockIdx.y) * cols + c] = total;
  }
}

// out[c] += Σ_chunk partial[chunk, c], chunks in order.
template <class T>
__global__ void column_finish_kernel(const T* partial, std::size_t chunks, std::size_t cols, T* out) {
  const std::size_t c = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  T total = T(0);
  for (std::size_t k = 0; k < chunks; ++k) total += partial[k * cols + c];
  out[c] += total;
}

// Terms of the column reductions.
template <class T>
struct dy_term {
  const T* dy;
  std::size_t cols;
  __device__ T operator()(std::size_t r, std::size_t c) const { return dy[r * cols + c]; }
};
template <class T>
struct dy_xhat_term {
  const T *dy, *x, *mean, *rstd;
  std::size_t cols;
  __device__ T operator()(std::size_t r, std::size_t c) const {
    return dy[r * cols + c] * ((x[r * cols + c] - mean[r]) * rstd[r]);
  }
};

}  // namespace mae::cuda_backend
