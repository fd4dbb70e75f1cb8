#pragma once
// Linear layer in PyTorch's layout: W is (out, in), y = x·Wᵀ + b.
#include <algorithm>
#include <cstddef>

#include "mae/backend/cpu/elementwise.hpp"
#include "mae/backend/cpu/gemm.hpp"

namespace mae::cpu {

// y[rows, out] = x[rows, in] · W[out, in]ᵀ + b[out]; b may be null. The bias is the GEMM's row init: the AVX-512
// kernel adds it in the stores of its first K block, Eigen's path broadcasts it into each tile just before.
template <class T>
void linear_forward(const T* x, const T* W, const T* b, T* y, std::size_t rows, std::size_t in, std::size_t out) {
  detail::gemm_tiled(false, true, rows, out, in, T(1), x, in, W, in, y, out, detail::row_init<T>{b, out});
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
