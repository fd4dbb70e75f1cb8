#pragma once
// Type-level shape edits used by ops to name their result types.
#include <utility>

#include "mae/core/shape.hpp"

namespace mae {

namespace detail {
// Extents spelled out through an index pack, not a constexpr-array template argument: nvcc 13 fails to
// substitute class-type template arguments in a function's return type (every op returning with_last<>).
template <class S, std::size_t Axis, std::size_t N, std::size_t... I>
Shape<(I == Axis ? N : S::extents[I])...> replace_extent(std::index_sequence<I...>);
}  // namespace detail

// S with extent Axis replaced by N.
template <class S, std::size_t Axis, std::size_t N>
using with_extent = decltype(detail::replace_extent<S, Axis, N>(std::make_index_sequence<S::rank>{}));

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
