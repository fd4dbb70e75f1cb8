// Batched matmul against a naive triple loop at odd sizes, with batch broadcasting and strided operands.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "mae/core/matmul.hpp"
#include "mae/core/tensor.hpp"
#include "mae/core/views.hpp"

using mae::dyn;
using mae::Shape;
using mae::Tensor;

namespace {
template <class X>
void randomize(X& x, std::uint32_t seed) {
  std::uint32_t s = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < x.size(); ++i) {
    s = s * 1664525u + 1013904223u;
    x.data()[i] = static_cast<typename X::value_type>((s >> 8) * (2.0 / 16777216.0) - 1.0);
  }
}

// c[i, j] = sum_k a(i, k) b(k, j) in double; a and b are callables (i, k) -> value.
template <class C, class A, class B>
std::size_t count_mismatches(const C& c, A a, B b, std::size_t M, std::size_t N, std::size_t K, double tol) {
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      double ref = 0, mag = 0;
      for (std::size_t k = 0; k < K; ++k) ref += double(a(i, k)) * b(k, j), mag += std::abs(double(a(i, k)) * b(k, j));
      wrong += std::abs(c(i, j) - ref) > tol * (1 + mag);
    }
  return wrong;
}
}  // namespace

TEST_CASE("7x13 x 13x5") {
  Tensor<float, Shape<7, 13>> a;
  Tensor<float, Shape<13, 5>> b;
  randomize(a, 1);
  randomize(b, 2);
  auto c = mae::matmul(a, b);
  static_assert(std::is_same_v<decltype(c), Tensor<float, Shape<7, 5>>>);
  CHECK(count_mismatches([&](auto i, auto j) { return c(i, j); }, [&](auto i, auto k) { return a(i, k); },
                         [&](auto k, auto j) { return b(k, j); }, 7, 5, 13, 1e-6) == 0);
}

TEST_CASE("batch 3, broadcast batch, dyn batch") {
  Tensor<double, Shape<dyn, 7, 13>> a({3, 7, 13});
  Tensor<double, Shape<dyn, 13, 5>> b({3, 13, 5});
  Tensor<double, Shape<13, 5>> shared;
  randomize(a, 3);
  randomize(b, 4);
  randomize(shared, 5);
  auto c = mae::matmul(a, b);
  static_assert(std::is_same_v<decltype(c), Tensor<double, Shape<dyn, 7, 5>>>);
  auto d = mae::matmul(a, shared);  // (3,7,13) x (13,5): b broadcasts over the batch
  REQUIRE(c.dims() == std::array<std::size_t, 3>{3, 7, 5});
  REQUIRE(d.dims() == std::array<std::size_t, 3>{3, 7, 5});
  for (std::size_t n = 0; n < 3; ++n) {
    auto an = [&](auto i, auto k) { return a(n, i, k); };
    CHECK(count_mismatches([&](auto i, auto j) { return c(n, i, j); }, an, [&](auto k, auto j) { return b(n, k, j); },
                           7, 5, 13, 1e-13) == 0);
    CHECK(count_mismatches([&](auto i, auto j) { return d(n, i, j); }, an,
                           [&](auto k, auto j) { return shared(k, j); }, 7, 5, 13, 1e-13) == 0);
  }

  // (2,1,7,13) x (4,13,5) -> (2,4,7,5): both operands stretch a batch axis.
  Tensor<float, Shape<2, 1, 7, 13>> p;
  Tensor<float, Shape<4, 13, 5>> q;
  randomize(p, 6);
  randomize(q, 7);
  auto r = mae::matmul(p, q);
  static_assert(std::is_same_v<decltype(r), Tensor<float, Shape<2, 4, 7, 5>>>);
  for (std::size_t x = 0; x < 2; ++x)
    for (std::size_t y = 0; y < 4; ++y)
      CHECK(count_mismatches([&](auto i, auto j) { return r(x, y, i, j); }, [&](auto i, auto k) { return p(x, 0, i, k); },
                             [&](auto k, auto j) { return q(y, k, j); }, 7, 5, 13, 1e-6) == 0);
}

TEST_CASE("strided operands: a transposed view and a column slice") {
  Tensor<float, Shape<13, 7>> at;  // a = atᵀ is (7,13), unit stride down its columns
  Tensor<float, Shape<13, 9>> wide;
  randomize(at, 8);
  randomize(wide, 9);
  auto b = mae::slice<1, 5>(wide, 3);  // (13,5) with row stride 9
  auto c = mae::matmul(mae::permute<1, 0>(at), b);
  static_assert(std::is_same_v<decltype(c), Tensor<float, Shape<7, 5>>>);
  CHECK(count_mismatches([&](auto i, auto j) { return c(i, j); }, [&](auto i, auto k) { return at(k, i); },
                         [&](auto k, auto j) { return wide(k, j + 3); }, 7, 5, 13, 1e-6) == 0);
  auto e = mae::matmul(mae::permute<1, 0>(at) * 2.f, b);  // an expression operand is evaluated first
  CHECK(e(6, 4) == doctest::Approx(2 * c(6, 4)).epsilon(1e-6));
}

TEST_CASE("a larger product (Eigen's blocked path, parallel batches)") {
  Tensor<float, Shape<dyn, 65, 70>> a({4, 65, 70});
  Tensor<float, Shape<70, 130>> b;
  randomize(a, 10);
  randomize(b, 11);
  auto c = mae::matmul(a, b);
  std::size_t wrong = 0;
  for (std::size_t n = 0; n < 4; ++n)
    wrong += count_mismatches([&](auto i, auto j) { return c(n, i, j); }, [&](auto i, auto k) { return a(n, i, k); },
                              [&](auto k, auto j) { return b(k, j); }, 65, 130, 70, 1e-5);
  CHECK(wrong == 0);
}

TEST_CASE("run-time shape errors name both shapes; empty products") {
  Tensor<float, Shape<dyn, dyn>> a({128, 64});
  Tensor<float, Shape<dyn, dyn>> b({32, 16});
  CHECK_THROWS_WITH_AS(mae::matmul(a, b), "matmul: (128x64) x (32x16)", mae::error);
  Tensor<float, Shape<dyn, 7, 13>> p({3, 7, 13});
  Tensor<float, Shape<dyn, 13, 5>> q({4, 13, 5});
  CHECK_THROWS_WITH_AS(mae::matmul(p, q), "matmul: (3x7x13) x (4x13x5)", mae::error);

  Tensor<float, Shape<dyn, dyn>> k0a({3, 0}), k0b({0, 4});
  auto zeros = mae::matmul(k0a, k0b);  // K = 0: a (3,4) of zeros
  REQUIRE(zeros.dims() == std::array<std::size_t, 2>{3, 4});
  for (std::size_t i = 0; i < zeros.size(); ++i) CHECK(zeros.data()[i] == 0.f);
  Tensor<float, Shape<dyn, 7, 13>> none({0, 7, 13});
  Tensor<float, Shape<13, 5>> w;
  w.fill(1.f);
  CHECK(mae::matmul(none, w).dims() == std::array<std::size_t, 3>{0, 7, 5});
}
