// Lazy element-wise expressions: values against plain loops, broadcasting, run-time errors, the fused
// evaluation paths (flat, row-wise, strided, parallel).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "mae/core/inline_tensor.hpp"
#include "mae/core/tensor.hpp"
#include "mae/core/views.hpp"

using mae::dyn;
using mae::Shape;
using mae::Tensor;

namespace {
// Deterministic values in [-1, 1) (an LCG), different for each seed.
template <class X>
void randomize(X& x, std::uint32_t seed) {
  std::uint32_t s = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < x.size(); ++i) {
    s = s * 1664525u + 1013904223u;
    x.data()[i] = static_cast<typename X::value_type>((s >> 8) * (2.0 / 16777216.0) - 1.0);
  }
}
}  // namespace

TEST_CASE("the result type: value type, static shape and backend of an expression") {
  Tensor<float, Shape<dyn, 49, 128>> x({2, 49, 128});
  Tensor<float, Shape<128>> bias;
  using E = decltype(x + bias * 2.0);  // a double number does not promote a float expression
  static_assert(std::is_same_v<E::value_type, float>);
  static_assert(std::is_same_v<E::shape, Shape<dyn, 49, 128>>);
  static_assert(std::is_same_v<E::backend, mae::backends::cpu>);
  static_assert(std::is_same_v<decltype(mae::cast<double>(x))::value_type, double>);
  static_assert(mae::expression<decltype(x.view())> && mae::expression<E>);
  struct has_view_but_is_not_a_tensor {
    mae::TensorView<float, Shape<2>> view() const { return {}; }
  };
  static_assert(!mae::expression<has_view_but_is_not_a_tensor>);  // no accidental opt-in (e.g. autograd's Var)
  static_assert(!mae::operand<int*>);
}

TEST_CASE("binary operators with tensors, views and numbers match a plain loop") {
  Tensor<float, Shape<7, 13>> a, b, out;
  randomize(a, 1);
  randomize(b, 2);
  for (std::size_t i = 0; i < a.size(); ++i) b.data()[i] += 3.f;  // keep divisors away from 0
  out = a + b * 2.f - a / b;
  for (std::size_t i = 0; i < 7; ++i)
    for (std::size_t j = 0; j < 13; ++j) CHECK(out(i, j) == a(i, j) + b(i, j) * 2.f - a(i, j) / b(i, j));
  out = 1.f - a.view();
  CHECK(out(3, 4) == 1.f - a(3, 4));
  out = 2.f / b;
  CHECK(out(6, 12) == 2.f / b(6, 12));
  out = -(a * a);
  CHECK(out(2, 2) == -(a(2, 2) * a(2, 2)));
  mae::assign(out, 4.f);
  CHECK(out(0, 0) == 4.f);
  CHECK(out(6, 12) == 4.f);
}

TEST_CASE("unary functions, maximum/minimum, cast and map") {
  Tensor<double, Shape<5, 3>> x, y;
  randomize(x, 3);
  y = mae::exp(x) + mae::abs(x) + mae::tanh(x) + mae::erf(x) + mae::square(x) + mae::sqrt(mae::abs(x)) +
      mae::log(x * x + 1.0);
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 3; ++j) {
      const double v = x(i, j);
      CHECK(y(i, j) == doctest::Approx(std::exp(v) + std::abs(v) + std::tanh(v) + std::erf(v) + v * v +
                                       std::sqrt(std::abs(v)) + std::log(v * v + 1.0)).epsilon(1e-15));
    }
  y = mae::maximum(x, 0.0) + mae::minimum(x, 0.0);
  CHECK(y(2, 1) == x(2, 1));
  Tensor<float, Shape<5, 3>> f;
  f = mae::cast<float>(x);
  CHECK(f(4, 2) == static_cast<float>(x(4, 2)));
  const double slope = 0.1;
  y = mae::map([slope](double v, double s) { return v > 0 ? v * s : v * slope; }, x, 3.0);
  for (std::size_t i = 0; i < 5; ++i) CHECK(y(i, 0) == (x(i, 0) > 0 ? x(i, 0) * 3.0 : x(i, 0) * slope));
}

TEST_CASE("maximum and minimum propagate NaN") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  mae::InlineTensor<float, Shape<4>> a, b, out;
  a(0) = nan, a(1) = 1.f, a(2) = 2.f, a(3) = -1.f;
  b(0) = 1.f, b(1) = nan, b(2) = 3.f, b(3) = -2.f;
  out = mae::maximum(a, b);
  CHECK(std::isnan(out(0)));
  CHECK(std::isnan(out(1)));
  CHECK(out(2) == 3.f);
  CHECK(out(3) == -1.f);
  out = mae::minimum(a, b);
  CHECK(std::isnan(out(0)));
  CHECK(std::isnan(out(1)));
  CHECK(out(2) == 2.f);
  CHECK(out(3) == -2.f);
}

