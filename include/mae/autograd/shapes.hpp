#pragma once
// Type-level shape edits used by ops to name their result types (constexpr arrays in, Shape out).
#include <utility>

#include "mae/core/shape.hpp"

namespace mae {

namespace detail {
template <auto Arr, std::size_t... I>
Shape<Arr[I]...> shape_from(std::index_sequence<I...>);
}  // namespace detail

// Shape<...> whose extents are the constexpr array Arr.
template <auto Arr>
using shape_of = decltype(detail::shape_from<Arr>(std::make_index_sequence<Arr.size()>{}));

template <class S, std::size_t Axis, std::size_t N>
inline constexpr auto replaced_extents = [] {
  auto e = S::extents;
  e[Axis] = N;
  return e;
}();

// S with extent Axis replaced by N.
template <class S, std::size_t Axis, std::size_t N>
using with_extent = shape_of<replaced_extents<S, Axis, N>>;

template <class S, std::size_t N>
using with_last = with_extent<S, S::rank - 1, N>;

template <class S>
inline constexpr std::size_t last_extent = S::extents[S::rank - 1];

template <class S, std::size_t N>
dims_t<S> dims_with(dims_t<S> d, std::size_t axis) { d[axis] = N; return d; }

// True when the static extents of Small equal the trailing extents of Big (dyn matches anything).
template <class Big, class Small>
inline constexpr bool is_static_suffix = [] {
  if (Small::rank > Big::rank) return false;
  for (std::size_t i = 0; i < Small::rank; ++i) {
    auto b = Big::extents[Big::rank - Small::rank + i], s = Small::extents[i];
    if (b != dyn && s != dyn && b != s) return false;
  }
  return true;
}();

}  // namespace mae
