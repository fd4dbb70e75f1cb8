#pragma once
// The one loop behind every element-wise evaluation on a host backend.
//
// Every leaf of an expression is bound to the output's rank with its own strides (0 on broadcast axes).
// Axes that are contiguous in every operand are merged, so a dense `a + b` is one flat loop. The work is
// then cut into items (one row of the last axis, or a chunk of a long row); each item seeks its row once
// and runs the inner loop. When every leaf is unit-stride there, the inner loop works in fixed-size blocks
// through a local buffer: a known trip count and no possible aliasing let g++ vectorise it at -O2.
// Items run on OpenMP threads when the output is large; every element is computed by the same code
// whatever the thread count, so results do not depend on it.
#include <algorithm>
#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace mae::detail {

template <std::size_t R>
using index_t = std::array<std::size_t, R>;

// Scalars and rank-0 tensors are evaluated as rank 1 with one element.
template <std::size_t R>
inline constexpr std::size_t loop_rank = R == 0 ? 1 : R;

// Dims or strides as the loop sees them: a rank-0 array becomes {1}.
template <std::size_t R>
constexpr index_t<loop_rank<R>> loop_extents(const index_t<R>& e) {
  if constexpr (R == 0) return {1};
  else return e;
}

// A strided leaf, seen from an output of rank R.
template <class T, std::size_t R>
struct bound_strided {
  static constexpr std::size_t leaves = 1;
  const T* base;
  index_t<R> stride;
  const T* row = nullptr;

  void seek(const index_t<R>& idx, std::size_t first) {
    std::size_t off = 0;
    for (std::size_t k = first; k < R; ++k) off += idx[k] * stride[k];
    row = base + off;
  }
  T at(std::size_t j) const { return row[j * stride[R - 1]]; }
  T at_unit(std::size_t j) const { return row[j]; }
  bool unit_inner() const { return stride[R - 1] == 1; }
  template <class Fn> void visit_strides(Fn& fn) { fn(stride); }
};

// Binds data with extents `dims` and `strides` (rank r <= R, right-aligned) to an output of rank R:
// missing and size-1 axes get stride 0.
template <std::size_t R, class T, std::size_t r>
bound_strided<std::remove_const_t<T>, R> bind_strided(T* data, const index_t<r>& dims, const index_t<r>& strides) {
  static_assert(r <= R, "an operand has more axes than the expression it is evaluated into");
  bound_strided<std::remove_const_t<T>, R> b{data, {}};
  for (std::size_t k = 0; k < r; ++k) b.stride[R - r + k] = dims[k] == 1 ? 0 : strides[k];
  return b;
}

template <class T>
struct bound_scalar {
  static constexpr std::size_t leaves = 0;
  T value;

  template <std::size_t R> void seek(const index_t<R>&, std::size_t) {}
  T at(std::size_t) const { return value; }
  T at_unit(std::size_t) const { return value; }
  bool unit_inner() const { return true; }
  template <class Fn> void visit_strides(Fn&) {}
};

template <class F, class... Ops>
struct bound_expr {
  static constexpr std::size_t leaves = (Ops::leaves + ... + 0);
  F f;
  std::tuple<Ops...> ops;

  template <std::size_t R> void seek(const index_t<R>& idx, std::size_t first) {
    std::apply([&](auto&... o) { (o.seek(idx, first), ...); }, ops);
  }
  auto at(std::size_t j) const { return std::apply([&](const auto&... o) { return f(o.at(j)...); }, ops); }
  auto at_unit(std::size_t j) const {
    return std::apply([&](const auto&... o) { return f(o.at_unit(j)...); }, ops);
  }
  bool unit_inner() const { return std::apply([](const auto&... o) { return (o.unit_inner() && ...); }, ops); }
  template <class Fn> void visit_strides(Fn& fn) {
    std::apply([&](auto&... o) { (o.visit_strides(fn), ...); }, ops);
  }
};

