#pragma once
// LayerNorm over the last axis, as PyTorch: biased variance, eps inside the square root, mean and
// 1/std saved per row for the backward.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "mae/backend/cpu/vecmath.hpp"
#include "mae/core/parallel.hpp"

namespace mae::cpu {

// y = (x - mean) * rstd * w + b row by row; mean[rows] and rstd[rows] receive the statistics.
template <class T>
void layernorm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, std::size_t rows, std::size_t cols,
                       T eps) {
  mae::detail::parallel_for(rows, rows * cols > detail::parallel_elems, [&](std::size_t r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    // Two passes: the centred sum of squares does not cancel like E[x²] - E[x]² would.
    const T mu = detail::sum(xr, cols) / T(cols);
    const T rs = T(1) / std::sqrt(detail::sum_sq_dev(xr, mu, cols) / T(cols) + eps);
    mean[r] = mu;
    rstd[r] = rs;
#pragma omp simd
    for (std::size_t c = 0; c < cols; ++c) yr[c] = (xr[c] - mu) * rs * w[c] + b[c];
  });
}

// With x̂ = (x - mean) * rstd and g = dy * w:
//   dx += rstd * (g - mean(g) - x̂ * mean(g * x̂)),  dw += Σ_rows dy * x̂,  db += Σ_rows dy.
// dx, dw, db may be null. dw/db are reduced per column block in a fixed order of rows (thread-independent).
template <class T>
void layernorm_backward(const T* x, const T* w, const T* mean, const T* rstd, const T* dy, T* dx, T* dw, T* db,
                        std::size_t rows, std::size_t cols) {
  constexpr std::size_t block = 64, chunk = 128;
  const std::size_t blocks = (cols + block - 1) / block;
  const auto dx_row = [&](std::size_t r) {
    const T* xr = x + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    const T mu = mean[r], rs = rstd[r];
    T sum_g[detail::lanes] = {}, sum_gx[detail::lanes] = {};
    std::size_t c = 0;
    for (; c + detail::lanes <= cols; c += detail::lanes)
      for (std::size_t j = 0; j < detail::lanes; ++j) {
        const T g = dyr[c + j] * w[c + j];
        sum_g[j] += g;
        sum_gx[j] += g * (xr[c + j] - mu);
      }
    for (std::size_t j = 0; c + j < cols; ++j) {
      const T g = dyr[c + j] * w[c + j];
      sum_g[j] += g;
      sum_gx[j] += g * (xr[c + j] - mu);
    }
    const T mean_g = detail::combine(sum_g) / T(cols);
    const T mean_gx = detail::combine(sum_gx) * rs / T(cols);
#pragma omp simd
    for (std::size_t k = 0; k < cols; ++k) dxr[k] += rs * (dyr[k] * w[k] - mean_g - (xr[k] - mu) * rs * mean_gx);
  };
  const auto param_block = [&](std::size_t blk) {
    const std::size_t c0 = blk * block, nc = std::min(block, cols - c0);
    T total_w[block] = {}, total_b[block] = {};
    for (std::size_t r0 = 0; r0 < rows; r0 += chunk) {
      T part_w[block] = {}, part_b[block] = {};
      for (std::size_t r = r0; r < std::min(rows, r0 + chunk); ++r) {
        const T* xr = x + r * cols + c0;
        const T* dyr = dy + r * cols + c0;
        const T mu = mean[r], rs = rstd[r];
#pragma omp simd
        for (std::size_t j = 0; j < nc; ++j) {
          part_w[j] += dyr[j] * ((xr[j] - mu) * rs);
          part_b[j] += dyr[j];
        }
      }
#pragma omp simd
      for (std::size_t j = 0; j < nc; ++j) {
        total_w[j] += part_w[j];
        total_b[j] += part_b[j];
      }
    }
    for (std::size_t j = 0; j < nc; ++j) {
      if (dw) dw[c0 + j] += total_w[j];
      if (db) db[c0 + j] += total_b[j];
    }
  };
  const bool params = dw || db;
  if (rows * cols <= detail::parallel_elems) {  // serial: never enter OpenMP (mae/core/parallel.hpp)
    if (dx)
      for (std::size_t r = 0; r < rows; ++r) dx_row(r);
    if (params)
      for (std::size_t blk = 0; blk < blocks; ++blk) param_block(blk);
    return;
  }
  // One region for both loops: the rows of dx and the column blocks of dw/db share the threads.
#pragma omp parallel
  {
    if (dx) {
#pragma omp for nowait
      for (std::size_t r = 0; r < rows; ++r) dx_row(r);
    }
    if (params) {
#pragma omp for
      for (std::size_t blk = 0; blk < blocks; ++blk) param_block(blk);
    }
  }
}

}  // namespace mae::cpu
