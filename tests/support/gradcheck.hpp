#pragma once
// Float64 central-difference gradient check through the tape: L = Σ r·f(inputs) for a fixed random r;
// the analytic gradient comes from Tape::backward(y, r), the numeric one from (L(x+h) - L(x-h)) / 2h.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "mae/autograd/tape.hpp"
#include "mae/backend/cpu.hpp"

namespace mae::test {

struct Buffer {
  std::vector<double> value, grad;
  bool needs_grad = true;
  Buffer(std::size_t n, std::mt19937_64& rng, double lo = -1.0, double hi = 1.0) : value(n), grad(n, 0.0) {
    std::uniform_real_distribution<double> u(lo, hi);
    for (auto& v : value) v = u(rng);
  }
  template <class S>
  Var<double, S> var(const dims_t<S>& dims) {
    return {value.data(), needs_grad ? grad.data() : nullptr, dims};
  }
  template <class S>
  Var<double, S> var() { return var<S>(S::extents); }
};

// f(tape) builds the output from Vars over `inputs`. Returns the worst norm-wise relative error over inputs.
template <class F>
double gradcheck(std::vector<Buffer*> inputs, F f, std::uint64_t seed, double h = 1e-6) {
  std::mt19937_64 rng(seed);
  Tape<> tape;
  auto y = f(tape);
  std::vector<double> r(y.size());
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (auto& v : r) v = u(rng);
  for (auto* in : inputs) std::fill(in->grad.begin(), in->grad.end(), 0.0);
  tape.backward(y, r.data());

  auto objective = [&] {
    Tape<> eval(false);
    auto out = f(eval);
    double s = 0;
    for (std::size_t i = 0; i < out.size(); ++i) s += r[i] * out.value[i];
    return s;
  };
  double worst = 0;
  for (auto* in : inputs) {
    if (!in->needs_grad) continue;
    double diff = 0, norm_a = 0, norm_n = 0;
    for (std::size_t i = 0; i < in->value.size(); ++i) {
      const double x0 = in->value[i];
      in->value[i] = x0 + h;
      const double up = objective();
      in->value[i] = x0 - h;
      const double down = objective();
      in->value[i] = x0;
      const double numeric = (up - down) / (2 * h), analytic = in->grad[i];
      diff += (numeric - analytic) * (numeric - analytic);
      norm_a += analytic * analytic;
      norm_n += numeric * numeric;
    }
    const double rel = std::sqrt(diff) / std::max({std::sqrt(norm_a), std::sqrt(norm_n), 1e-12});
    if (rel > worst) worst = rel;
  }
  if (worst > 1e-6) std::printf("gradcheck failed: seed %llu, relative error %.3e\n", (unsigned long long)seed, worst);
  return worst;
}

}  // namespace mae::test
