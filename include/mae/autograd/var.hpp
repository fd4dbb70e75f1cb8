#pragma once
// Var: a handle on one value of the computation and its gradient (null when nothing upstream needs it).
// Param: a trainable tensor that owns its value and gradient buffers.
#include <cstdint>

#include "mae/core/tensor.hpp"

namespace mae {

inline constexpr std::uint32_t no_slot = ~std::uint32_t{0};

template <class T, class S, class B = backends::cpu>
struct Var {
  using value_type = T;
  using shape = S;
  using backend = B;

  T* value = nullptr;
  T* grad = nullptr;  // null: no gradient flows here
  dims_t<S> dims{};
  std::uint32_t slot = no_slot;  // which of its tape's gradient buffers grad is (none for parameters)

  std::size_t size() const noexcept { return product(dims); }
  std::size_t dim(std::size_t i) const noexcept { return dims[i]; }
  bool requires_grad() const noexcept { return grad != nullptr; }
  TensorView<T, S, B> view() const { return {value, dims}; }
  TensorView<T, S, B> grad_view() const { return {grad, dims}; }
};

// A constant input (data, fixed tables): no gradient.
template <class T, class S, class B>
Var<T, S, B> constant(TensorView<T, S, B> v) { return {v.data(), nullptr, v.dims()}; }
template <class T, class S, class B>
Var<T, S, B> constant(Tensor<T, S, B>& t) { return {t.data(), nullptr, t.dims()}; }

// Tag for parameters outside AdamW's weight-decay group (biases, norm weights): Param<...> bias{no_decay};
inline constexpr struct no_decay_t {
} no_decay{};

template <class T, class S, class B = backends::cpu>
struct Param {
  static_assert(is_static_shape<S>, "Param: a parameter's shape must be fully static");
  Tensor<T, S, B> value;
  Tensor<T, S, B> grad;
  bool decay = true;  // AdamW weight decay group (off for biases and norm weights)

  Param() = default;
  explicit Param(no_decay_t) : decay(false) {}

  Var<T, S, B> var() noexcept { return {value.data(), grad.data(), value.dims()}; }
  // The same buffer under another static shape of equal size (e.g. a conv kernel seen as a matrix).
  template <class S2>
  Var<T, S2, B> var_as() noexcept {
    static_assert(static_size<S2> == static_size<S> && is_static_shape<S2>,
                  "Param::var_as: the new shape must hold exactly as many elements");
    return {value.data(), grad.data(), S2::extents};
  }
};

}  // namespace mae
