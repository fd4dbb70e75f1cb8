#pragma once
// Functors of the element-wise, block-copy and broadcast kernels. Each is called with a flat index and writes
// only the outputs of that index, so any Thrust system may run them in any order.
#include <cstddef>
#include <cstdint>

#include "mae/backend/thrust/math.hpp"

namespace mae::thrust_backend {

template <class T>
struct not_finite {
  MAE_HD bool operator()(T x) const { return !math::is_finite(x); }
};

template <class T>
struct to_double {
  MAE_HD double operator()(T x) const { return static_cast<double>(x); }
};

template <class T>
struct square_to_double {
  MAE_HD double operator()(T x) const { return static_cast<double>(x) * static_cast<double>(x); }
};

// dst[k*dst_stride + i] (=|+=) src[k*src_stride + i] for element e = k*len + i.
template <class T, bool Accumulate>
struct block_copy {
  const T* src;
  T* dst;
  std::size_t src_stride, dst_stride, len;
  MAE_HD void operator()(std::size_t e) const {
    const std::size_t k = e / len, i = e % len;
    if constexpr (Accumulate)
      dst[k * dst_stride + i] += src[k * src_stride + i];
    else
      dst[k * dst_stride + i] = src[k * src_stride + i];
  }
};

// y += a * x (a = 1: accumulate)
template <class T>
struct axpy_op {
  T a;
  const T* x;
  T* y;
  MAE_HD void operator()(std::size_t i) const { y[i] += a * x[i]; }
};

template <class T>
struct scale_op {
  T* x;
  T a;
  MAE_HD void operator()(std::size_t i) const { x[i] *= a; }
};

enum class rowvec_op { add, sub, mul, mul_accumulate };

// y[o, i] = x[o, i] (op) row[i] over an (outer, inner) array; y may be x.
template <class T, rowvec_op Op>
struct rowvec {
  const T* x;
  const T* row;
  T* y;
  std::size_t inner;
  MAE_HD void operator()(std::size_t e) const {
    const T r = row[e % inner];
    if constexpr (Op == rowvec_op::add) y[e] = x[e] + r;
    if constexpr (Op == rowvec_op::sub) y[e] = x[e] - r;
    if constexpr (Op == rowvec_op::mul) y[e] = x[e] * r;
    if constexpr (Op == rowvec_op::mul_accumulate) y[e] += x[e] * r;
  }
};

// Rows summed per column in chunks added in a fixed order (as the CPU backend: bounded rounding error on
// long columns, and bits independent of how the columns are spread over threads).
inline constexpr std::size_t column_chunk = 128;

// drow[c] += Σ_o dy[o, c]: one column per index.
template <class T>
struct column_sum {
  const T* dy;
  T* drow;
  std::size_t outer, inner;
  MAE_HD void operator()(std::size_t c) const {
    T total = T(0);
    for (std::size_t o0 = 0; o0 < outer; o0 += column_chunk) {
      const std::size_t o1 = o0 + column_chunk < outer ? o0 + column_chunk : outer;
      T part = T(0);
      for (std::size_t o = o0; o < o1; ++o) part += dy[o * inner + c];
      total += part;
    }
    drow[c] += total;
  }
};

// dst[i] += s[0] * factor, with the scalar read in backend memory.
template <class T>
struct add_scalar_op {
  const T* s;
  T factor;
  T* dst;
  MAE_HD void operator()(std::size_t i) const { dst[i] += s[0] * factor; }
};

// Σ over [begin, end) of the per-chunk terms, for a fixed number of chunks (see fixed_order_sum).
template <class T>
struct chunk_sum {
  const T* terms;
  double* partial;
  std::size_t n, chunks;
  MAE_HD void operator()(std::size_t c) const {
    double s = 0;
    for (std::size_t i = c * n / chunks; i < (c + 1) * n / chunks; ++i) s += static_cast<double>(terms[i]);
    partial[c] = s;
  }
};

// True for an index outside [0, bound).
struct index_out_of_range {
  std::size_t bound;
  MAE_HD bool operator()(std::int32_t i) const { return i < 0 || static_cast<std::size_t>(i) >= bound; }
};

}  // namespace mae::thrust_backend
