#pragma once
// Linear layer in PyTorch's layout: W is (out, in), y = x·Wᵀ + b.
#include <algorithm>
#include <cstddef>

#include "mae/backend/cpu/elementwise.hpp"
#include "mae/backend/cpu/gemm.hpp"

namespace mae::cpu {

// y[rows, out] = x[rows, in] · W[out, in]ᵀ + b[out]; b may be null. The bias is broadcast into each GEMM
// tile right before the tile accumulates, so y is written once while hot in cache.
template <class T>
void linear_forward(const T* x, const T* W, const T* b, T* y, std::size_t rows, std::size_t in, std::size_t out) {
  detail::gemm_tiled(false, true, rows, out, in, T(1), x, in, W, in, y, out,
                     [&](std::size_t, std::size_t m, std::size_t j0, std::size_t n, T* c) {
                       for (std::size_t i = 0; i < m; ++i) {
                         if (b)
                           std::copy(b + j0, b + j0 + n, c + i * out);
                         else
                           std::fill(c + i * out, c + i * out + n, T(0));
                       }
                     });
}

// Accumulates dx += dy·W, dW += dyᵀ·x, db += Σ_rows dy. dx and db may be null (skipped).
template <class T>
void linear_backward(const T* x, const T* W, const T* dy, T* dx, T* dW, T* db, std::size_t rows, std::size_t in,
                     std::size_t out) {
  if (dx) gemm(false, false, rows, in, out, T(1), dy, out, W, in, T(1), dx, in);
  gemm(true, false, out, in, rows, T(1), dy, out, x, in, T(1), dW, in);
  if (db) sum_outer_accumulate(dy, db, rows, out);
}

}  // namespace mae::cpu
