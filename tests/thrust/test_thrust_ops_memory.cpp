// Thrust backend vs CPU backend: memory, element-wise and reduction kernels, masking (bitwise) and AdamW.
#include <limits>

#include "support.hpp"

using namespace mae;
using namespace mae::test;

TEST_CASE_TEMPLATE("memory kernels equal the CPU backend's", T, float, double) {
  const std::size_t n = 1000;
  auto src = random_vector<T>(n, 1);
  std::vector<T> a(n, T(7)), b(n, T(7));
  TK::copy(src.data(), a.data(), n);
  CHECK(a == src);
  TK::zero(a.data(), n);
  CHECK(a == std::vector<T>(n, T(0)));
  TK::fill(a.data(), n, T(2.5));
  CHECK(a == std::vector<T>(n, T(2.5)));
  CHECK(TK::read_scalar(src.data() + 3) == static_cast<double>(src[3]));

  CHECK(TK::all_finite(src.data(), n));
  CHECK(TK::all_finite(src.data(), 0));
  auto bad = src;
  bad[n - 1] = std::numeric_limits<T>::infinity();
  CHECK_FALSE(TK::all_finite(bad.data(), n));
  bad[n - 1] = std::numeric_limits<T>::quiet_NaN();
  CHECK_FALSE(TK::all_finite(bad.data(), n));

  // 7 blocks of 13 with strides 20 -> 17, then a repeated block (src stride 0), then accumulation.
  std::vector<T> ca(200, T(-1)), ta(200, T(-1));
  CK::copy_blocks(src.data(), 20, ca.data(), 17, 13, 7);
  TK::copy_blocks(src.data(), 20, ta.data(), 17, 13, 7);
  CHECK(ca == ta);
  CK::copy_blocks(src.data(), 0, ca.data() + 120, 13, 13, 5);
  TK::copy_blocks(src.data(), 0, ta.data() + 120, 13, 13, 5);
  CHECK(ca == ta);
  CK::accumulate_blocks(src.data() + 5, 31, ca.data(), 19, 11, 9);
  TK::accumulate_blocks(src.data() + 5, 31, ta.data(), 19, 11, 9);
  CHECK(ca == ta);
}

TEST_CASE_TEMPLATE("element-wise and broadcast kernels equal the CPU backend's", T, float, double) {
  const std::size_t outer = 301, inner = 37, n = outer * inner;  // outer > 2 row chunks
  const auto x = random_vector<T>(n, 2), row = random_vector<T>(inner, 3);
  const auto y0 = random_vector<T>(n, 4);

  auto check_binary = [&](const char* what, auto cpu, auto thr) {
    auto c = y0, t = y0;
    cpu(c.data());
    thr(t.data());
    CHECK_CLOSE_TO_CPU(what, t, c);
  };
  check_binary("accumulate", [&](T* y) { CK::accumulate(y, x.data(), n); }, [&](T* y) { TK::accumulate(y, x.data(), n); });
  check_binary("axpy", [&](T* y) { CK::axpy(T(-0.75), x.data(), y, n); }, [&](T* y) { TK::axpy(T(-0.75), x.data(), y, n); });
  check_binary("add_rowvec", [&](T* y) { CK::add_rowvec(x.data(), row.data(), y, outer, inner); },
               [&](T* y) { TK::add_rowvec(x.data(), row.data(), y, outer, inner); });
  check_binary("add_rowvec in place", [&](T* y) { CK::add_rowvec(y, row.data(), y, outer, inner); },
               [&](T* y) { TK::add_rowvec(y, row.data(), y, outer, inner); });
  check_binary("sub_rowvec", [&](T* y) { CK::sub_rowvec(x.data(), row.data(), y, outer, inner); },
               [&](T* y) { TK::sub_rowvec(x.data(), row.data(), y, outer, inner); });
  check_binary("mul_rowvec", [&](T* y) { CK::mul_rowvec(x.data(), row.data(), y, outer, inner); },
               [&](T* y) { TK::mul_rowvec(x.data(), row.data(), y, outer, inner); });
  check_binary("mul_rowvec_accumulate", [&](T* y) { CK::mul_rowvec_accumulate(x.data(), row.data(), y, outer, inner); },
               [&](T* y) { TK::mul_rowvec_accumulate(x.data(), row.data(), y, outer, inner); });
  check_binary("scale", [&](T* y) { CK::scale(y, T(1.5), n); }, [&](T* y) { TK::scale(y, T(1.5), n); });
  const T s[1] = {T(0.3)};
  check_binary("add_scalar_from", [&](T* y) { CK::add_scalar_from(s, T(-2), y, n); },
               [&](T* y) { TK::add_scalar_from(s, T(-2), y, n); });

  auto cd = row, td = row;
  CK::sum_outer_accumulate(x.data(), cd.data(), outer, inner);
  TK::sum_outer_accumulate(x.data(), td.data(), outer, inner);
  CHECK_CLOSE_TO_CPU("sum_outer_accumulate", td, cd);

  std::vector<T> cs(1), ts(1);
  CK::sum(x.data(), n, T(0.5), cs.data());
  TK::sum(x.data(), n, T(0.5), ts.data());
  CHECK(std::abs(double(ts[0]) - double(cs[0])) <= tolerance<T> * (std::abs(double(cs[0])) + 1));
  const double css = CK::sum_squares(x.data(), n), tss = TK::sum_squares(x.data(), n);
  CHECK(std::abs(tss - css) <= 1e-12 * css);
}

