#pragma once
// Multi-head self-attention as one node: fused qkv (…, N, 3D) in, heads merged (…, N, D) out.
// The softmax probabilities are the only saved activation.
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
  auto out = tape.template var<T, Out>({batch, n, D}, qkv.requires_grad());
  T* probs = tape.template alloc<T>(batch * Heads * n * n);
  kernels<B>::attention_forward(qkv.value, out.value, probs, batch, n, Heads, hd);
  if (out.grad) {
    T* scratch = tape.template alloc<T>(kernels<B>::attention_scratch_elems(batch, n, Heads, hd));
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

}  // namespace mae
