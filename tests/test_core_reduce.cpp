// Reductions along an axis and over all elements, against plain double loops.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "mae/core/reduce.hpp"
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
}  // namespace

// The static result shape drops the reduced axis.
using X357 = Tensor<float, Shape<dyn, 5, 7>>;
static_assert(std::is_same_v<decltype(mae::sum<0>(std::declval<X357&>())), Tensor<float, Shape<5, 7>>>);
static_assert(std::is_same_v<decltype(mae::mean<1>(std::declval<X357&>())), Tensor<float, Shape<dyn, 7>>>);
static_assert(std::is_same_v<decltype(mae::max<2>(std::declval<X357&>())), Tensor<float, Shape<dyn, 5>>>);
static_assert(std::is_same_v<decltype(mae::sum<0>(std::declval<Tensor<double, Shape<4>>&>())), Tensor<double, Shape<>>>);
static_assert(std::is_same_v<decltype(mae::sum(std::declval<X357&>())), float>);

TEST_CASE("sum, mean, max along each axis of (3,5,7) match a double loop") {
  X357 x({3, 5, 7});
  randomize(x, 1);
  auto s0 = mae::sum<0>(x);
  auto m1 = mae::mean<1>(x);
  auto x2 = mae::max<2>(x);
  for (std::size_t j = 0; j < 5; ++j)
    for (std::size_t k = 0; k < 7; ++k) {
      double ref = 0;
      for (std::size_t i = 0; i < 3; ++i) ref += x(i, j, k);
      CHECK(s0(j, k) == doctest::Approx(ref).epsilon(1e-6));
    }
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t k = 0; k < 7; ++k) {
      double ref = 0;
      for (std::size_t j = 0; j < 5; ++j) ref += x(i, j, k);
      CHECK(m1(i, k) == doctest::Approx(ref / 5).epsilon(1e-6));
    }
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 5; ++j) {
      float ref = -std::numeric_limits<float>::infinity();
      for (std::size_t k = 0; k < 7; ++k) ref = std::max(ref, x(i, j, k));
      CHECK(x2(i, j) == ref);
    }
}

TEST_CASE("reductions of expressions and non-contiguous views") {
  Tensor<float, Shape<4, 6>> a, b;
  randomize(a, 2);
  randomize(b, 3);
  auto dot_rows = mae::sum<1>(a * b);  // evaluated, then reduced
  for (std::size_t i = 0; i < 4; ++i) {
    double ref = 0;
    for (std::size_t j = 0; j < 6; ++j) ref += double(a(i, j) * b(i, j));
    CHECK(dot_rows(i) == doctest::Approx(ref).epsilon(1e-6));
  }
  auto col_max = mae::max<1>(mae::permute<1, 0>(a));  // a strided view: copied, then reduced
  for (std::size_t j = 0; j < 6; ++j) {
    float ref = a(0, j);
    for (std::size_t i = 1; i < 4; ++i) ref = std::max(ref, a(i, j));
    CHECK(col_max(j) == ref);
  }
  auto part = mae::sum<0>(mae::slice<1>(a, 2, 3));  // a slice is not contiguous either
  CHECK(part(1) == doctest::Approx(double(a(0, 3)) + a(1, 3) + a(2, 3) + a(3, 3)).epsilon(1e-6));
  auto one_row = mae::sum<0>(mae::slice<0>(a, 1, 1));  // a (1,6) slice: its own row back
  CHECK(one_row.dims() == std::array<std::size_t, 1>{6});
  CHECK(one_row(5) == a(1, 5));
}

TEST_CASE("full reductions: sum, mean, max") {
  Tensor<double, Shape<3, 11>> x;
  randomize(x, 4);
  double ref = 0, top = -1e300;
  for (std::size_t i = 0; i < x.size(); ++i) ref += x.data()[i], top = std::max(top, x.data()[i]);
  CHECK(mae::sum(x) == doctest::Approx(ref).epsilon(1e-14));
  CHECK(mae::mean(x) == doctest::Approx(ref / 33).epsilon(1e-14));
  CHECK(mae::max(x) == top);
  CHECK(mae::sum(x * 2.0) == doctest::Approx(2 * ref).epsilon(1e-14));
  Tensor<double, Shape<4>> v;
  randomize(v, 5);
  auto r0 = mae::sum<0>(v);  // rank 1 -> rank 0
  CHECK(r0() == doctest::Approx(v(0) + v(1) + v(2) + v(3)).epsilon(1e-14));
}

TEST_CASE("large reductions: float sums accumulate in double, parallel paths match") {
  // 2^20 + 3 elements of 0.1f: a float running sum drifts by ~1e-3 relative; we must stay near 1e-7.
  Tensor<float, Shape<dyn>> ones({(1u << 20) + 3});
  ones.fill(0.1f);
  const double exact = double(0.1f) * double((1u << 20) + 3);
  CHECK(std::abs(mae::sum(ones) - exact) / exact < 1e-6);
  CHECK(std::abs(mae::mean(ones) - double(0.1f)) < 1e-7);

  // Reduce the leading axis of (6272, 300): many inner tiles, long reduced axis (bias gradients).
  Tensor<float, Shape<dyn, 300>> x({6272, 300});
  randomize(x, 6);
  auto s = mae::sum<0>(x);
  auto m = mae::max<0>(x);
  std::size_t wrong = 0;
  for (std::size_t k = 0; k < 300; ++k) {
    double ref = 0;
    float top = x(0, k);
    for (std::size_t i = 0; i < 6272; ++i) ref += x(i, k), top = std::max(top, x(i, k));
    wrong += std::abs(s(k) - ref) > 1e-4 * (1 + std::abs(ref));
    wrong += m(k) != top;
  }
  CHECK(wrong == 0);

  // Reduce the last axis of many rows.
  auto rows = mae::mean<1>(x);
  wrong = 0;
  for (std::size_t i = 0; i < 6272; ++i) {
    double ref = 0;
    for (std::size_t k = 0; k < 300; ++k) ref += x(i, k);
    wrong += std::abs(rows(i) - ref / 300) > 1e-6;
  }
  CHECK(wrong == 0);
}

TEST_CASE("edge cases: NaN, empty axes") {
  Tensor<float, Shape<2, 3>> x;
  x.fill(1.f);
  x(1, 1) = std::numeric_limits<float>::quiet_NaN();
  auto m = mae::max<1>(x);
  CHECK(m(0) == 1.f);
  CHECK(std::isnan(m(1)));
  CHECK(std::isnan(mae::max(x)));
  CHECK(std::isnan(mae::sum(x)));

  Tensor<float, Shape<dyn, 3>> empty({0, 3});
  auto s = mae::sum<0>(empty);
  CHECK(s(0) == 0.f);
  CHECK(std::isnan(mae::mean<0>(empty)(2)));
  CHECK(mae::sum<1>(empty).size() == 0);
  CHECK_THROWS_WITH_AS(mae::max<0>(empty), "max: axis 0 of (0,3) is empty", mae::error);
  CHECK_THROWS_WITH_AS(mae::max(empty), "max: (0,3) has no elements", mae::error);
  CHECK(mae::sum(empty) == 0.f);
}
