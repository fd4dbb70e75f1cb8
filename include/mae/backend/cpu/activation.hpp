#pragma once
// GELU (exact erf form) and row softmax.
#include <cstddef>
#include <type_traits>

#include "mae/backend/cpu/vecmath.hpp"
#include "mae/core/parallel.hpp"

namespace mae::cpu {

namespace detail {

// The GELU loops of one thread: y = x Φ(x), and dx += dy (Φ(x) + x φ(x)).
template <class T>
[[gnu::always_inline]] inline void gelu_forward_span(const T* x, T* y, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] * normal_cdf(x[i]);
}
template <class T>
[[gnu::always_inline]] inline void gelu_backward_span(const T* x, const T* dy, T* dx, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) dx[i] += dy[i] * (normal_cdf(x[i]) + x[i] * normal_pdf(x[i]));
}

// y = x Φ(x) again, and x becomes the slope Φ(x) + x φ(x), in one pass (the fused MLP's backward).
template <class T>
[[gnu::always_inline]] inline void gelu_value_slope_span(T* x, T* y, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) {
    const T cdf = normal_cdf(x[i]);
    y[i] = x[i] * cdf;
    x[i] = cdf + x[i] * normal_pdf(x[i]);
  }
}

#if MAE_AVX512_LOOPS
// The same source on 16 lanes: the same operations on each element, so the same bits as the 8-lane loops,
// at half their cost (the cdf is about 30 vector operations per vector).
MAE_AVX512_LOOP inline void gelu_forward_avx512(const float* x, float* y, std::size_t n) {
  gelu_forward_span(x, y, n);
}
MAE_AVX512_LOOP inline void gelu_backward_avx512(const float* x, const float* dy, float* dx, std::size_t n) {
  gelu_backward_span(x, dy, dx, n);
}
MAE_AVX512_LOOP inline void gelu_value_slope_avx512(float* x, float* y, std::size_t n) {
  gelu_value_slope_span(x, y, n);
}
#endif

// One thread's share: the 16-lane loops where the CPU has AVX-512F (float), else the build's own.
template <class T>
void gelu_forward_rows(const T* x, T* y, std::size_t n) {
#if MAE_AVX512_LOOPS
  if constexpr (std::is_same_v<T, float>)
    if (cpu_has_avx512f()) return gelu_forward_avx512(x, y, n);
#endif
  gelu_forward_span(x, y, n);
}
template <class T>
void gelu_backward_rows(const T* x, const T* dy, T* dx, std::size_t n) {
#if MAE_AVX512_LOOPS
  if constexpr (std::is_same_v<T, float>)
    if (cpu_has_avx512f()) return gelu_backward_avx512(x, dy, dx, n);
#endif
  gelu_backward_span(x, dy, dx, n);
}

template <class T>
void gelu_value_slope_rows(T* x, T* y, std::size_t n) {
#if MAE_AVX512_LOOPS
  if constexpr (std::is_same_v<T, float>)
    if (cpu_has_avx512f()) return gelu_value_slope_avx512(x, y, n);
#endif
  gelu_value_slope_span(x, y, n);
}

// body(begin, count) over chunks of 4K elements of an n-element GELU, on the threads from 16K elements.
template <class Body>
void gelu_chunks(std::size_t n, const Body& body) {
  mae::detail::parallel_chunks(n, std::size_t(1) << 12, n > parallel_elems / 4, body);
}

}  // namespace detail

// y = x Φ(x) = ½ x (1 + erf(x/√2))
template <class T>
void gelu_forward(const T* x, T* y, std::size_t n) {
  detail::gelu_chunks(n, [=](std::size_t i, std::size_t len) { detail::gelu_forward_rows(x + i, y + i, len); });
}

// dx += dy * (Φ(x) + x φ(x))
template <class T>
void gelu_backward(const T* x, const T* dy, T* dx, std::size_t n) {
  detail::gelu_chunks(n, [=](std::size_t i, std::size_t len) {
    detail::gelu_backward_rows(x + i, dy + i, dx + i, len);
  });
}

// y = x Φ(x), and x is overwritten with Φ(x) + x φ(x): the fused MLP keeps only GELU's input, recomputes its
// output for fc2's weight gradient and multiplies d(output) by the slope (mul_inplace) to get d(input).
template <class T>
void gelu_value_slope(T* x, T* y, std::size_t n) {
  detail::gelu_chunks(n, [=](std::size_t i, std::size_t len) { detail::gelu_value_slope_rows(x + i, y + i, len); });
}

namespace detail {

// One row: y = exp(x - max) / Σ exp(x - max) (y may be x). Returns Σ exp(x - max); *row_max gets the max.
template <class T>
T softmax_row(const T* x, T* y, std::size_t cols, T* row_max = nullptr) {
  if (cols == 0) return T(0);
  const T m = detail::max(x, cols);
  T acc[lanes] = {};
  std::size_t c = 0;
  for (; c + lanes <= cols; c += lanes)
#pragma omp simd
    for (std::size_t j = 0; j < lanes; ++j) acc[j] += (y[c + j] = detail::exp(x[c + j] - m));
  for (std::size_t j = 0; c + j < cols; ++j) acc[j] += (y[c + j] = detail::exp(x[c + j] - m));
  const T s = combine(acc);
  const T inv = T(1) / s;
#pragma omp simd
  for (std::size_t k = 0; k < cols; ++k) y[k] *= inv;
  if (row_max) *row_max = m;
  return s;
}

// One row: dx += y * (dy - Σ dy·y).
template <class T>
void softmax_backward_row(const T* y, const T* dy, T* dx, std::size_t cols) {
  const T d = detail::dot(dy, y, cols);
#pragma omp simd
  for (std::size_t c = 0; c < cols; ++c) dx[c] += y[c] * (dy[c] - d);
}

}  // namespace detail

// Softmax over the last axis of a (rows, cols) array, max-subtracted (y may be x).
template <class T>
void softmax_forward(const T* x, T* y, std::size_t rows, std::size_t cols) {
  mae::detail::parallel_for(rows, rows * cols > detail::parallel_elems / 4,
                            [=](std::size_t r) { detail::softmax_row(x + r * cols, y + r * cols, cols); });
}

// dx += y ∘ (dy - rowsum(dy ∘ y)) from the saved output y.
template <class T>
void softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols) {
  mae::detail::parallel_for(rows, rows * cols > detail::parallel_elems, [=](std::size_t r) {
    detail::softmax_backward_row(y + r * cols, dy + r * cols, dx + r * cols, cols);
  });
}

}  // namespace mae::cpu
