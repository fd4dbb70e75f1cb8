#pragma once
// The transformer MLP as one op: y = fc2(gelu(fc1(x))), W1 (Hidden, In), W2 (Out, Hidden). Its two hidden
// values have exactly one reader each, so their gradients need no zero-filled buffers to accumulate into: the
// backward writes d(hidden) into one scratch buffer (fc2's dX GEMM with beta 0) and turns it into the
// gradient before GELU in place. The hidden layer is the widest of a block (4 D), so this removes about half of
// a block's gradient zero-fill and one Hidden-wide buffer. The same kernels in the same order as linear, gelu,
// linear, and a zero-filled buffer plus a product is that product: the same bits.
// Given a residual r (the pre-norm block's stream) it returns r + mlp(x) in the MLP's own output buffer: one
// activation fewer, and the backward hands dy to fc2 directly instead of through an add node's gradient
// buffer. y + r and r + y are the same bits, and r's gradient gets dy first, as after add(r, mlp(x)).
// GELU's output is not kept: it lives in the node's scratch, and the backward computes it again from the kept
// input in the pass that turns that input into GELU's slope (one erf per element, as before; the same bits).
// A Hidden-wide activation less per block. The backward can run once per recording (Tape enforces it).
#include "mae/autograd/ops_linear.hpp"
#include "mae/autograd/shapes.hpp"
#include "mae/autograd/tape.hpp"

namespace mae {

template <class T, class S, class B, std::size_t Hidden, std::size_t In, std::size_t Out>
Var<T, with_last<S, Out>, B> mlp(Tape<B>& tape, Var<T, S, B> x, Var<T, Shape<Hidden, In>, B> w1,
                                 Var<T, Shape<Hidden>, B> b1, Var<T, Shape<Out, Hidden>, B> w2,
                                 Var<T, Shape<Out>, B> b2, Var<T, with_last<S, Out>, B> residual = {}) {
  static_assert(last_extent<S> == In, "mlp: the input's last extent must equal fc1's in-features");
  using SH = with_last<S, Hidden>;
  const std::size_t rows = x.size() / In, n = rows * Hidden;
  const bool fc1_grad = x.requires_grad() || w1.requires_grad() || b1.requires_grad();
  const auto y_dims = dims_with<with_last<S, Out>, Out>(x.dims, S::rank - 1);
  MAE_CHECK(!residual.value || residual.dims == y_dims, "mlp: the residual's shape " + to_string(residual.dims) +
                                                            " is not the output's " + to_string(y_dims));
  const Var<T, SH, B> h{tape.template alloc<T>(n), nullptr, dims_with<SH, Hidden>(x.dims, S::rank - 1)};
  const Var<T, SH, B> a{tape.template scratch<T>(n), nullptr, h.dims};  // recomputed in backward, not kept
  detail::linear_forward(tape, x.value, w1.value, b1.value, h.value, rows, In, Hidden);
  tape.check("linear", h);
  kernels<B>::gelu_forward(h.value, a.value, n);
  tape.check("gelu", a);
  auto y = tape.template output<T, with_last<S, Out>>(y_dims, x, w1, b1, w2, b2, residual);
  detail::linear_forward(tape, a.value, w2.value, b2.value, y.value, rows, Hidden, Out);
  if (residual.value) kernels<B>::accumulate(y.value, residual.value, rows * Out);
  if (y.grad) {
    struct Node {
      Var<T, S, B> x;
      Var<T, Shape<Hidden, In>, B> w1;
      Var<T, Shape<Hidden>, B> b1;
      Var<T, Shape<Out, Hidden>, B> w2;
      Var<T, Shape<Out>, B> b2;
      T* h;  // GELU's input, turned into its slope by the backward
      const T* dy;
      T *a, *dresidual, *dh;  // null when the residual or nothing before fc2 needs a gradient
      std::size_t rows;
      void backward() const {
        if (dresidual) kernels<B>::accumulate(dresidual, dy, rows * Out);
        kernels<B>::gelu_value_slope(h, a, rows * Hidden);
        kernels<B>::linear_backward(a, w2.value, dy, dh, w2.grad, b2.grad, rows, Hidden, Out, T(0));
        if (!dh) return;
        kernels<B>::multiply(dh, h, rows * Hidden);
        kernels<B>::linear_backward(x.value, w1.value, dh, x.grad, w1.grad, b1.grad, rows, In, Hidden);
      }
    };
    tape.record(Node{x, w1, b1, w2, b2, h.value, y.grad, a.value, residual.grad,
                     fc1_grad ? tape.template scratch<T>(n) : nullptr, rows});
  }
  tape.check("linear", y);
  return y;
}

}  // namespace mae
