#pragma once
// Tensor<T, Shape, Backend>: a dense row-major tensor that owns aligned storage on its backend.
// TensorView<T, Shape, Backend>: the same shape type over memory someone else owns (strided).
#include <cstring>
#include <utility>

#include "mae/core/backend.hpp"
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

  T* data() const noexcept { return data_; }
  const dims_t<S>& dims() const noexcept { return dims_; }
  const dims_t<S>& strides() const noexcept { return strides_; }
  std::size_t dim(std::size_t i) const noexcept { return dims_[i]; }
  std::size_t size() const noexcept { return product(dims_); }
  bool is_contiguous() const noexcept { return strides_ == dense_strides(dims_); }

  template <class... I>
    requires(sizeof...(I) == rank && host_backend<B>)
  T& operator()(I... idx) const noexcept {
    std::size_t off = 0, k = 0;
    ((off += static_cast<std::size_t>(idx) * strides_[k++]), ...);
    return data_[off];
  }

 private:
  T* data_ = nullptr;
  dims_t<S> dims_{};
  dims_t<S> strides_{};
};

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

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  const dims_t<S>& dims() const noexcept { return dims_; }
  std::size_t dim(std::size_t i) const noexcept { return dims_[i]; }
  std::size_t size() const noexcept { return product(dims_); }

  TensorView<T, S, B> view() noexcept { return {data_, dims_}; }
  TensorView<const T, S, B> view() const noexcept { return {data_, dims_}; }

  template <class... I>
    requires(sizeof...(I) == rank && host_backend<B>)
  T& operator()(I... idx) noexcept { return view()(idx...); }
  template <class... I>
    requires(sizeof...(I) == rank && host_backend<B>)
  const T& operator()(I... idx) const noexcept { return view()(idx...); }

  void fill(T v) requires host_backend<B> {
    for (std::size_t i = 0, n = size(); i < n; ++i) data_[i] = v;
  }
  void copy_from(const Tensor& o) requires host_backend<B> {
    MAE_CHECK(o.dims_ == dims_, "copy_from: shapes " + to_string(dims_) + " and " + to_string(o.dims_) + " differ");
    if (size()) std::memcpy(data_, o.data_, size() * sizeof(T));
  }

 private:
  void release() noexcept { backend_traits<B>::deallocate(data_); data_ = nullptr; }
  dims_t<S> dims_{};
  T* data_ = nullptr;
};

}  // namespace mae
