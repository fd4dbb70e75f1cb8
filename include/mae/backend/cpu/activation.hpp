#pragma once
// GELU (exact erf form) and row softmax.
#include <cstddef>

#include "mae/backend/cpu/vecmath.hpp"
#include "mae/core/parallel.hpp"

namespace mae::cpu {

// y = x Φ(x) = ½ x (1 + erf(x/√2))
template <class T>
void gelu_forward(const T* x, T* y, std::size_t n) {
  mae::detail::parallel_for_simd(n, n > detail::parallel_elems / 4,
                                 [=](std::size_t i) { y[i] = x[i] * detail::normal_cdf(x[i]); });
}

// dx += dy * (Φ(x) + x φ(x))
template <class T>
void gelu_backward(const T* x, const T* dy, T* dx, std::size_t n) {
  mae::detail::parallel_for_simd(n, n > detail::parallel_elems / 4, [=](std::size_t i) {
    dx[i] += dy[i] * (detail::normal_cdf(x[i]) + x[i] * detail::normal_pdf(x[i]));
  });
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
