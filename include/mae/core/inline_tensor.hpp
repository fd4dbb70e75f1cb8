#pragma once
// InlineTensor<T, Shape, MaxBytes>: opt-in inline storage (no heap) for small, fully static tensors:
// embedded use, per-thread scratch, constants. The byte budget is checked at compile time so that a big
// tensor can never land on the stack by accident; heap Tensor stays the default for everything else.
#include <cstddef>
#include <type_traits>

#include "mae/core/backend.hpp"
#include "mae/core/expr.hpp"
#include "mae/core/shape.hpp"
#include "mae/core/view.hpp"

namespace mae {

// The numbers are this template's arguments, so the diagnostic shows them: <bytes needed, budget>.
template <std::size_t Bytes, std::size_t Budget>
struct inline_bytes_within_budget {
  static_assert(Bytes <= Budget,
                "InlineTensor: sizeof(T) * size exceeds its MaxBytes budget (4096 bytes unless given; the template "
                "arguments of mae::inline_bytes_within_budget are <bytes needed, budget>): use the heap Tensor, "
                "or raise MaxBytes deliberately");
  static constexpr bool value = true;
};

template <class T, class S, std::size_t MaxBytes = 4096>
class InlineTensor {
  static_assert(is_static_shape<S>, "InlineTensor: the shape must be fully static (no dyn extent)");
  static_assert(inline_bytes_within_budget<sizeof(T) * static_size<S>, MaxBytes>::value);
  static constexpr std::size_t count = static_size<S>;

 public:
  using value_type = T;
  using shape = S;
  using backend = backends::cpu;  // inline storage lives wherever the object lives: host memory
  static constexpr std::size_t rank = S::rank;
  static constexpr std::size_t max_bytes = MaxBytes;

  InlineTensor() = default;  // zero-filled
  // Evaluates an expression (or a number) into the elements: see assign().
  template <class E>
    requires operand<E> && (!std::is_same_v<E, InlineTensor>)
  InlineTensor& operator=(const E& e) {
    assign(*this, e);
    return *this;
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  static constexpr const dims_t<S>& dims() noexcept { return S::extents; }
  static constexpr std::size_t dim(std::size_t i) noexcept { return S::extents[i]; }
  static constexpr std::size_t size() noexcept { return count; }

  TensorView<T, S, backend> view() noexcept { return TensorView<T, S, backend>(data_); }
  TensorView<const T, S, backend> view() const noexcept { return TensorView<const T, S, backend>(data_); }

  template <class... I>
    requires(sizeof...(I) == rank)
  T& operator()(I... idx) noexcept { return data_[offset(idx...)]; }
  template <class... I>
    requires(sizeof...(I) == rank)
  const T& operator()(I... idx) const noexcept { return data_[offset(idx...)]; }

  void fill(T v) noexcept {
    for (auto& x : data_) x = v;
  }
  void copy_from(const InlineTensor& o) noexcept { *this = o; }

 private:
  template <class... I>
  static constexpr std::size_t offset(I... idx) noexcept {
    std::size_t off = 0, k = 0;
    ((off = off * S::extents[k++] + static_cast<std::size_t>(idx)), ...);
    return off;
  }
  alignas(backend_traits<backend>::alignment) T data_[count > 0 ? count : 1]{};
};

template <class T, class S, std::size_t MaxBytes>
inline constexpr bool is_tensor_like<InlineTensor<T, S, MaxBytes>> = true;

}  // namespace mae
