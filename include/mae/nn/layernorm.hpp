#pragma once
// LayerNorm over the last axis with affine weight and bias (eps 1e-6 as in MAE; HF checkpoints use 1e-12).
#include <string>

#include "mae/autograd/ops_norm.hpp"
#include "mae/nn/init.hpp"

namespace mae::nn {

template <class T, std::size_t D, class B = backends::cpu>
struct LayerNorm {
  Param<T, Shape<D>, B> weight{no_decay};
  Param<T, Shape<D>, B> bias{no_decay};
  T eps = T(1e-6);

  template <class S>
  auto operator()(Tape<B>& tape, Var<T, S, B> x) { return layer_norm(tape, x, weight.var(), bias.var(), eps); }

  void init(Initializer&) {
    Initializer::constant(weight, 1.0);
    Initializer::constant(bias, 0.0);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "weight", weight);
    f(prefix + "bias", bias);
  }
};

}  // namespace mae::nn
