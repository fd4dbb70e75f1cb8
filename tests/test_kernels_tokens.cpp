// Token gather/scatter and patchify/unpatchify/patchify_conv.
#include <doctest/doctest.h>

#include "mae/backend/cpu/gather.hpp"
#include "mae/backend/cpu/linear.hpp"
#include "mae/backend/cpu/patch.hpp"
#include "test_kernels_support.hpp"

using namespace kernel_test;

TEST_CASE("gather_tokens picks rows; scatter_add_tokens is its backward (gradcheck, repeated indices)") {
  struct S {
    std::size_t B, Nin, Nout, D;
  };
  for (const S s : {S{2, 7, 9, 5}, S{1, 4, 4, 1}, S{3, 49, 12, 16}, S{1, 1, 3, 2}}) {
    const std::uint64_t seed = 151 + s.Nin;
    Rng rng(seed);
    INFO("seed " << seed << " B " << s.B << " Nin " << s.Nin << " Nout " << s.Nout << " D " << s.D);
    std::vector<std::int32_t> idx(s.B * s.Nout);
    for (auto& i : idx) i = rng.index(std::int32_t(s.Nin));  // with Nout > Nin some indices repeat
    vec x = rng.uniform(s.B * s.Nin * s.D), y(s.B * s.Nout * s.D);
    mae::cpu::gather_tokens(x.data(), idx.data(), y.data(), s.B, s.Nin, s.Nout, s.D);
    for (std::size_t b = 0; b < s.B; ++b)
      for (std::size_t k = 0; k < s.Nout; ++k)
        for (std::size_t c = 0; c < s.D; ++c)
          CHECK(y[(b * s.Nout + k) * s.D + c] == x[(b * s.Nin + std::size_t(idx[b * s.Nout + k])) * s.D + c]);

    const vec R = rng.uniform(y.size()), dx0 = rng.uniform(x.size());
    vec dx = dx0;
    mae::cpu::scatter_add_tokens(R.data(), idx.data(), dx.data(), s.B, s.Nin, s.Nout, s.D);
    gradcheck("gather dx", x, added(dx, dx0), [&] {
      mae::cpu::gather_tokens(x.data(), idx.data(), y.data(), s.B, s.Nin, s.Nout, s.D);
      return dot(R, y);
    });
  }
}

TEST_CASE("gather/scatter reject out-of-range indices with a mae::error naming the op") {
  vec x(2 * 3 * 4), y(2 * 2 * 4);
  std::vector<std::int32_t> idx = {0, 2, 1, 3};  // 3 is outside [0, 3)
  CHECK_THROWS_WITH_AS(mae::cpu::gather_tokens(x.data(), idx.data(), y.data(), 2, 3, 2, 4),
                       doctest::Contains("gather_tokens: index 3 at (batch 1, position 1)"), mae::error);
  idx[3] = -1;
  CHECK_THROWS_WITH_AS(mae::cpu::scatter_add_tokens(y.data(), idx.data(), x.data(), 2, 3, 2, 4),
                       doctest::Contains("scatter_add_tokens: index -1"), mae::error);
}

namespace {

struct Img {
  std::size_t B, C, H, W, p;
};

}  // namespace

TEST_CASE("patchify is einsum nchpwq->nhwpqc; unpatchify inverts it; patchify_conv is channel-major") {
  for (const Img s : {Img{2, 3, 8, 12, 4}, Img{1, 1, 28, 28, 4}, Img{1, 2, 3, 3, 1}, Img{1, 3, 6, 6, 6}}) {
    const std::uint64_t seed = 161 + s.H;
    Rng rng(seed);
    INFO("seed " << seed << " B " << s.B << " C " << s.C << " H " << s.H << " W " << s.W << " p " << s.p);
    const std::size_t h = s.H / s.p, w = s.W / s.p, L = h * w, P = s.p * s.p * s.C;
    const vec img = rng.uniform(s.B * s.C * s.H * s.W);
    vec patches(s.B * L * P), conv_rows(s.B * L * P), back(img.size());
    mae::cpu::patchify(img.data(), patches.data(), s.B, s.C, s.H, s.W, s.p);
    mae::cpu::patchify_conv(img.data(), conv_rows.data(), s.B, s.C, s.H, s.W, s.p);
    // x.reshape(n, c, h, p, w, q) -> einsum('nchpwq->nhwpqc') -> reshape(n, h*w, p*p*c)
    for (std::size_t n = 0; n < s.B; ++n)
      for (std::size_t c = 0; c < s.C; ++c)
        for (std::size_t i = 0; i < h; ++i)
          for (std::size_t pi = 0; pi < s.p; ++pi)
            for (std::size_t j = 0; j < w; ++j)
              for (std::size_t pj = 0; pj < s.p; ++pj) {
                const double v = img[((n * s.C + c) * s.H + i * s.p + pi) * s.W + j * s.p + pj];
                const std::size_t token = n * L + i * w + j;
                CHECK(patches[token * P + (pi * s.p + pj) * s.C + c] == v);
                CHECK(conv_rows[token * P + (c * s.p + pi) * s.p + pj] == v);
              }
    mae::cpu::unpatchify(patches.data(), back.data(), s.B, s.C, s.H, s.W, s.p);
    CHECK(back == img);
  }
  vec a(1 * 1 * 6 * 6), b(36);
  CHECK_THROWS_WITH_AS(mae::cpu::patchify(a.data(), b.data(), 1, 1, 6, 6, 4),
                       doctest::Contains("patchify: image 6x6 is not a multiple of the patch size 4"), mae::error);
}

TEST_CASE("Conv2d(C, D, p, stride p) equals linear_forward on patchify_conv rows") {
  const Img s{2, 3, 8, 12, 4};
  const std::size_t D = 5, h = s.H / s.p, w = s.W / s.p, L = h * w, P = s.C * s.p * s.p;
  Rng rng(171);
  INFO("seed 171");
  const vec img = rng.uniform(s.B * s.C * s.H * s.W), weight = rng.uniform(D * P), bias = rng.uniform(D);
  vec rows(s.B * L * P), y(s.B * L * D);
  mae::cpu::patchify_conv(img.data(), rows.data(), s.B, s.C, s.H, s.W, s.p);
  mae::cpu::linear_forward(rows.data(), weight.data(), bias.data(), y.data(), s.B * L, P, D);
  for (std::size_t n = 0; n < s.B; ++n)
    for (std::size_t o = 0; o < D; ++o)
      for (std::size_t i = 0; i < h; ++i)
        for (std::size_t j = 0; j < w; ++j) {
          double acc = bias[o];  // weight (D, C, p, p), as torch.nn.Conv2d
          for (std::size_t c = 0; c < s.C; ++c)
            for (std::size_t pi = 0; pi < s.p; ++pi)
              for (std::size_t pj = 0; pj < s.p; ++pj)
                acc += weight[((o * s.C + c) * s.p + pi) * s.p + pj] *
                       img[((n * s.C + c) * s.H + i * s.p + pi) * s.W + j * s.p + pj];
          CHECK(y[(n * L + i * w + j) * D + o] == doctest::Approx(acc).epsilon(1e-12));
        }
}
