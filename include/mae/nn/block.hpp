#pragma once
// Pre-norm transformer block (timm): x += attn(norm1(x)); x += mlp(norm2(x)). Each sum is made by its
// sub-layer's fused op (the residual argument), the same bits as a separate add.
#include "mae/nn/attention.hpp"
#include "mae/nn/layernorm.hpp"
#include "mae/nn/mlp.hpp"

namespace mae::nn {

template <class T, std::size_t D, std::size_t Heads, std::size_t MlpRatio = 4, class B = backends::cpu>
struct Block {
  LayerNorm<T, D, B> norm1;
  MultiHeadAttention<T, D, Heads, B> attn;
  LayerNorm<T, D, B> norm2;
  Mlp<T, D, MlpRatio * D, B> mlp;

  template <std::size_t Bt, std::size_t N>
  Var<T, Shape<Bt, N, D>, B> operator()(Tape<B>& tape, Var<T, Shape<Bt, N, D>, B> x) {
    {
      auto scope = tape.scope("attn");
      x = attn(tape, norm1(tape, x), x);
    }
    auto scope = tape.scope("mlp");
    return mlp(tape, norm2(tape, x), x);
  }

  void init(Initializer& rng) { norm1.init(rng); attn.init(rng); norm2.init(rng); mlp.init(rng); }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    norm1.visit(prefix + "norm1.", f);
    attn.visit(prefix + "attn.", f);
    norm2.visit(prefix + "norm2.", f);
    mlp.visit(prefix + "mlp.", f);
  }
};

}  // namespace mae::nn
