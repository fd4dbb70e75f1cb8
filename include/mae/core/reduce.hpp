#pragma once
// Reductions: sum, mean and max along one axis (a tensor with that axis removed, its static shape computed
// by drop_axis), or over all elements (a number). float sums accumulate in double. Each output element is
// reduced in a fixed order that does not depend on the thread count, so results are reproducible.
#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "mae/core/error.hpp"
#include "mae/core/expr.hpp"
#include "mae/core/parallel.hpp"
#include "mae/core/tensor.hpp"

namespace mae {

namespace detail {

struct sum_reducer {
  template <class T> using acc_t = std::conditional_t<std::is_same_v<T, float>, double, T>;
  template <class A> static constexpr A identity() { return A(0); }
  template <class A> static A merge(A a, A b) { return a + b; }
};

struct max_reducer {
  template <class T> using acc_t = T;
  template <class A> static constexpr A identity() {
    if constexpr (std::numeric_limits<A>::has_infinity) return -std::numeric_limits<A>::infinity();
    else return std::numeric_limits<A>::lowest();
  }
  template <class A> static A merge(A a, A b) { return op::maximum{}(a, b); }
};

inline constexpr std::size_t reduce_parallel_min = std::size_t(1) << 16;
inline constexpr std::size_t reduce_tile = 256;  // output elements per work item along the inner axes

// Reduces n contiguous elements with 8 independent accumulators (vectorisable; a shorter sum chain).
template <class Red, class T>
typename Red::template acc_t<T> reduce_run(const T* x, std::size_t n) {
  using A = typename Red::template acc_t<T>;
  A a[8];
  for (auto& v : a) v = Red::template identity<A>();
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (std::size_t k = 0; k < 8; ++k) a[k] = Red::merge(a[k], static_cast<A>(x[j + k]));
  for (; j < n; ++j) a[0] = Red::merge(a[0], static_cast<A>(x[j]));
  return Red::merge(Red::merge(Red::merge(a[0], a[1]), Red::merge(a[2], a[3])),
                    Red::merge(Red::merge(a[4], a[5]), Red::merge(a[6], a[7])));
}

// x is contiguous (outer, n, inner); out[o, i] = finish(reduction over r of x[o, r, i]).
template <class Red, class T, class Finish>
void reduce_axis(const T* x, std::size_t outer, std::size_t n, std::size_t inner, T* out, Finish finish) {
  using A = typename Red::template acc_t<T>;
  const std::size_t tiles = (inner + reduce_tile - 1) / reduce_tile;
  const std::size_t items = outer * tiles;
  auto item = [&](std::size_t it) {
    const std::size_t o = it / tiles, i0 = it % tiles * reduce_tile, len = std::min(reduce_tile, inner - i0);
    const T* base = x + o * n * inner + i0;
    T* dst = out + o * inner + i0;
    if (inner == 1) {
      dst[0] = finish(reduce_run<Red>(base, n));
      return;
    }
    A acc[reduce_tile];
    for (std::size_t i = 0; i < len; ++i) acc[i] = Red::template identity<A>();
    for (std::size_t r = 0; r < n; ++r) {
      const T* row = base + r * inner;
      for (std::size_t i = 0; i < len; ++i) acc[i] = Red::merge(acc[i], static_cast<A>(row[i]));
    }
    for (std::size_t i = 0; i < len; ++i) dst[i] = finish(acc[i]);
  };
  const bool parallel = items > 1 && outer * n * inner >= reduce_parallel_min;
  detail::parallel_for(items, parallel, item);
}

// All n contiguous elements: fixed blocks reduced in parallel, then merged in block order.
template <class Red, class T>
typename Red::template acc_t<T> reduce_all(const T* x, std::size_t n) {
  using A = typename Red::template acc_t<T>;
  constexpr std::size_t block = std::size_t(1) << 14;
  const std::size_t blocks = (n + block - 1) / block;
  if (blocks <= 1) return reduce_run<Red>(x, n);
  std::vector<A> partial(blocks);
  detail::parallel_for(blocks, n >= reduce_parallel_min, [&](std::size_t b) {
    partial[b] = reduce_run<Red>(x + b * block, std::min(block, n - b * block));
  });
  A total = Red::template identity<A>();
  for (A p : partial) total = Red::merge(total, p);
  return total;
}

// Reads an expression as contiguous memory: the tensor's own when it already is, else an evaluated copy.
template <class E>
struct contiguous_input {
  std::optional<Tensor<value_of<E>, typename E::shape, typename E::backend>> copy;
  const value_of<E>* data = nullptr;

