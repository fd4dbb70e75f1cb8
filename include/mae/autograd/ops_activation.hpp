#pragma once
// gelu (exact erf form) and softmax over the last axis.
#include "mae/autograd/tape.hpp"

namespace mae {

template <class T, class S, class B>
Var<T, S, B> gelu(Tape<B>& tape, Var<T, S, B> x) {
  auto y = tape.template output<T, S>(x.dims, x);
  kernels<B>::gelu_forward(x.value, y.value, x.size());
  if (y.grad) {
    struct Node {
      Var<T, S, B> x;
      const T* dy;
      void backward() const { kernels<B>::gelu_backward(x.value, dy, x.grad, x.size()); }
    };
    tape.record(Node{x, y.grad});
  }
  tape.check("gelu", y);
  return y;
}

template <class T, class S, class B>
Var<T, S, B> softmax(Tape<B>& tape, Var<T, S, B> x) {
  const std::size_t cols = x.dims[S::rank - 1], rows = x.size() / cols;
  auto y = tape.template output<T, S>(x.dims, x);
  kernels<B>::softmax_forward(x.value, y.value, rows, cols);
  if (y.grad) {
    struct Node {
      const T* y;
      const T* dy;
      T* dx;
      std::size_t rows, cols;
      void backward() const { kernels<B>::softmax_backward(y, dy, dx, rows, cols); }
    };
    tape.record(Node{y.value, y.grad, x.grad, rows, cols});
  }
  tape.check("softmax", y);
  return y;
}

}  // namespace mae
