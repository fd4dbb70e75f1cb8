#pragma once
// Tensor<T, Shape, Backend>: a dense row-major tensor that owns aligned heap storage on its backend (the
// default storage: model-sized buffers never live on the stack). TensorView (mae/core/view.hpp) is the same
// shape type over memory someone else owns; InlineTensor (mae/core/inline_tensor.hpp) is opt-in inline
// storage for small fixed tensors.
#include <cstring>
#include <utility>

#include "mae/core/backend.hpp"
#include "mae/core/expr.hpp"
#include "mae/core/shape.hpp"
#include "mae/core/view.hpp"

namespace mae {

template <class T, class S, class B = backends::cpu>
class Tensor {
 public:
  using value_type = T;
  using shape = S;
  using backend = B;
  static constexpr std::size_t rank = S::rank;

  Tensor() requires is_static_shape<S> : Tensor(S::extents) {}
  explicit Tensor(const dims_t<S>& dims)
      : dims_(resolve_dims<S>(dims, "Tensor")),
        data_(static_cast<T*>(backend_traits<B>::allocate(product(dims_) * sizeof(T)))) {}
  Tensor(Tensor&& o) noexcept : dims_(o.dims_), data_(std::exchange(o.data_, nullptr)) {}
  Tensor& operator=(Tensor&& o) noexcept {
    if (this != &o) { release(); dims_ = o.dims_; data_ = std::exchange(o.data_, nullptr); }
    return *this;
  }
  Tensor(const Tensor&) = delete;  // copies of model-sized buffers are always explicit: copy_from()
  Tensor& operator=(const Tensor&) = delete;
  ~Tensor() { release(); }

  // Evaluates an expression (or a number) into the existing elements: see assign().
  template <class E>
    requires operand<E> && (!std::is_same_v<E, Tensor>)
  Tensor& operator=(const E& e) {
    assign(*this, e);
    return *this;
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  const dims_t<S>& dims() const noexcept { return dims_; }
  std::size_t dim(std::size_t i) const noexcept { return dims_[i]; }
  std::size_t size() const noexcept { return product(dims_); }

  TensorView<T, S, B> view() noexcept { return {data_, dims_}; }
  TensorView<const T, S, B> view() const noexcept { return {data_, dims_}; }

  template <class... I>
    requires(sizeof...(I) == rank && host_backend<B>)
  T& operator()(I... idx) noexcept { return data_[offset(idx...)]; }
  template <class... I>
    requires(sizeof...(I) == rank && host_backend<B>)
  const T& operator()(I... idx) const noexcept { return data_[offset(idx...)]; }

  void fill(T v) requires host_backend<B> {
    for (std::size_t i = 0, n = size(); i < n; ++i) data_[i] = v;
  }
  void copy_from(const Tensor& o) requires host_backend<B> {
    MAE_CHECK(o.dims_ == dims_, "copy_from: shapes " + to_string(dims_) + " and " + to_string(o.dims_) + " differ");
    if (size()) std::memcpy(data_, o.data_, size() * sizeof(T));
  }

 private:
  template <class... I>
  std::size_t offset(I... idx) const noexcept {
    std::size_t off = 0, k = 0;
    ((off = off * dims_[k++] + static_cast<std::size_t>(idx)), ...);
    return off;
  }
  void release() noexcept { backend_traits<B>::deallocate(data_); data_ = nullptr; }
  dims_t<S> dims_{};
  T* data_ = nullptr;
};

template <class T, class S, class B>
inline constexpr bool is_tensor_like<Tensor<T, S, B>> = true;

// A new tensor holding the values of an expression, e.g. `auto c = eval(a + b);`.
template <expression E>
Tensor<value_of<E>, typename E::shape, typename E::backend> eval(const E& e) {
  Tensor<value_of<E>, typename E::shape, typename E::backend> t(e.dims());
  assign(t, e);
  return t;
}

}  // namespace mae