TEST_CASE("broadcasting: rank-different operands, size-1 axes, dyn batch") {
  Tensor<float, Shape<dyn, 49, 8>> x({3, 49, 8});
  Tensor<float, Shape<8>> bias;
  Tensor<float, Shape<dyn, 1, 1>> per_sample({3, 1, 1});
  Tensor<float, Shape<49, 1>> per_token;
  randomize(x, 4);
  randomize(bias, 5);
  randomize(per_sample, 6);
  randomize(per_token, 7);
  auto y = mae::eval(x * per_sample + bias - per_token);
  static_assert(std::is_same_v<decltype(y), Tensor<float, Shape<dyn, 49, 8>>>);
  REQUIRE(y.dims() == std::array<std::size_t, 3>{3, 49, 8});
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t l = 0; l < 49; ++l)
      for (std::size_t d = 0; d < 8; ++d)
        CHECK(y(n, l, d) == x(n, l, d) * per_sample(n, 0, 0) + bias(d) - per_token(l, 0));

  // Outer product: (3,1,5) * (4,1) -> (3,4,5); both operands stretch.
  Tensor<float, Shape<3, 1, 5>> p;
  Tensor<float, Shape<4, 1>> q;
  randomize(p, 8);
  randomize(q, 9);
  auto outer = mae::eval(p * q);
  static_assert(std::is_same_v<decltype(outer)::shape, Shape<3, 4, 5>>);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      for (std::size_t k = 0; k < 5; ++k) CHECK(outer(i, j, k) == p(i, 0, k) * q(j, 0));

  // A dyn extent of 1 at run time stretches like a static 1.
  Tensor<float, Shape<dyn, 8>> one_row({1, 8});
  randomize(one_row, 10);
  Tensor<float, Shape<dyn, 8>> rows({5, 8});
  rows = one_row + 0.f;
  CHECK(rows(4, 7) == one_row(0, 7));
}

TEST_CASE("a dyn mismatch throws mae::error naming the op and both shapes") {
  Tensor<float, Shape<dyn, 49, 128>> a({64, 49, 128});
  Tensor<float, Shape<dyn, dyn, 128>> b({64, 50, 128});
  CHECK_THROWS_WITH_AS(a + b, "add: shapes (64,49,128) and (64,50,128) do not broadcast", mae::error);
  CHECK_THROWS_WITH_AS(a - b, "sub: shapes (64,49,128) and (64,50,128) do not broadcast", mae::error);
  CHECK_THROWS_WITH_AS(b * a, "mul: shapes (64,50,128) and (64,49,128) do not broadcast", mae::error);
  CHECK_THROWS_WITH_AS(a / b, "div: shapes (64,49,128) and (64,50,128) do not broadcast", mae::error);
  // In a nested expression the failing node reports its own operands.
  CHECK_THROWS_WITH_AS((a * 2.f) + b, "add: shapes (64,49,128) and (64,50,128) do not broadcast", mae::error);
  // Assignment: the expression must broadcast to the destination, which never stretches.
  Tensor<float, Shape<dyn, dyn, 128>> small({64, 7, 128});
  CHECK_THROWS_WITH_AS(small = a, "assign: cannot broadcast (64,49,128) to (64,7,128)", mae::error);
  Tensor<float, Shape<dyn, 49, 128>> c({32, 49, 128});
  CHECK_THROWS_WITH_AS(c = a + 1.f, "assign: cannot broadcast (64,49,128) to (32,49,128)", mae::error);
}

TEST_CASE("in-place update and strided destinations") {
  Tensor<float, Shape<6, 5>> x;
  randomize(x, 11);
  Tensor<float, Shape<6, 5>> before;
  before.copy_from(x);  // copies between tensors of one type are explicit
  x = x * 2.f + 1.f;  // reads and writes the same elements
  CHECK(x(5, 4) == before(5, 4) * 2.f + 1.f);

  Tensor<float, Shape<5, 6>> t;
  mae::assign(mae::permute<1, 0>(t), before);  // t = beforeᵀ written through a strided view
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t j = 0; j < 5; ++j) CHECK(t(j, i) == before(i, j));

  Tensor<float, Shape<6, 5>> back;
  back = mae::permute<1, 0>(t) - before;  // a strided leaf in a contiguous destination
  for (std::size_t i = 0; i < back.size(); ++i) CHECK(back.data()[i] == 0.f);

  mae::assign(mae::slice<1>(x, 1, 3), 0.f);  // columns 1..3 only
  CHECK(x(2, 0) == before(2, 0) * 2.f + 1.f);
  CHECK(x(2, 1) == 0.f);
  CHECK(x(2, 3) == 0.f);
  CHECK(x(2, 4) == before(2, 4) * 2.f + 1.f);
}

TEST_CASE("rank-0 tensors and empty tensors") {
  Tensor<float, Shape<>> s;
  s = 3.f;
  CHECK(s() == 3.f);
  Tensor<float, Shape<2, 2>> m;
  m = s * 2.f;  // a rank-0 tensor broadcasts like a number
  CHECK(m(1, 1) == 6.f);
  s = s + s;
  CHECK(s() == 6.f);
  Tensor<float, Shape<dyn, 4>> empty({0, 4});
  empty = empty + 1.f;  // nothing to do, nothing touched
  CHECK(empty.size() == 0);
}

TEST_CASE("large tensors: the parallel, chunked and generic paths agree with a plain loop") {
  // Long rows (more than one chunk), many rows, a broadcast column (stride 0 along the last axis) and a
  // transposed leaf (stride != 1 along the last axis).
  Tensor<float, Shape<dyn, 20000>> a({3, 20000});
  Tensor<float, Shape<20000>> row;
  Tensor<float, Shape<dyn, 1>> col({3, 1});
  randomize(a, 12);
  randomize(row, 13);
  randomize(col, 14);
  Tensor<float, Shape<dyn, 20000>> out({3, 20000});
  out = (a + row) * col;
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 20000; ++j) wrong += out(i, j) != (a(i, j) + row(j)) * col(i, 0);
  CHECK(wrong == 0);

  Tensor<float, Shape<300, 257>> m;
  randomize(m, 15);
  Tensor<float, Shape<257, 300>> mt;
  mt = mae::permute<1, 0>(m) * 3.f;
  wrong = 0;
  for (std::size_t i = 0; i < 300; ++i)
    for (std::size_t j = 0; j < 257; ++j) wrong += mt(j, i) != m(i, j) * 3.f;
  CHECK(wrong == 0);
}
