#pragma once
// Helpers shared by the tests/test_kernels_*.cpp TUs: seeded random data and a float64 gradcheck.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace kernel_test {

using vec = std::vector<double>;

// Every random tensor comes from an explicit seed, reported by the INFO in each test on failure.
struct Rng {
  std::mt19937_64 engine;
  explicit Rng(std::uint64_t seed) : engine(seed) {}
  vec uniform(std::size_t n, double lo = -1, double hi = 1) {
    std::uniform_real_distribution<double> u(lo, hi);
    vec v(n);
    for (auto& x : v) x = u(engine);
    return v;
  }
  template <class T>
  std::vector<T> uniform_as(std::size_t n, double lo = -1, double hi = 1) {
    const vec v = uniform(n, lo, hi);
    return std::vector<T>(v.begin(), v.end());
  }
  std::int32_t index(std::int32_t n) { return std::uniform_int_distribution<std::int32_t>(0, n - 1)(engine); }
};

inline double dot(const vec& a, const vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

inline double max_abs_diff(const vec& a, const vec& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// Element-wise |a - b| <= atol + rtol |b|.
inline void check_close(const vec& actual, const vec& expected, double rtol, double atol, const std::string& what) {
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    INFO(what << " element " << i << ": " << actual[i] << " vs " << expected[i]);
    CHECK(std::abs(actual[i] - expected[i]) <= atol + rtol * std::abs(expected[i]));
  }
}

// Central finite differences of a scalar function of x: projected() must return Σ R·f(x) for the current x
// (R a fixed random projection of the op's outputs). Compares with `analytic` (what the backward added to
// the gradient of x for dy = R): ||num - analytic|| <= 1e-6 max(||num||, ||analytic||), and element-wise
// PyTorch's gradcheck tolerances (atol 1e-5, rtol 1e-3).
inline void gradcheck(const std::string& what, vec& x, const vec& analytic, const std::function<double()>& projected,
                      double eps = 1e-6) {
  REQUIRE(x.size() == analytic.size());
  vec numeric(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + eps;
    const double plus = projected();
    x[i] = saved - eps;
    const double minus = projected();
    x[i] = saved;
    numeric[i] = (plus - minus) / (2 * eps);
  }
  double diff = 0, norm_num = 0, norm_ana = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    diff += (numeric[i] - analytic[i]) * (numeric[i] - analytic[i]);
    norm_num += numeric[i] * numeric[i];
    norm_ana += analytic[i] * analytic[i];
  }
  const double relative = std::sqrt(diff) / std::max({std::sqrt(norm_num), std::sqrt(norm_ana), 1e-300});
  INFO("gradcheck " << what << ": relative error " << relative << " over " << x.size() << " elements");
  CHECK(relative <= 1e-6);
  CHECK(norm_ana > 0);  // a gradient that is identically zero would pass trivially
  check_close(analytic, numeric, 1e-3, 1e-5, "gradcheck " + what);
}

// What a backward added to a gradient buffer that started at `before` (tests accumulate into random values).
inline vec added(const vec& after, const vec& before) {
  vec d(after.size());
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = after[i] - before[i];
  return d;
}

}  // namespace kernel_test
