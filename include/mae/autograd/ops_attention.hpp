#pragma once
// Multi-head self-attention as one node: fused qkv (…, N, 3D) in, heads merged (…, N, D) out.
// The softmax probabilities are the only saved activation.
#include "mae/autograd/ops_linear.hpp"
#include "mae/autograd/shapes.hpp"
#include "mae/autograd/tape.hpp"

namespace mae {

template <std::size_t Heads, class T, std::size_t Bt, std::size_t N, std::size_t D3, class B>
Var<T, Shape<Bt, N, D3 / 3>, B> attention(Tape<B>& tape, Var<T, Shape<Bt, N, D3>, B> qkv) {
  static_assert(D3 % 3 == 0, "attention: the fused qkv width must be 3 * D");
  static_assert((D3 / 3) % Heads == 0, "attention: D must be divisible by the number of heads");
  constexpr std::size_t D = D3 / 3, hd = D / Heads;
  using Out = Shape<Bt, N, D>;
  const std::size_t batch = qkv.dims[0], n = qkv.dims[1];
  auto out = tape.template output<T, Out>({batch, n, D}, qkv);
  T* probs = tape.template alloc<T>(batch * Heads * n * n);
  kernels<B>::attention_forward(qkv.value, out.value, probs, batch, n, Heads, hd);
  if (out.grad) {
    T* scratch = tape.template scratch<T>(kernels<B>::attention_scratch_elems(batch, n, Heads, hd));
    struct Node {
      Var<T, Shape<Bt, N, D3>, B> qkv;
      const T *probs, *dout;
      T* scratch;
      void backward() const {
        kernels<B>::attention_backward(qkv.value, probs, dout, qkv.grad, qkv.dims[0], qkv.dims[1], Heads, hd,
                                       scratch);
      }
    };
    tape.record(Node{qkv, probs, out.grad, scratch});
  }
  tape.check("attention", out);
  return out;
}

// The attention sub-layer as one op: proj(attention(qkv(x))), Wqkv (3D, D), Wproj (D, D). Like the fused MLP
// (ops_mlp.hpp), its qkv and head outputs have one reader each: their gradients are scratch buffers written by
// proj's dX GEMM and by attention's backward (beta 0), not zero-filled buffers accumulated into. The same
// kernels in the same order as linear, attention, linear: the same bits. A residual r is added as in mlp():
// r + self_attention(x) in the op's own output buffer.
template <std::size_t Heads, class T, std::size_t Bt, std::size_t N, std::size_t D, class B>
Var<T, Shape<Bt, N, D>, B> self_attention(Tape<B>& tape, Var<T, Shape<Bt, N, D>, B> x, Var<T, Shape<3 * D, D>, B> wqkv,
                                          Var<T, Shape<3 * D>, B> bqkv, Var<T, Shape<D, D>, B> wproj,
                                          Var<T, Shape<D>, B> bproj, Var<T, Shape<Bt, N, D>, B> residual = {}) {
  static_assert(D % Heads == 0, "self_attention: D must be divisible by the number of heads");
  constexpr std::size_t hd = D / Heads;
  const std::size_t batch = x.dims[0], n = x.dims[1], rows = batch * n;
  MAE_CHECK(!residual.value || residual.dims == x.dims, "self_attention: the residual's shape " +
                                                             to_string(residual.dims) + " is not the input's " +
                                                             to_string(x.dims));
  const bool qkv_grad = x.requires_grad() || wqkv.requires_grad() || bqkv.requires_grad();
  const Var<T, Shape<Bt, N, 3 * D>, B> qkv{tape.template alloc<T>(rows * 3 * D), nullptr, {batch, n, 3 * D}};
  const Var<T, Shape<Bt, N, D>, B> heads{tape.template alloc<T>(rows * D), nullptr, x.dims};
  T* probs = tape.template alloc<T>(batch * Heads * n * n);
  detail::linear_forward(tape, x.value, wqkv.value, bqkv.value, qkv.value, rows, D, 3 * D);
  tape.check("linear", qkv);
  kernels<B>::attention_forward(qkv.value, heads.value, probs, batch, n, Heads, hd);
  tape.check("attention", heads);
  auto y = tape.template output<T, Shape<Bt, N, D>>(x.dims, x, wqkv, bqkv, wproj, bproj, residual);
  detail::linear_forward(tape, heads.value, wproj.value, bproj.value, y.value, rows, D, D);
  if (residual.value) kernels<B>::accumulate(y.value, residual.value, rows * D);
  if (y.grad) {
    struct Node {
      Var<T, Shape<Bt, N, D>, B> x;
      Var<T, Shape<3 * D, D>, B> wqkv;
      Var<T, Shape<3 * D>, B> bqkv;
      Var<T, Shape<D, D>, B> wproj;
      Var<T, Shape<D>, B> bproj;
      const T *qkv, *heads, *probs, *dy;
      T* dresidual;
      T *dheads, *dqkv, *scratch;  // null when nothing before proj needs a gradient
      void backward() const {
        const std::size_t batch = x.dims[0], n = x.dims[1], rows = batch * n;
        if (dresidual) kernels<B>::accumulate(dresidual, dy, rows * D);
        kernels<B>::linear_backward(heads, wproj.value, dy, dheads, wproj.grad, bproj.grad, rows, D, D, T(0));
        if (!dheads) return;
        kernels<B>::attention_backward(qkv, probs, dheads, dqkv, batch, n, Heads, hd, scratch, T(0));
        kernels<B>::linear_backward(x.value, wqkv.value, dqkv, x.grad, wqkv.grad, bqkv.grad, rows, D, 3 * D);
      }
    };
    const auto scratch = [&](std::size_t elems) { return qkv_grad ? tape.template scratch<T>(elems) : nullptr; };
    tape.record(Node{x, wqkv, bqkv, wproj, bproj, qkv.value, heads.value, probs, y.grad, residual.grad,
                     scratch(rows * D), scratch(rows * 3 * D),
                     scratch(kernels<B>::attention_scratch_elems(batch, n, Heads, hd))});
  }
  tape.check("linear", y);
  return y;
}

}  // namespace mae
