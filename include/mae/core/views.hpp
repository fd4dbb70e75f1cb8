#pragma once
// Views of views: reshape, permute and slice. Each returns a TensorView over the same elements (no copy),
// with its static shape computed by constexpr functions. They take views or tensors; a view of a
// temporary tensor would dangle, so rvalue tensors are refused.
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "mae/core/error.hpp"
#include "mae/core/shape.hpp"
#include "mae/core/view.hpp"

namespace mae {

template <class X>
concept viewable = is_tensor_like<std::remove_cvref_t<X>> &&
                   (is_tensor_view<std::remove_cvref_t<X>> || std::is_lvalue_reference_v<X>);

namespace detail {
template <class X>
auto view_of(X&& x) {
  if constexpr (is_tensor_view<std::remove_cvref_t<X>>) return x;
  else return x.view();
}

template <class From, class To>
struct reshape_must_keep_size {
  static_assert(!is_static_shape<From> || !is_static_shape<To> || static_size<From> == static_size<To>,
                "reshape: the static shapes hold different numbers of elements (the template arguments of "
                "mae::detail::reshape_must_keep_size are <from, to>)");
  static constexpr bool value = true;
};
}  // namespace detail

// The same elements under shape S2 with the given dims; the view must be contiguous.
template <class S2, viewable X>
auto reshape(X&& x, const dims_t<S2>& dims) {
  auto v = detail::view_of(std::forward<X>(x));
  using V = decltype(v);
  static_assert(detail::reshape_must_keep_size<typename V::shape, S2>::value);
  MAE_CHECK(product(dims) == v.size(),
            "reshape: " + to_string(v.dims()) + " to " + to_string(dims) + " changes the number of elements");
  MAE_CHECK(v.is_contiguous(), "reshape: the view of " + to_string(v.dims()) + " with strides " +
                                   to_string(v.strides()) + " is not contiguous; eval() it first");
  return TensorView<typename V::value_type, S2, typename V::backend>(v.data(), dims);
}

// The same elements under shape S2; one dyn extent of S2 is inferred (like -1 in numpy), e.g.
// reshape<Shape<dyn, 128>>(x) for x of shape (n, 49, 128).
template <class S2, viewable X>
auto reshape(X&& x) {
  constexpr std::size_t dyn_axes = count_dyn(S2::extents);
  static_assert(dyn_axes <= 1, "reshape<S>(x) infers at most one dyn extent: pass the dims, reshape<S>(x, dims)");
  auto v = detail::view_of(std::forward<X>(x));
  dims_t<S2> dims = S2::extents;
  if constexpr (dyn_axes == 1) {
    const std::size_t known = static_size<S2>;
    MAE_CHECK(known != 0 && v.size() % known == 0,
              "reshape: " + to_string(v.dims()) + " to " + to_string(S2::extents) + " changes the number of elements");
    for (auto& d : dims)
      if (d == dyn) d = v.size() / known;
  }
  return reshape<S2>(v, dims);
}

// Axes reordered: axis i of the result is axis Axes[i] of x (a strided view, e.g. permute<1, 0>(m) is mᵀ).
template <std::size_t... Axes, viewable X>
auto permute(X&& x) {
  auto v = detail::view_of(std::forward<X>(x));
  using V = decltype(v);
  using S = typename V::shape;
  static_assert(sizeof...(Axes) == S::rank && [] {
    std::array<bool, sizeof...(Axes)> seen{};
    for (std::size_t a : {Axes...}) {
      if (a >= sizeof...(Axes) || seen[a]) return false;
      seen[a] = true;
    }
    return true;
  }(), "permute<axes...>: the axes must be a permutation of 0 .. rank-1");
  using S2 = Shape<S::extents[Axes % S::rank]...>;
  return TensorView<typename V::value_type, S2, typename V::backend>(v.data(), {v.dim(Axes % S::rank)...},
                                                                     {v.strides()[Axes % S::rank]...});
}

namespace detail {
template <std::size_t Axis, std::size_t Count, class V>
auto slice_view(const V& v, std::size_t begin, std::size_t count) {
  using S = typename V::shape;
  static_assert(Axis < S::rank, "slice<Axis>: Axis must be less than the rank");
  static_assert(Count == dyn || S::extents[Axis] == dyn || Count <= S::extents[Axis],
                "slice<Axis, Count>: Count exceeds the static extent of that axis");
  MAE_CHECK(begin <= v.dim(Axis) && count <= v.dim(Axis) - begin,
            "slice: [" + std::to_string(begin) + ", " + std::to_string(begin + count) + ") is out of range for axis " +
                std::to_string(Axis) + " of " + to_string(v.dims()));
  using S2 = shape_from_extents<set_axis(S::extents, Axis, Count)>;
  dims_t<S2> dims = v.dims();
  dims[Axis] = count;
  return TensorView<typename V::value_type, S2, typename V::backend>(v.data() + begin * v.strides()[Axis], dims,
                                                                     v.strides());
}
}  // namespace detail

// Elements [begin, begin + count) along Axis; that extent becomes dyn.
template <std::size_t Axis, viewable X>
auto slice(X&& x, std::size_t begin, std::size_t count) {
  return detail::slice_view<Axis, dyn>(detail::view_of(std::forward<X>(x)), begin, count);
}

// Elements [begin, begin + Count) along Axis; that extent becomes the static Count.
template <std::size_t Axis, std::size_t Count, viewable X>
auto slice(X&& x, std::size_t begin) {
  return detail::slice_view<Axis, Count>(detail::view_of(std::forward<X>(x)), begin, Count);
}

}  // namespace mae
