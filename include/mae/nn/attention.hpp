#pragma once
// Multi-head self-attention: one fused qkv Linear(D, 3D), the fused attention node, then `proj`.
#include "mae/autograd/ops_attention.hpp"
#include "mae/nn/linear.hpp"

namespace mae::nn {

template <class T, std::size_t D, std::size_t Heads, class B = backends::cpu>
struct MultiHeadAttention {
  static_assert(D % Heads == 0, "MultiHeadAttention: the width D must be divisible by the number of heads");
  Linear<T, D, 3 * D, B> qkv;
  Linear<T, D, D, B> proj;

  // One fused op (autograd/ops_attention.hpp): the same values and gradients as proj(attention(qkv(x))), or as
  // add(residual, proj(attention(qkv(x)))) when given a residual.
  template <std::size_t Bt, std::size_t N>
  auto operator()(Tape<B>& tape, Var<T, Shape<Bt, N, D>, B> x, Var<T, Shape<Bt, N, D>, B> residual = {}) {
    return self_attention<Heads>(tape, x, qkv.weight.var(), qkv.bias.var(), proj.weight.var(), proj.bias.var(),
                                 residual);
  }

  void init(Initializer& rng) { qkv.init(rng); proj.init(rng); }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    qkv.visit(prefix + "qkv.", f);
    proj.visit(prefix + "proj.", f);
  }
};

}  // namespace mae::nn
