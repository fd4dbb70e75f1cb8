// linear and the element-wise kernels: forward against naive loops, backward by float64 gradcheck.
#include <doctest/doctest.h>

#include "mae/backend/cpu/elementwise.hpp"
#include "mae/backend/cpu/linear.hpp"
#include "test_kernels_support.hpp"

using namespace kernel_test;

TEST_CASE("linear_forward matches x·Wᵀ + b, with and without bias") {
  struct S {
    std::size_t rows, in, out;
  };
  for (const S s : {S{7, 13, 5}, S{1, 1, 1}, S{1, 4, 3}, S{130, 70, 90}})
    for (const bool bias : {true, false}) {
      const std::uint64_t seed = 11 + s.rows + s.in + bias;
      Rng rng(seed);
      INFO("seed " << seed << " rows " << s.rows << " in " << s.in << " out " << s.out << " bias " << bias);
      const vec x = rng.uniform(s.rows * s.in), W = rng.uniform(s.out * s.in), b = rng.uniform(s.out);
      vec y(s.rows * s.out), expected(s.rows * s.out);
      for (std::size_t r = 0; r < s.rows; ++r)
        for (std::size_t o = 0; o < s.out; ++o) {
          double acc = bias ? b[o] : 0;
          for (std::size_t i = 0; i < s.in; ++i) acc += x[r * s.in + i] * W[o * s.in + i];
          expected[r * s.out + o] = acc;
        }
      mae::cpu::linear_forward(x.data(), W.data(), bias ? b.data() : nullptr, y.data(), s.rows, s.in, s.out);
      check_close(y, expected, 1e-12, 1e-12, "linear_forward");
    }
}

TEST_CASE("linear_backward gradcheck (x, W, b), accumulating") {
  struct S {
    std::size_t rows, in, out;
  };
  for (const S s : {S{7, 13, 5}, S{1, 3, 2}, S{40, 9, 11}}) {
    const std::uint64_t seed = 21 + s.rows;
    Rng rng(seed);
    INFO("seed " << seed << " rows " << s.rows << " in " << s.in << " out " << s.out);
    vec x = rng.uniform(s.rows * s.in), W = rng.uniform(s.out * s.in), b = rng.uniform(s.out);
    const vec R = rng.uniform(s.rows * s.out);
    const vec dx0 = rng.uniform(x.size()), dW0 = rng.uniform(W.size()), db0 = rng.uniform(b.size());
    vec dx = dx0, dW = dW0, db = db0, y(R.size());
    mae::cpu::linear_backward(x.data(), W.data(), R.data(), dx.data(), dW.data(), db.data(), s.rows, s.in, s.out);
    const auto projected = [&] {
      mae::cpu::linear_forward(x.data(), W.data(), b.data(), y.data(), s.rows, s.in, s.out);
      return dot(R, y);
    };
    gradcheck("linear dx", x, added(dx, dx0), projected);
    gradcheck("linear dW", W, added(dW, dW0), projected);
    gradcheck("linear db", b, added(db, db0), projected);

    // Null dx and db are skipped; dW is still accumulated identically.
    vec dW_only = dW0;
    mae::cpu::linear_backward<double>(x.data(), W.data(), R.data(), nullptr, dW_only.data(), nullptr, s.rows, s.in,
                                      s.out);
    CHECK(dW_only == dW);
  }
}

TEST_CASE("element-wise kernels match their definitions") {
  Rng rng(31);
  INFO("seed 31");
  for (const std::size_t n : {std::size_t(1), std::size_t(13), std::size_t(70000)}) {
    const vec a = rng.uniform(n), b = rng.uniform(n);
    vec y(n), sum(n), diff(n), prod(n), scaled(n), acc = a, ax = a;
    for (std::size_t i = 0; i < n; ++i) {
      sum[i] = a[i] + b[i];
      diff[i] = a[i] - b[i];
      prod[i] = a[i] * b[i];
      scaled[i] = -1.5 * a[i];
    }
    mae::cpu::add(a.data(), b.data(), y.data(), n);
    CHECK(y == sum);
    mae::cpu::sub(a.data(), b.data(), y.data(), n);
    CHECK(y == diff);
    mae::cpu::mul(a.data(), b.data(), y.data(), n);
    CHECK(y == prod);
    mae::cpu::scale(-1.5, a.data(), y.data(), n);
    CHECK(y == scaled);
    mae::cpu::accumulate(acc.data(), b.data(), n);
    CHECK(acc == sum);
    mae::cpu::axpy(-1.0, b.data(), ax.data(), n);
    CHECK(ax == diff);
  }
}

TEST_CASE("mul_backward gradcheck") {
  for (const std::size_t n : {std::size_t(1), std::size_t(13)}) {
    const std::uint64_t seed = 41 + n;
    Rng rng(seed);
    INFO("seed " << seed << " n " << n);
    vec a = rng.uniform(n), b = rng.uniform(n), y(n);
    const vec R = rng.uniform(n), da0 = rng.uniform(n), db0 = rng.uniform(n);
    vec da = da0, db = db0;
    mae::cpu::mul_backward(a.data(), b.data(), R.data(), da.data(), db.data(), n);
    const auto projected = [&] {
      mae::cpu::mul(a.data(), b.data(), y.data(), n);
      return dot(R, y);
    };
    gradcheck("mul da", a, added(da, da0), projected);
    gradcheck("mul db", b, added(db, db0), projected);
  }
}

TEST_CASE("add_rowvec forward and its backward (accumulate, sum_outer_accumulate) gradcheck") {
  struct S {
    std::size_t outer, inner;
  };
  for (const S s : {S{7, 13}, S{1, 1}, S{1, 5}, S{30, 70}}) {
    const std::uint64_t seed = 51 + s.outer;
    Rng rng(seed);
    INFO("seed " << seed << " outer " << s.outer << " inner " << s.inner);
    vec x = rng.uniform(s.outer * s.inner), row = rng.uniform(s.inner), y(x.size()), expected(x.size());
    for (std::size_t o = 0; o < s.outer; ++o)
      for (std::size_t i = 0; i < s.inner; ++i) expected[o * s.inner + i] = x[o * s.inner + i] + row[i];
    mae::cpu::add_rowvec(x.data(), row.data(), y.data(), s.outer, s.inner);
    CHECK(y == expected);

    const vec R = rng.uniform(y.size()), dx0 = rng.uniform(x.size()), drow0 = rng.uniform(row.size());
    vec dx = dx0, drow = drow0;
    mae::cpu::accumulate(dx.data(), R.data(), R.size());
    mae::cpu::sum_outer_accumulate(R.data(), drow.data(), s.outer, s.inner);
    const auto projected = [&] {
      mae::cpu::add_rowvec(x.data(), row.data(), y.data(), s.outer, s.inner);
      return dot(R, y);
    };
    gradcheck("add_rowvec dx", x, added(dx, dx0), projected);
    gradcheck("add_rowvec drow", row, added(drow, drow0), projected);
  }
}

TEST_CASE("sum_outer_accumulate on the parallel path (several column blocks, many row chunks)") {
  const std::size_t outer = 3000, inner = 150;
  Rng rng(57);
  INFO("seed 57");
  const vec dy = rng.uniform(outer * inner), drow0 = rng.uniform(inner);
  vec drow = drow0, expected = drow0;
  for (std::size_t o = 0; o < outer; ++o)
    for (std::size_t i = 0; i < inner; ++i) expected[i] += dy[o * inner + i];
  mae::cpu::sum_outer_accumulate(dy.data(), drow.data(), outer, inner);
  check_close(drow, expected, 1e-12, 1e-12, "sum_outer_accumulate");
}
