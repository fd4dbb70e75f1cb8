#pragma once
// Parity helpers for the Thrust backend: the backend under test runs on THRUST_DEVICE_SYSTEM (each test source
// is built once for OMP and once for CPP), the reference is backends::cpu. Both own host memory, so the tests
// hand the same host arrays to both.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "mae/backend/cpu.hpp"
#include "mae/backend/thrust.hpp"

namespace mae::test {

using thrust_backend_under_test = backends::thrust<::thrust::device_system_tag>;
using CK = kernels<backends::cpu>;
using TK = kernels<thrust_backend_under_test>;

inline const char* system_name() {
  return THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP ? "thrust-omp" : "thrust-cpp";
}

template <class T>
std::vector<T> random_vector(std::size_t n, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(u(rng));
  return v;
}

// max |a - b| / max |b|: the error relative to the reference's largest magnitude (0 when both are 0).
template <class T>
double max_rel_error(const std::vector<T>& a, const std::vector<T>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// Relative tolerance of the per-op checks: 1e-5 in float; double differs only by summation order.
template <class T>
inline constexpr double tolerance = sizeof(T) == 4 ? 1e-5 : 1e-12;

#define CHECK_CLOSE_TO_CPU(what, a, b)                                                           \
  do {                                                                                           \
    const double err_ = ::mae::test::max_rel_error(a, b);                                        \
    INFO(std::string(::mae::test::system_name()) << " " << what << ": relative error " << err_); \
    CHECK(err_ <= ::mae::test::tolerance<typename std::decay_t<decltype(a)>::value_type>);       \
  } while (0)

}  // namespace mae::test
