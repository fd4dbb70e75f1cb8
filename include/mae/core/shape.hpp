#pragma once
// Shapes: static extents in the type, one marker (`dyn`) for extents known only at run time (the batch).
// All shape arithmetic is constexpr functions over std::array; no recursive metafunctions.
#include <array>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "mae/core/error.hpp"

namespace mae {

inline constexpr std::size_t dyn = std::numeric_limits<std::size_t>::max();

template <std::size_t... E>
struct Shape {
  static constexpr std::size_t rank = sizeof...(E);
  static constexpr std::array<std::size_t, rank> extents{E...};
};

template <class S>
using dims_t = std::array<std::size_t, S::rank>;

template <class S>
inline constexpr bool is_static_shape = [] {
  for (auto e : S::extents) if (e == dyn) return false;
  return true;
}();

// Product of the static extents (a dynamic extent counts as 1).
template <class S>
inline constexpr std::size_t static_size = [] {
  std::size_t n = 1;
  for (auto e : S::extents) n *= (e == dyn ? 1 : e);
  return n;
}();

template <std::size_t R>
constexpr std::size_t product(const std::array<std::size_t, R>& d) {
  std::size_t n = 1;
  for (auto e : d) n *= e;
  return n;
}

// Row-major (C order) strides of a dense tensor.
template <std::size_t R>
constexpr std::array<std::size_t, R> dense_strides(const std::array<std::size_t, R>& d) {
  std::array<std::size_t, R> s{};
  std::size_t acc = 1;
  for (std::size_t i = R; i-- > 0;) { s[i] = acc; acc *= d[i]; }
  return s;
}

template <std::size_t R>
std::string to_string(const std::array<std::size_t, R>& d, char separator = ',') {
  std::string s = "(";
  for (std::size_t i = 0; i < R; ++i) {
    if (i) s += separator;
    s += d[i] == dyn ? std::string("?") : std::to_string(d[i]);
  }
  return s + ")";
}

// The static extents of S with the dynamic ones filled from `runtime` (checked: static ones must agree).
template <class S>
dims_t<S> resolve_dims(const dims_t<S>& runtime, const char* op) {
  for (std::size_t i = 0; i < S::rank; ++i)
    if (S::extents[i] != dyn && S::extents[i] != runtime[i])
      throw error(std::string(op) + ": run-time shape " + to_string(runtime) + " does not fit static shape " +
                  to_string(S::extents));
  return runtime;
}

// Static shape with the dynamic extents as given (for fully static shapes: the extents themselves).
template <class S>
constexpr dims_t<S> static_dims() { return S::extents; }

namespace detail {
template <auto Extents, std::size_t... I>
Shape<Extents[I]...> shape_from_extents_impl(std::index_sequence<I...>);
}  // namespace detail

// The Shape whose extents are the constexpr array `Extents` (how shape arithmetic gets back to a type).
template <auto Extents>
using shape_from_extents =
    decltype(detail::shape_from_extents_impl<Extents>(std::make_index_sequence<Extents.size()>{}));

template <std::size_t R>
constexpr std::size_t count_dyn(const std::array<std::size_t, R>& e) {
  std::size_t n = 0;
  for (auto x : e) n += x == dyn;
  return n;
}

// `e` without axis `axis` (the shape of a reduction along it).
template <std::size_t R>
constexpr std::array<std::size_t, R - 1> drop_axis(const std::array<std::size_t, R>& e, std::size_t axis) {
  std::array<std::size_t, R - 1> out{};
  for (std::size_t i = 0, k = 0; i < R; ++i)
    if (i != axis) out[k++] = e[i];
  return out;
}

// `e` with axis `axis` set to `extent`.
template <std::size_t R>
constexpr std::array<std::size_t, R> set_axis(std::array<std::size_t, R> e, std::size_t axis, std::size_t extent) {
  e[axis] = extent;
  return e;
}

// The first `N` extents of `e` (the batch part of a matrix shape).
template <std::size_t N, std::size_t R>
constexpr std::array<std::size_t, N> leading_extents(const std::array<std::size_t, R>& e) {
  static_assert(N <= R);
  std::array<std::size_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = e[i];
  return out;
}

// True when extents `a` and `b` may describe the same dims: each pair is equal or one of them is dyn.
template <std::size_t R>
constexpr bool extents_compatible(const std::array<std::size_t, R>& a, const std::array<std::size_t, R>& b) {
  for (std::size_t i = 0; i < R; ++i)
    if (a[i] != dyn && b[i] != dyn && a[i] != b[i]) return false;
  return true;
}

}  // namespace mae
