#pragma once
// TensorView<T, Shape, Backend>: a strided, non-owning view over memory someone else owns (a Tensor, a
// caller's buffer, a slice of either). Copying a view copies the handle, never the elements; writing
// elements goes through fill, copy_from or assign(view, expression).
#include <string>
#include <type_traits>

#include "mae/core/backend.hpp"
#include "mae/core/loop.hpp"
#include "mae/core/shape.hpp"

namespace mae {

template <class T, class S, class B = backends::cpu>
class TensorView {
 public:
  using value_type = T;
  using shape = S;
  using backend = B;
  static constexpr std::size_t rank = S::rank;

  TensorView() = default;
  TensorView(T* data, const dims_t<S>& dims)
      : data_(data), dims_(resolve_dims<S>(dims, "TensorView")), strides_(dense_strides(dims_)) {}
  explicit TensorView(T* data) requires is_static_shape<S> : TensorView(data, S::extents) {}
  TensorView(T* data, const dims_t<S>& dims, const dims_t<S>& strides)
      : data_(data), dims_(resolve_dims<S>(dims, "TensorView")), strides_(strides) {}
  // A writable view converts to a read-only one.
  template <class U>
    requires std::is_same_v<const U, T> && (!std::is_same_v<U, T>)
  TensorView(const TensorView<U, S, B>& o) noexcept : data_(o.data()), dims_(o.dims()), strides_(o.strides()) {}

  T* data() const noexcept { return data_; }
  const dims_t<S>& dims() const noexcept { return dims_; }
  const dims_t<S>& strides() const noexcept { return strides_; }
  std::size_t dim(std::size_t i) const noexcept { return dims_[i]; }
  std::size_t size() const noexcept { return product(dims_); }
  // Dense row-major; the stride of a size-1 axis does not matter.
  bool is_contiguous() const noexcept {
    std::size_t expect = 1;
    for (std::size_t i = rank; i-- > 0;) {
      if (dims_[i] != 1 && strides_[i] != expect) return false;
      expect *= dims_[i];
    }
    return true;
  }

  template <class... I>
    requires(sizeof...(I) == rank && host_backend<B>)
  T& operator()(I... idx) const noexcept {
    std::size_t off = 0, k = 0;
    ((off += static_cast<std::size_t>(idx) * strides_[k++]), ...);
    return data_[off];
  }

  void fill(std::remove_const_t<T> v) const requires(!std::is_const_v<T> && host_backend<B>) {
    detail::evaluate(data_, detail::loop_extents(dims_), detail::loop_extents(strides_),
                     detail::bound_scalar<T>{v});
  }

  // Element-wise copy from a view of the same dims (strides may differ; no broadcasting: see assign).
  template <class U, class S2>
    requires(!std::is_const_v<T> && std::is_same_v<std::remove_const_t<U>, T> && S2::rank == rank &&
             host_backend<B>)
  void copy_from(const TensorView<U, S2, B>& src) const {
    static_assert(extents_compatible(S::extents, S2::extents), "TensorView::copy_from: the static shapes differ");
    MAE_CHECK(src.dims() == dims_,
              "copy_from: shapes " + to_string(dims_) + " and " + to_string(src.dims()) + " differ");
    constexpr std::size_t R = detail::loop_rank<rank>;
    detail::evaluate(data_, detail::loop_extents(dims_), detail::loop_extents(strides_),
                     detail::bind_strided<R>(src.data(), src.dims(), src.strides()));
  }

 private:
  T* data_ = nullptr;
  dims_t<S> dims_{};
  dims_t<S> strides_{};
};

template <class X>
inline constexpr bool is_tensor_view = false;
template <class T, class S, class B>
inline constexpr bool is_tensor_view<TensorView<T, S, B>> = true;

// Types that take part in expressions as leaves: views, and owning tensors through their view().
// Opt-in (each owning tensor specialises it), so that other types with a view() member stay out.
template <class X>
inline constexpr bool is_tensor_like = is_tensor_view<X>;

// A non-owning view over a caller's buffer, e.g. make_view<Shape<dyn, 784>>(pixels, {n, 784}).
template <class S, class B = backends::cpu, class T>
TensorView<T, S, B> make_view(T* data, const dims_t<S>& dims) {
  return {data, dims};
}
template <class S, class B = backends::cpu, class T>
  requires is_static_shape<S>
TensorView<T, S, B> make_view(T* data) {
  return TensorView<T, S, B>(data);
}

}  // namespace mae
