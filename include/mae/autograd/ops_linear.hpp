#pragma once
// linear: y = x·Wᵀ + b over the last axis, W in PyTorch's (out, in) layout.
#include "mae/autograd/shapes.hpp"
#include "mae/autograd/tape.hpp"

namespace mae {

namespace detail {
// y = x·Wᵀ + b through the backend, W's packing taken from the tape's frozen weights when it has them.
template <class T, class B>
void linear_forward(Tape<B>& tape, const T* x, const T* w, const T* b, T* y, std::size_t rows, std::size_t in,
                    std::size_t out) {
  if (auto* frozen = tape.frozen_weights())
    kernels<B>::linear_forward(x, w, b, y, rows, in, out, *frozen);
  else
    kernels<B>::linear_forward(x, w, b, y, rows, in, out);
}
}  // namespace detail

template <class T, class S, class B, std::size_t Out, std::size_t In>
Var<T, with_last<S, Out>, B> linear(Tape<B>& tape, Var<T, S, B> x, Var<T, Shape<Out, In>, B> w,
                                    Var<T, Shape<Out>, B> b) {
  static_assert(last_extent<S> == In, "linear: the input's last extent must equal the weight's in-features");
  const std::size_t rows = x.size() / In;
  auto y = tape.template output<T, with_last<S, Out>>(dims_with<with_last<S, Out>, Out>(x.dims, S::rank - 1), x, w,
                                                        b);
  detail::linear_forward(tape, x.value, w.value, b.value, y.value, rows, In, Out);
  if (y.grad) {
    struct Node {
      Var<T, S, B> x;
      Var<T, Shape<Out, In>, B> w;
      Var<T, Shape<Out>, B> b;
      T* dy;
      std::size_t rows;
      void backward() const {
        kernels<B>::linear_backward(x.value, w.value, dy, x.grad, w.grad, b.grad, rows, In, Out);
      }
    };
    tape.record(Node{x, w, b, y.grad, rows});
  }
  tape.check("linear", y);
  return y;
}

}  // namespace mae
