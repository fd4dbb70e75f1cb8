#pragma once
// Element-wise kernels over contiguous arrays. Every loop writes disjoint outputs; the one reduction
// (sum_outer_accumulate) runs over a fixed partition, so bits never depend on the thread count.
#include <algorithm>
#include <cstddef>

#include "mae/backend/cpu/vecmath.hpp"
#include "mae/core/parallel.hpp"

namespace mae::cpu {

// y = a + b
template <class T>
void add(const T* a, const T* b, T* y, std::size_t n) {
  mae::detail::parallel_for_simd(n, n > detail::parallel_elems, [=](std::size_t i) { y[i] = a[i] + b[i]; });
}

// y = a - b
template <class T>
void sub(const T* a, const T* b, T* y, std::size_t n) {
  mae::detail::parallel_for_simd(n, n > detail::parallel_elems, [=](std::size_t i) { y[i] = a[i] - b[i]; });
}

// y = a * b
template <class T>
void mul(const T* a, const T* b, T* y, std::size_t n) {
  mae::detail::parallel_for_simd(n, n > detail::parallel_elems, [=](std::size_t i) { y[i] = a[i] * b[i]; });
}

// Backward of mul: da += dy * b, db += dy * a (either may be null).
template <class T>
void mul_backward(const T* a, const T* b, const T* dy, T* da, T* db, std::size_t n) {
  if (da) mae::detail::parallel_for_simd(n, n > detail::parallel_elems, [=](std::size_t i) { da[i] += dy[i] * b[i]; });
  if (db) mae::detail::parallel_for_simd(n, n > detail::parallel_elems, [=](std::size_t i) { db[i] += dy[i] * a[i]; });
}

// y = alpha * x (y may be x)
template <class T>
void scale(T alpha, const T* x, T* y, std::size_t n) {
  mae::detail::parallel_for_simd(n, n > detail::parallel_elems, [=](std::size_t i) { y[i] = alpha * x[i]; });
}

// dst += src
template <class T>
void accumulate(T* dst, const T* src, std::size_t n) {
  mae::detail::parallel_for_simd(n, n > detail::parallel_elems, [=](std::size_t i) { dst[i] += src[i]; });
}

// dst *= src
template <class T>
void multiply(T* dst, const T* src, std::size_t n) {
  mae::detail::parallel_for_simd(n, n > detail::parallel_elems, [=](std::size_t i) { dst[i] *= src[i]; });
}

// y += alpha * x
template <class T>
void axpy(T alpha, const T* x, T* y, std::size_t n) {
  mae::detail::parallel_for_simd(n, n > detail::parallel_elems, [=](std::size_t i) { y[i] += alpha * x[i]; });
}

// y[o, i] = x[o, i] + row[i] for an (outer, inner) array (y may be x).
template <class T>
void add_rowvec(const T* x, const T* row, T* y, std::size_t outer, std::size_t inner) {
  mae::detail::parallel_for(outer, outer * inner > detail::parallel_elems, [=](std::size_t o) {
    const T* xo = x + o * inner;
    T* yo = y + o * inner;
#pragma omp simd
    for (std::size_t i = 0; i < inner; ++i) yo[i] = xo[i] + row[i];
  });
}

// drow[i] += Σ_o dy[o, i]. Threads own disjoint column blocks; each column is summed in chunks of rows
// added in a fixed order (the chunked sum also keeps the rounding error of long columns small).
template <class T>
void sum_outer_accumulate(const T* dy, T* drow, std::size_t outer, std::size_t inner) {
  constexpr std::size_t block = 64, chunk = 128;
  const std::size_t blocks = (inner + block - 1) / block;
  mae::detail::parallel_for(blocks, blocks > 1 && outer * inner > detail::parallel_elems, [=](std::size_t blk) {
    const std::size_t j0 = blk * block, nj = std::min(block, inner - j0);
    T total[block] = {};
    for (std::size_t o0 = 0; o0 < outer; o0 += chunk) {
      T part[block] = {};
      for (std::size_t o = o0; o < std::min(outer, o0 + chunk); ++o) {
        const T* row = dy + o * inner + j0;
#pragma omp simd
        for (std::size_t j = 0; j < nj; ++j) part[j] += row[j];
      }
#pragma omp simd
      for (std::size_t j = 0; j < nj; ++j) total[j] += part[j];
    }
#pragma omp simd
    for (std::size_t j = 0; j < nj; ++j) drow[j0 + j] += total[j];
  });
}

}  // namespace mae::cpu
