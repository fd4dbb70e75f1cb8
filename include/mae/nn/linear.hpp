#pragma once
// Linear(In -> Out) with bias, PyTorch's (out, in) weight layout and parameter names.
#include <string>

#include "mae/autograd/ops_linear.hpp"
#include "mae/nn/init.hpp"

namespace mae::nn {

template <class T, std::size_t In, std::size_t Out, class B = backends::cpu>
struct Linear {
  static constexpr std::size_t in_features = In, out_features = Out;
  Param<T, Shape<Out, In>, B> weight;
  Param<T, Shape<Out>, B> bias{no_decay};

  template <class S>
  auto operator()(Tape<B>& tape, Var<T, S, B> x) { return linear(tape, x, weight.var(), bias.var()); }

  // Official MAE init: xavier_uniform weight, zero bias.
  void init(Initializer& rng) {
    rng.xavier_uniform(weight, Out, In);
    Initializer::constant(bias, 0.0);
  }

  template <class F>
  void visit(const std::string& prefix, F&& f) {
    f(prefix + "weight", weight);
    f(prefix + "bias", bias);
  }
};

}  // namespace mae::nn
