#pragma once
// Parameter initialisation from the library's counter-based RNG: every parameter draws from its own stream,
// so the same seed gives the same weights on every backend and for every thread count.
#include <cmath>
#include <cstdint>
#include <vector>

#include "mae/autograd/var.hpp"
#include "mae/core/philox.hpp"

namespace mae::nn {

struct Initializer {
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;  // advanced once per initialised tensor

  template <class T, class S, class B>
  void uniform(Param<T, S, B>& p, double lo, double hi) {
    const std::uint64_t s = stream++;
    host_fill(p, [&](std::size_t i) { return lo + (hi - lo) * uniform_at(seed, s, i); });
  }
  template <class T, class S, class B>
  void normal(Param<T, S, B>& p, double mean, double std) {
    const std::uint64_t s = stream++;
    host_fill(p, [&](std::size_t i) { return mean + std * normal_at_f64(seed, s, i); });
  }
  // Glorot: U(±sqrt(6 / (fan_in + fan_out))) for a weight seen as (fan_out, fan_in).
  template <class T, class S, class B>
  void xavier_uniform(Param<T, S, B>& p, std::size_t fan_out, std::size_t fan_in) {
    const double a = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
    uniform(p, -a, a);
  }
  template <class T, class S, class B>
  static void constant(Param<T, S, B>& p, double v) {
    host_fill(p, [&](std::size_t) { return v; });
  }

 private:
  template <class T, class S, class B, class F>
  static void host_fill(Param<T, S, B>& p, F&& f) {
    static_assert(host_backend<B>, "Initializer: initialise on a host backend, then copy to the device");
    T* v = p.value.data();
    for (std::size_t i = 0, n = p.value.size(); i < n; ++i) v[i] = static_cast<T>(f(i));
  }
};

}  // namespace mae::nn