TEST_CASE("fill_uniform draws the library's Philox stream bit for bit") {
  for (std::size_t n : {1u, 3u, 4u, 1001u}) {
    std::vector<float> c(n), t(n);
    CK::fill_uniform(c.data(), n, 12345, 7);
    TK::fill_uniform(t.data(), n, 12345, 7);
    CHECK(c == t);
    CHECK(t[0] == uniform_at(12345, 7, 0));
  }
}

TEST_CASE("random_masking gives the CPU backend's ids, ties included") {
  const std::size_t batch = 37, tokens = 49, keep = 12, n = batch * tokens;
  std::vector<float> noise(n);
  CK::fill_uniform(noise.data(), n, 99, 3);
  // Ties: whole runs of equal noise, -0 against +0, and a sample that is constant.
  for (std::size_t i = 0; i < n; i += 5) noise[i] = 0.5f;
  noise[7] = -0.0f;
  noise[8] = 0.0f;
  for (std::size_t t = 0; t < tokens; ++t) noise[3 * tokens + t] = 0.25f;

  struct Ids {
    std::vector<std::int32_t> shuffle, restore, keep;
    std::vector<float> mask;
    explicit Ids(std::size_t n, std::size_t nk) : shuffle(n), restore(n), keep(nk), mask(n) {}
    MaskIndices<float> view() { return {shuffle.data(), restore.data(), keep.data(), mask.data()}; }
  };
  Ids c(n, batch * keep), t(n, batch * keep);
  CK::random_masking(noise.data(), batch, tokens, keep, c.view());
  TK::random_masking(noise.data(), batch, tokens, keep, t.view());
  CHECK(c.shuffle == t.shuffle);
  CHECK(c.restore == t.restore);
  CHECK(c.keep == t.keep);
  CHECK(c.mask == t.mask);
  for (std::size_t k = 0; k < keep; ++k) CHECK(t.keep[3 * keep + k] == static_cast<std::int32_t>(k));  // constant row
  double removed = 0;
  for (float m : t.mask) removed += m;
  CHECK(removed == double(batch * (tokens - keep)));
}

TEST_CASE_TEMPLATE("adamw_step follows the CPU backend over several steps", T, float, double) {
  const std::size_t n = 5000;
  auto pc = random_vector<T>(n, 5), pt = pc;
  std::vector<T> mc(n, T(0)), vc(n, T(0)), mt(n, T(0)), vt(n, T(0));
  for (long step = 1; step <= 4; ++step) {
    const auto g = random_vector<T>(n, 100 + std::uint64_t(step));
    CK::adamw_step(pc.data(), g.data(), mc.data(), vc.data(), n, T(1e-3), T(0.9), T(0.95), T(1e-8), T(0.05), step);
    TK::adamw_step(pt.data(), g.data(), mt.data(), vt.data(), n, T(1e-3), T(0.9), T(0.95), T(1e-8), T(0.05), step);
  }
  CHECK_CLOSE_TO_CPU("param", pt, pc);
  CHECK_CLOSE_TO_CPU("exp_avg", mt, mc);
  CHECK_CLOSE_TO_CPU("exp_avg_sq", vt, vc);
  CHECK_THROWS_AS(TK::adamw_step(pt.data(), pt.data(), mt.data(), vt.data(), n, T(1e-3), T(0.9), T(0.95), T(1e-8),
                                 T(0.05), 0),
                  mae::error);
}
