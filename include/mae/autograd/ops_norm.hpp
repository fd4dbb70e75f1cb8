#pragma once
// layer_norm over the last axis (biased variance, eps inside the sqrt, as PyTorch).
#include "mae/autograd/tape.hpp"

namespace mae {

template <class T, class S, class B, std::size_t D>
Var<T, S, B> layer_norm(Tape<B>& tape, Var<T, S, B> x, Var<T, Shape<D>, B> w, Var<T, Shape<D>, B> b, T eps) {
  static_assert(S::extents[S::rank - 1] == D, "layer_norm: the input's last extent must equal the weight's size");
  const std::size_t rows = x.size() / D;
  auto y = tape.template output<T, S>(x.dims, x, w, b);
  T* mean = tape.template alloc<T>(rows);
  T* rstd = tape.template alloc<T>(rows);
  kernels<B>::layernorm_forward(x.value, w.value, b.value, y.value, mean, rstd, rows, D, eps);
  if (y.grad) {
    struct Node {
      Var<T, S, B> x;
      Var<T, Shape<D>, B> w, b;
      const T *mean, *rstd, *dy;
      std::size_t rows;
      void backward() const {
        kernels<B>::layernorm_backward(x.value, w.value, mean, rstd, dy, x.grad, w.grad, b.grad, rows, D);
      }
    };
    tape.record(Node{x, w, b, mean, rstd, y.grad, rows});
  }
  tape.check("layer_norm", y);
  return y;
}

}  // namespace mae
