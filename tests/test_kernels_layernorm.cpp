// LayerNorm: forward against the definition (biased variance, eps inside the sqrt), backward by gradcheck.
#include <doctest/doctest.h>

#include "mae/backend/cpu/layernorm.hpp"
#include "test_kernels_support.hpp"

using namespace kernel_test;

namespace {

struct S {
  std::size_t rows, cols;
};

}  // namespace

TEST_CASE("layernorm_forward matches the definition and saves mean and 1/std") {
  for (const S s : {S{7, 13}, S{1, 1}, S{1, 5}, S{300, 70}}) {
    const std::uint64_t seed = 61 + s.rows + s.cols;
    Rng rng(seed);
    INFO("seed " << seed << " rows " << s.rows << " cols " << s.cols);
    const double eps = 1e-5;
    const vec x = rng.uniform(s.rows * s.cols, -2, 3), w = rng.uniform(s.cols), b = rng.uniform(s.cols);
    vec y(x.size()), mean(s.rows), rstd(s.rows), y_ref(x.size()), mean_ref(s.rows), rstd_ref(s.rows);
    for (std::size_t r = 0; r < s.rows; ++r) {
      double m = 0, v = 0;
      for (std::size_t c = 0; c < s.cols; ++c) m += x[r * s.cols + c];
      m /= double(s.cols);
      for (std::size_t c = 0; c < s.cols; ++c) v += (x[r * s.cols + c] - m) * (x[r * s.cols + c] - m);
      v /= double(s.cols);  // biased, as torch.nn.LayerNorm
      mean_ref[r] = m;
      rstd_ref[r] = 1 / std::sqrt(v + eps);
      for (std::size_t c = 0; c < s.cols; ++c)
        y_ref[r * s.cols + c] = (x[r * s.cols + c] - m) * rstd_ref[r] * w[c] + b[c];
    }
    mae::cpu::layernorm_forward(x.data(), w.data(), b.data(), y.data(), mean.data(), rstd.data(), s.rows, s.cols, eps);
    check_close(y, y_ref, 1e-12, 1e-12, "layernorm y");
    check_close(mean, mean_ref, 1e-12, 1e-12, "layernorm mean");
    check_close(rstd, rstd_ref, 1e-12, 1e-12, "layernorm rstd");
  }
}

TEST_CASE("layernorm_backward gradcheck (x, w, b), accumulating; null outputs are skipped") {
  for (const S s : {S{7, 13}, S{1, 5}, S{3, 3}, S{150, 70}}) {
    const std::uint64_t seed = 71 + s.rows + s.cols;
    Rng rng(seed);
    INFO("seed " << seed << " rows " << s.rows << " cols " << s.cols);
    const double eps = 1e-6;
    vec x = rng.uniform(s.rows * s.cols, -2, 3), w = rng.uniform(s.cols), b = rng.uniform(s.cols);
    const vec R = rng.uniform(x.size()), dx0 = rng.uniform(x.size()), dw0 = rng.uniform(s.cols),
              db0 = rng.uniform(s.cols);
    vec y(x.size()), mean(s.rows), rstd(s.rows), dx = dx0, dw = dw0, db = db0;
    mae::cpu::layernorm_forward(x.data(), w.data(), b.data(), y.data(), mean.data(), rstd.data(), s.rows, s.cols, eps);
    mae::cpu::layernorm_backward(x.data(), w.data(), mean.data(), rstd.data(), R.data(), dx.data(), dw.data(),
                                 db.data(), s.rows, s.cols);
    const auto projected = [&] {
      vec m(s.rows), r(s.rows);
      mae::cpu::layernorm_forward(x.data(), w.data(), b.data(), y.data(), m.data(), r.data(), s.rows, s.cols, eps);
      return dot(R, y);
    };
    gradcheck("layernorm dx", x, added(dx, dx0), projected);
    gradcheck("layernorm dw", w, added(dw, dw0), projected);
    gradcheck("layernorm db", b, added(db, db0), projected);

    vec dx_only = dx0, dw_only = dw0;
    mae::cpu::layernorm_backward<double>(x.data(), w.data(), mean.data(), rstd.data(), R.data(), dx_only.data(),
                                         nullptr, nullptr, s.rows, s.cols);
    CHECK(dx_only == dx);
    mae::cpu::layernorm_backward<double>(x.data(), w.data(), mean.data(), rstd.data(), R.data(), nullptr,
                                         dw_only.data(), nullptr, s.rows, s.cols);
    CHECK(dw_only == dw);
  }
}
