// GELU (erf form) and softmax: forward against the definitions, backward by gradcheck, and the float fast
// paths (vectorizable exp and normal cdf) against double.
#include <doctest/doctest.h>

#include <cstring>

#include "mae/backend/cpu/activation.hpp"
#include "mae/backend/cpu/elementwise.hpp"
#include "test_kernels_support.hpp"

using namespace kernel_test;

TEST_CASE("gelu_forward is x Φ(x) with the exact erf") {
  Rng rng(81);
  INFO("seed 81");
  const vec x = rng.uniform(1001, -8, 8);
  vec y(x.size()), expected(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) expected[i] = 0.5 * x[i] * (1 + std::erf(x[i] / std::sqrt(2.0)));
  mae::cpu::gelu_forward(x.data(), y.data(), x.size());
  check_close(y, expected, 1e-14, 1e-15, "gelu");
}

TEST_CASE("gelu_backward gradcheck, accumulating") {
  for (const std::size_t n : {std::size_t(1), std::size_t(13), std::size_t(200)}) {
    const std::uint64_t seed = 91 + n;
    Rng rng(seed);
    INFO("seed " << seed << " n " << n);
    vec x = rng.uniform(n, -4, 4), y(n);
    const vec R = rng.uniform(n), dx0 = rng.uniform(n);
    vec dx = dx0;
    mae::cpu::gelu_backward(x.data(), R.data(), dx.data(), n);
    gradcheck("gelu dx", x, added(dx, dx0), [&] {
      mae::cpu::gelu_forward(x.data(), y.data(), n);
      return dot(R, y);
    });
  }
}

TEST_CASE("softmax_forward matches the definition, also for large logits") {
  struct S {
    std::size_t rows, cols;
  };
  for (const S s : {S{7, 13}, S{1, 1}, S{1, 5}, S{4, 50}}) {
    const std::uint64_t seed = 101 + s.cols;
    Rng rng(seed);
    INFO("seed " << seed << " rows " << s.rows << " cols " << s.cols);
    const vec x = rng.uniform(s.rows * s.cols, 500, 520);  // exp(x) alone would overflow
    vec y(x.size()), expected(x.size());
    for (std::size_t r = 0; r < s.rows; ++r) {
      double z = 0;
      for (std::size_t c = 0; c < s.cols; ++c) z += std::exp(x[r * s.cols + c] - 500);
      for (std::size_t c = 0; c < s.cols; ++c) expected[r * s.cols + c] = std::exp(x[r * s.cols + c] - 500) / z;
    }
    mae::cpu::softmax_forward(x.data(), y.data(), s.rows, s.cols);
    check_close(y, expected, 1e-12, 1e-15, "softmax");
  }
}

TEST_CASE("softmax_backward gradcheck, accumulating") {
  struct S {
    std::size_t rows, cols;
  };
  for (const S s : {S{7, 13}, S{1, 5}, S{1, 2}, S{4, 50}}) {
    const std::uint64_t seed = 111 + s.cols;
    Rng rng(seed);
    INFO("seed " << seed << " rows " << s.rows << " cols " << s.cols);
    vec x = rng.uniform(s.rows * s.cols, -3, 3), y(x.size());
    const vec R = rng.uniform(x.size()), dx0 = rng.uniform(x.size());
    vec dx = dx0;
    mae::cpu::softmax_forward(x.data(), y.data(), s.rows, s.cols);
    mae::cpu::softmax_backward(y.data(), R.data(), dx.data(), s.rows, s.cols);
    gradcheck("softmax dx", x, added(dx, dx0), [&] {
      mae::cpu::softmax_forward(x.data(), y.data(), s.rows, s.cols);
      return dot(R, y);
    });
  }
}

