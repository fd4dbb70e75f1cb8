// GEMM against naive loops: every transpose combination, odd sizes, padded strides, alpha/beta cases, tiled
// shapes, batched products.
#include <doctest/doctest.h>

#include <limits>

#include "mae/backend/cpu/gemm.hpp"
#include "test_kernels_support.hpp"

using namespace kernel_test;

namespace {

struct Case {
  std::size_t M, N, K;
};

// C = alpha op(A) op(B) + beta C with A, B, C stored with row strides lda, ldb, ldc (padding untouched).
vec naive_gemm(bool ta, bool tb, const Case& s, double alpha, const vec& A, std::size_t lda, const vec& B,
               std::size_t ldb, double beta, vec C, std::size_t ldc) {
  for (std::size_t i = 0; i < s.M; ++i)
    for (std::size_t j = 0; j < s.N; ++j) {
      double acc = 0;
      for (std::size_t k = 0; k < s.K; ++k)
        acc += (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
      C[i * ldc + j] = alpha * acc + (beta == 0 ? 0 : beta * C[i * ldc + j]);
    }
  return C;
}

}  // namespace

TEST_CASE("gemm matches naive loops for all transposes, odd sizes and strides") {
  const Case cases[] = {{1, 1, 1},      {7, 13, 5},      {13, 7, 11},    {16, 16, 16}, {37, 53, 29},
                        {150, 97, 300}, {70, 200, 1500}, {200, 230, 40}, {5, 3, 0}};
  const double alphas[] = {1.0, -0.75};
  const double betas[] = {0.0, 1.0, 0.5};
  std::uint64_t seed = 100;
  for (const Case& s : cases)
    for (int t = 0; t < 4; ++t)
      for (double alpha : alphas)
        for (double beta : betas) {
          const bool ta = t & 1, tb = t & 2;
          Rng rng(++seed);
          INFO("seed " << seed << " M " << s.M << " N " << s.N << " K " << s.K << " transA " << ta << " transB " << tb
                       << " alpha " << alpha << " beta " << beta);
          // Stored shapes, each row padded by 3 elements to exercise the leading dimensions.
          const std::size_t a_rows = ta ? s.K : s.M, a_cols = ta ? s.M : s.K;
          const std::size_t b_rows = tb ? s.N : s.K, b_cols = tb ? s.K : s.N;
          const std::size_t lda = a_cols + 3, ldb = b_cols + 3, ldc = s.N + 3;
          const vec A = rng.uniform(a_rows * lda), B = rng.uniform(b_rows * ldb);
          vec C = rng.uniform(s.M * ldc);
          if (beta == 0)  // beta == 0 must not read C: NaN would leak through 0 * NaN
            for (auto& c : C) c = std::numeric_limits<double>::quiet_NaN();
          const vec expected = naive_gemm(ta, tb, s, alpha, A, lda, B, ldb, beta, C, ldc);
          mae::cpu::gemm(ta, tb, s.M, s.N, s.K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
          for (std::size_t i = 0; i < s.M; ++i)
            for (std::size_t j = 0; j < ldc; ++j) {
              const double e = expected[i * ldc + j], c = C[i * ldc + j];
              INFO("C[" << i << ", " << j << "] = " << c << ", expected " << e);
              if (j >= s.N && beta == 0)
                CHECK(std::isnan(c));  // padding is never written
              else
                CHECK(std::abs(c - e) <= 1e-12 * (1 + std::abs(e)) * double(s.K + 1));
            }
        }
}

TEST_CASE("gemm in float agrees with the double result") {
  const std::size_t M = 97, N = 130, K = 257;
  Rng rng(7);
  INFO("seed 7");
  const auto A = rng.uniform_as<float>(M * K), B = rng.uniform_as<float>(K * N);
  std::vector<float> C(M * N);
  mae::cpu::gemm(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N);
  const vec expected = naive_gemm(false, false, {M, N, K}, 1.0, vec(A.begin(), A.end()), K, vec(B.begin(), B.end()), N,
                                  0.0, vec(M * N), N);
  check_close(vec(C.begin(), C.end()), expected, 1e-4, 1e-4, "float gemm");
}

// K beyond either kernel's K block (Eigen's: up to 940 floats with AVX-512; the AVX-512 kernel's: 256) and an
// odd N (a full 32-column panel and a one-column one): several kc-deep blocks of packed op(B) in the shared
// buffer, in float as training runs.
TEST_CASE("float gemm with a deep K and odd N, every transpose") {
  const std::size_t M = 61, N = 33, K = 2001;
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    Rng rng(40 + std::uint64_t(t));
    INFO("seed " << 40 + t << " transA " << ta << " transB " << tb);
    const auto A = rng.uniform_as<float>(M * K), B = rng.uniform_as<float>(K * N);
    std::vector<float> C(M * N);
    mae::cpu::gemm(ta, tb, M, N, K, 1.0f, A.data(), ta ? M : K, B.data(), tb ? K : N, 0.0f, C.data(), N);
    const vec expected = naive_gemm(ta, tb, {M, N, K}, 1.0, vec(A.begin(), A.end()), ta ? M : K,
                                    vec(B.begin(), B.end()), tb ? K : N, 0.0, vec(M * N), N);
    check_close(vec(C.begin(), C.end()), expected, 1e-4, 1e-4, "deep float gemm");
  }
}

TEST_CASE("gemm_batched equals one gemm per product") {
  const Case cases[] = {{7, 13, 5}, {33, 40, 70}, {1, 1, 1}};
  for (const std::size_t batch : {1, 3, 20})
    for (const Case& s : cases)
      for (int t = 0; t < 4; ++t) {
        const bool ta = t & 1, tb = t & 2;
        const std::uint64_t seed = 1000 + batch * 10 + std::size_t(t);
        Rng rng(seed);
        INFO("seed " << seed << " batch " << batch << " M " << s.M << " N " << s.N << " K " << s.K);
        const std::size_t lda = ta ? s.M : s.K, ldb = tb ? s.K : s.N;
        const std::size_t sa = s.M * s.K + 2, sb = s.K * s.N + 5, sc = s.M * s.N + 1;  // gaps between products
        const vec A = rng.uniform(batch * sa), B = rng.uniform(batch * sb);
        vec C = rng.uniform(batch * sc), C_ref = C;
        mae::cpu::gemm_batched(ta, tb, s.M, s.N, s.K, 0.5, A.data(), lda, B.data(), ldb, 2.0, C.data(), s.N, batch, sa,
                               sb, sc);
        for (std::size_t i = 0; i < batch; ++i)
          mae::cpu::gemm(ta, tb, s.M, s.N, s.K, 0.5, A.data() + i * sa, lda, B.data() + i * sb, ldb, 2.0,
                         C_ref.data() + i * sc, s.N);
        CHECK(C == C_ref);
      }
}

TEST_CASE("the GEMM tiling depends on the shape only and covers C") {
  for (const Case s :
       {Case{6272, 384, 128}, Case{384, 128, 6272}, Case{64, 64, 6400}, Case{1, 1, 1}, Case{7, 500, 3}}) {
    const auto t = mae::cpu::detail::make_gemm_tiling(s.M, s.N, s.K);
    INFO("M " << s.M << " N " << s.N << " K " << s.K << ": tiles " << t.tiles_m << " x " << t.tiles_n << " of "
              << t.tile_m << " x " << t.tile_n);
    CHECK(t.tiles_m * t.tile_m >= s.M);
    CHECK((t.tiles_m - 1) * t.tile_m < s.M);
    CHECK(t.tiles_n * t.tile_n >= s.N);
    CHECK((t.tiles_n - 1) * t.tile_n < s.N);
  }
  // The weight-gradient shape of fmnist-tiny's qkv (M = out, K = batch x tokens) still gets parallel tiles.
  CHECK(mae::cpu::detail::make_gemm_tiling(384, 128, 6272).count() >= 4);
}