// Merges adjacent axes that are contiguous in every stride array; merged-away axes get extent 1.
// Returns the first axis that can still be larger than 1.
template <std::size_t R, std::size_t N>
std::size_t coalesce_axes(index_t<R>& dims, const std::array<index_t<R>*, N>& strides) {
  std::size_t cur = R - 1;
  for (std::size_t k = R - 1; k-- > 0;) {
    if (dims[k] == 1) continue;
    bool merge = dims[cur] != 1;
    for (auto* s : strides) merge = merge && (*s)[k] == (*s)[cur] * dims[cur];
    if (merge) {
      dims[cur] *= dims[k];
    } else {
      if (dims[cur] != 1) --cur;
      if (cur == k) continue;
      dims[cur] = dims[k];
      for (auto* s : strides) (*s)[cur] = (*s)[k];
    }
    dims[k] = 1;
  }
  return cur;
}

inline constexpr std::size_t parallel_min_elements = std::size_t(1) << 15;
inline constexpr std::size_t chunk_elements = std::size_t(1) << 13;
inline constexpr std::size_t vector_block = 64;

template <class T, class Bound>
void run_unit_stride(T* d, const Bound& b, std::size_t len) {
  std::size_t j = 0;
  for (; j + vector_block <= len; j += vector_block) {
    T block[vector_block];
    for (std::size_t i = 0; i < vector_block; ++i) block[i] = b.at_unit(j + i);
    for (std::size_t i = 0; i < vector_block; ++i) d[j + i] = block[i];
  }
  for (; j < len; ++j) d[j] = b.at_unit(j);
}

// dst[i...] = bound(i...) over `dims`. The operands must not overlap dst except element for element.
template <class T, std::size_t R, class Bound>
void evaluate(T* dst, index_t<R> dims, index_t<R> dst_stride, Bound bound) {
  static_assert(R >= 1);
  std::size_t n = 1;
  for (auto d : dims) n *= d;
  if (n == 0) return;

  std::array<index_t<R>*, Bound::leaves + 1> strides{};
  std::size_t count = 0;
  strides[count++] = &dst_stride;
  auto collect = [&](index_t<R>& s) { strides[count++] = &s; };
  bound.visit_strides(collect);
  const std::size_t first = coalesce_axes(dims, strides);

  const std::size_t inner = dims[R - 1];
  const std::size_t chunks_per_row = (inner + chunk_elements - 1) / chunk_elements;
  const std::size_t items = n / inner * chunks_per_row;
  const bool unit = dst_stride[R - 1] == 1 && bound.unit_inner();

  auto run = [&](Bound& b, std::size_t begin, std::size_t end) {
    index_t<R> idx{};
    for (std::size_t item = begin; item < end; ++item) {
      std::size_t row = item / chunks_per_row;
      const std::size_t j0 = item % chunks_per_row * chunk_elements;
      const std::size_t len = std::min(chunk_elements, inner - j0);
      idx[R - 1] = j0;
      for (std::size_t k = R - 1; k-- > first;) {
        idx[k] = row % dims[k];
        row /= dims[k];
      }
      b.seek(idx, first);
      T* d = dst;
      for (std::size_t k = first; k < R; ++k) d += idx[k] * dst_stride[k];
      if (unit) {
        run_unit_stride(d, b, len);
      } else {
        const std::size_t ds = dst_stride[R - 1];
        for (std::size_t j = 0; j < len; ++j) d[j * ds] = b.at(j);
      }
    }
  };

  if (n < parallel_min_elements || items == 1) {
    run(bound, 0, items);
    return;
  }
#pragma omp parallel
  {
    Bound local = bound;  // each thread seeks its own row pointers
#ifdef _OPENMP
    const std::size_t threads = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
#else
    const std::size_t threads = 1, t = 0;
#endif
    run(local, items * t / threads, items * (t + 1) / threads);
  }
}

}  // namespace mae::detail
