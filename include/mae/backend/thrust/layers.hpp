#pragma once
// Functors of the layer kernels: LayerNorm, GELU and row softmax, with the CPU backend's semantics
// (mae/backend/cpu/layernorm.hpp, activation.hpp). Row functors own one row; column functors one column.
#include <cstddef>

#include "mae/backend/thrust/elementwise.hpp"
#include "mae/backend/thrust/math.hpp"

namespace mae::thrust_backend {

// y = (x - mean) * rstd * w + b, biased variance, two passes (the centred sum does not cancel).
template <class T>
struct layernorm_forward_row {
  const T *x, *w, *b;
  T *y, *mean, *rstd;
  std::size_t cols;
  T eps;
  MAE_HD void operator()(std::size_t r) const {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T s = T(0);
    for (std::size_t c = 0; c < cols; ++c) s += xr[c];
    const T mu = s / T(cols);
    T ss = T(0);
    for (std::size_t c = 0; c < cols; ++c) ss += (xr[c] - mu) * (xr[c] - mu);
    const T rs = T(1) / math::sqrt(ss / T(cols) + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (std::size_t c = 0; c < cols; ++c) yr[c] = (xr[c] - mu) * rs * w[c] + b[c];
  }
};

// dx += rstd * (g - mean(g) - x̂ * mean(g x̂)), g = dy * w, x̂ = (x - mean) * rstd.
template <class T>
struct layernorm_backward_row {
  const T *x, *w, *mean, *rstd, *dy;
  T* dx;
  std::size_t cols;
  MAE_HD void operator()(std::size_t r) const {
    const T* xr = x + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    const T mu = mean[r], rs = rstd[r];
    T sum_g = T(0), sum_gx = T(0);
    for (std::size_t c = 0; c < cols; ++c) {
      const T g = dyr[c] * w[c];
      sum_g += g;
      sum_gx += g * (xr[c] - mu);
    }
    const T mean_g = sum_g / T(cols), mean_gx = sum_gx * rs / T(cols);
    for (std::size_t c = 0; c < cols; ++c) dxr[c] += rs * (dyr[c] * w[c] - mean_g - (xr[c] - mu) * rs * mean_gx);
  }
};

// dw[c] += Σ_r dy x̂, db[c] += Σ_r dy (either may be null), rows in fixed chunks as column_sum.
template <class T>
struct layernorm_param_column {
  const T *x, *mean, *rstd, *dy;
  T *dw, *db;
  std::size_t rows, cols;
  MAE_HD void operator()(std::size_t c) const {
    T total_w = T(0), total_b = T(0);
    for (std::size_t r0 = 0; r0 < rows; r0 += column_chunk) {
      const std::size_t r1 = r0 + column_chunk < rows ? r0 + column_chunk : rows;
      T part_w = T(0), part_b = T(0);
      for (std::size_t r = r0; r < r1; ++r) {
        const T g = dy[r * cols + c];
        part_w += g * ((x[r * cols + c] - mean[r]) * rstd[r]);
        part_b += g;
      }
      total_w += part_w;
      total_b += part_b;
    }
    if (dw) dw[c] += total_w;
    if (db) db[c] += total_b;
  }
};

// y = x Φ(x)
template <class T>
struct gelu_forward_op {
  const T* x;
  T* y;
  MAE_HD void operator()(std::size_t i) const { y[i] = x[i] * math::normal_cdf(x[i]); }
};

// dx += dy (Φ(x) + x φ(x))
template <class T>
struct gelu_backward_op {
  const T *x, *dy;
  T* dx;
  MAE_HD void operator()(std::size_t i) const {
    dx[i] += dy[i] * (math::normal_cdf(x[i]) + x[i] * math::normal_pdf(x[i]));
  }
};

// y = x Φ(x), and x becomes the slope Φ(x) + x φ(x) (the fused MLP's backward)
template <class T>
struct gelu_value_slope_op {
  T *x, *y;
  MAE_HD void operator()(std::size_t i) const {
    const T cdf = math::normal_cdf(x[i]);
    y[i] = x[i] * cdf;
    x[i] = cdf + x[i] * math::normal_pdf(x[i]);
  }
};

// y = exp(x - max) / Σ exp(x - max) per row (y may be x).
template <class T>
struct softmax_forward_row {
  const T* x;
  T* y;
  std::size_t cols;
  MAE_HD void operator()(std::size_t r) const {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T m = xr[0];
    for (std::size_t c = 1; c < cols; ++c) m = math::max(m, xr[c]);
    T s = T(0);
    for (std::size_t c = 0; c < cols; ++c) {
      yr[c] = math::exp(xr[c] - m);
      s += yr[c];
    }
    const T inv = T(1) / s;
    for (std::size_t c = 0; c < cols; ++c) yr[c] *= inv;
  }
};

// dx (+)= y ∘ (dy - Σ dy·y) per row. Overwriting (Accumulate false) may run in place, dx == dy: the
// attention backward turns dP into dS this way.
template <class T, bool Accumulate>
struct softmax_backward_row {
  const T* y;
  const T* dy;
  T* dx;
  std::size_t cols;
  MAE_HD void operator()(std::size_t r) const {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    T d = T(0);
    for (std::size_t c = 0; c < cols; ++c) d += dyr[c] * yr[c];
    for (std::size_t c = 0; c < cols; ++c) {
      if constexpr (Accumulate)
        dxr[c] += yr[c] * (dyr[c] - d);
      else
        dxr[c] = yr[c] * (dyr[c] - d);
    }
  }
};

}  // namespace mae::thrust_backend