  explicit contiguous_input(const E& e) {
    if constexpr (is_tensor_like<E>) {
      const auto v = as_operand(e);
      if (v.is_contiguous()) {
        data = v.data();
        return;
      }
    }
    data = copy.emplace(eval(e)).data();
  }
};

template <class Red, std::size_t Axis, class E, class Finish>
auto reduce_along(const char* op, const E& e, Finish finish) {
  using S = typename E::shape;
  static_assert(Axis < S::rank, "reduction along Axis: Axis must be less than the rank");
  using T = value_of<E>;
  using S2 = shape_from_extents<drop_axis(S::extents, Axis)>;
  const auto& d = e.dims();
  Tensor<T, S2, typename E::backend> out(drop_axis(d, Axis));
  const std::size_t n = d[Axis];
  if constexpr (std::is_same_v<Red, max_reducer>)
    MAE_CHECK(n > 0 || out.size() == 0, std::string(op) + ": axis " + std::to_string(Axis) + " of " + to_string(d) +
                                            " is empty");
  std::size_t outer = 1, inner = 1;
  for (std::size_t i = 0; i < Axis; ++i) outer *= d[i];
  for (std::size_t i = Axis + 1; i < S::rank; ++i) inner *= d[i];
  if (out.size() == 0) return out;
  const contiguous_input<E> in(e);
  reduce_axis<Red>(in.data, outer, n, inner, out.data(), [&](auto acc) { return finish(acc, n); });
  return out;
}

}  // namespace detail

// Along one axis, e.g. sum<1>(x) for x of shape (n, 49, 128) has shape (n, 128).
template <std::size_t Axis, expression E>
auto sum(const E& e) {
  return detail::reduce_along<detail::sum_reducer, Axis>("sum", e, [](auto acc, std::size_t) {
    return static_cast<value_of<E>>(acc);
  });
}
template <std::size_t Axis, expression E>
auto mean(const E& e) {
  static_assert(std::is_floating_point_v<value_of<E>>, "mean: needs a floating-point element type");
  return detail::reduce_along<detail::sum_reducer, Axis>("mean", e, [](auto acc, std::size_t n) {
    return static_cast<value_of<E>>(acc / static_cast<decltype(acc)>(n));
  });
}
// NaN-propagating; an empty axis throws.
template <std::size_t Axis, expression E>
auto max(const E& e) {
  return detail::reduce_along<detail::max_reducer, Axis>("max", e, [](auto acc, std::size_t) { return acc; });
}

// Over all elements.
template <expression E>
value_of<E> sum(const E& e) {
  const detail::contiguous_input<E> in(e);
  return static_cast<value_of<E>>(detail::reduce_all<detail::sum_reducer>(in.data, e.size()));
}
template <expression E>
value_of<E> mean(const E& e) {
  static_assert(std::is_floating_point_v<value_of<E>>, "mean: needs a floating-point element type");
  const detail::contiguous_input<E> in(e);
  const auto total = detail::reduce_all<detail::sum_reducer>(in.data, e.size());
  return static_cast<value_of<E>>(total / static_cast<decltype(total)>(e.size()));
}
template <expression E>
value_of<E> max(const E& e) {
  MAE_CHECK(e.size() > 0, "max: " + to_string(e.dims()) + " has no elements");
  const detail::contiguous_input<E> in(e);
  return detail::reduce_all<detail::max_reducer>(in.data, e.size());
}

}  // namespace mae