TEST_CASE("float fast paths: exp, GELU forward/backward and softmax within a few float ulps of double") {
  namespace d = mae::cpu::detail;
  double worst_exp = 0;
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f)
    worst_exp = std::max(worst_exp, std::abs(d::exp_float(x) - std::exp(double(x))) / std::exp(double(x)));
  CHECK(worst_exp < 2.5e-7);
  CHECK(d::exp_float(-90.0f) == 0.0f);
  CHECK(d::exp_float(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(d::exp_float(0.0f) == 1.0f);

  Rng rng(121);
  INFO("seed 121");
  const std::size_t n = 20000;
  const auto xf = rng.uniform_as<float>(n, -10, 10);
  const vec xd(xf.begin(), xf.end()), dy = rng.uniform(n);
  const std::vector<float> dyf(dy.begin(), dy.end());
  std::vector<float> yf(n), dxf(n, 0.0f);
  vec yd(n), dxd(n, 0.0);
  mae::cpu::gelu_forward(xf.data(), yf.data(), n);
  mae::cpu::gelu_forward(xd.data(), yd.data(), n);
  mae::cpu::gelu_backward(xf.data(), dyf.data(), dxf.data(), n);
  mae::cpu::gelu_backward(xd.data(), vec(dyf.begin(), dyf.end()).data(), dxd.data(), n);
  // PyTorch's own float tolerance for element-wise ops is rtol 1.3e-6, atol 1e-5; we stay well inside.
  check_close(vec(yf.begin(), yf.end()), yd, 1e-6, 1e-7, "float gelu");
  check_close(vec(dxf.begin(), dxf.end()), dxd, 1e-6, 1e-7, "float gelu backward");

  const std::size_t rows = 40, cols = 197;
  const auto sf = rng.uniform_as<float>(rows * cols, -20, 20);
  std::vector<float> pf(sf.size());
  vec pd(sf.size());
  mae::cpu::softmax_forward(sf.data(), pf.data(), rows, cols);
  mae::cpu::softmax_forward(vec(sf.begin(), sf.end()).data(), pd.data(), rows, cols);
  check_close(vec(pf.begin(), pf.end()), pd, 2e-6, 1e-12, "float softmax");
}

TEST_CASE("GELU's 16-lane AVX-512 loops give the bits of the build's own loops") {
  namespace d = mae::cpu::detail;
  if (!d::cpu_has_avx512f()) return;  // nothing to compare on this CPU
  Rng rng(131);
  INFO("seed 131");
  const std::size_t n = 4099;  // a masked 16-lane tail
  auto x = rng.uniform_as<float>(n, -12, 12);
  x[0] = 0.0f, x[1] = -0.0f, x[2] = 30.0f, x[3] = -30.0f, x[4] = 1e-30f;
  const auto dy = rng.uniform_as<float>(n, -1, 1), dx0 = rng.uniform_as<float>(n, -1, 1);
  std::vector<float> y_own(n), y_wide(n), dx_own = dx0, dx_wide = dx0, slope_own = x, slope_wide = x;
  d::gelu_forward_span(x.data(), y_own.data(), n);
  d::gelu_forward_avx512(x.data(), y_wide.data(), n);
  d::gelu_backward_span(x.data(), dy.data(), dx_own.data(), n);
  d::gelu_backward_avx512(x.data(), dy.data(), dx_wide.data(), n);
  CHECK(std::memcmp(y_own.data(), y_wide.data(), n * sizeof(float)) == 0);
  CHECK(std::memcmp(dx_own.data(), dx_wide.data(), n * sizeof(float)) == 0);
  d::gelu_value_slope_span(slope_own.data(), y_own.data(), n);
  d::gelu_value_slope_avx512(slope_wide.data(), y_wide.data(), n);
  CHECK(std::memcmp(y_own.data(), y_wide.data(), n * sizeof(float)) == 0);
  CHECK(std::memcmp(slope_own.data(), slope_wide.data(), n * sizeof(float)) == 0);
}

TEST_CASE("gelu_value_slope: gelu_forward's bits, and a slope that gives gelu_backward's bits") {
  Rng rng(137);
  INFO("seed 137");
  const std::size_t n = 100003;  // on the threads, with a tail
  auto x = rng.uniform_as<float>(n, -9, 9);
  const auto dy = rng.uniform_as<float>(n, -1, 1);
  std::vector<float> y(n), y_again(n), dx(n, 0.0f), slope = x, d = dy;
  mae::cpu::gelu_forward(x.data(), y.data(), n);
  mae::cpu::gelu_backward(x.data(), dy.data(), dx.data(), n);
  mae::cpu::gelu_value_slope(slope.data(), y_again.data(), n);
  mae::cpu::multiply(d.data(), slope.data(), n);
  CHECK(std::memcmp(y.data(), y_again.data(), n * sizeof(float)) == 0);
  CHECK(std::memcmp(dx.data(), d.data(), n * sizeof(float)) == 0);
}
