#pragma once
// The transformer MLP: fc1 (D -> Hidden), exact GELU, fc2 (Hidden -> D).
#include "mae/autograd/ops_mlp.hpp"
#include "mae/nn/linear.hpp"

namespace mae::nn {

template <class T, std::size_t D, std::size_t Hidden, class B = backends::cpu>
struct Mlp {
  Linear<T, D, Hidden, B> fc1;
  Linear<T, Hidden, D, B> fc2;

  // One fused op (autograd/ops_mlp.hpp): the same values and gradients as fc2(gelu(fc1(x))), or as
  // add(residual, fc2(gelu(fc1(x)))) when given a residual.
  template <class S>
  auto operator()(Tape<B>& tape, Var<T, S, B> x, Var<T, with_last<S, D>, B> residual = {}) {
    return mae::mlp(tape, x, fc1.weight.var(), fc1.bias.var(), fc2.weight.var(), fc2.bias.var(), residual);
  }

  void init(Initializer& rng) { fc1.init(rng); fc2.init(rng); }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    fc1.visit(prefix + "fc1.", f);
    fc2.visit(prefix + "fc2.", f);
  }
};

}  // namespace mae::nn
