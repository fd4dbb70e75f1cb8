// Every kernel gives bit-identical float results with 1 and 2 OpenMP threads, at sizes large enough to take
// the parallel paths (GEMM tiles, column-block reductions, attention slots, fixed-chunk loss sums).
#include <doctest/doctest.h>

#include <cstring>

#include "mae/backend/cpu/kernels.hpp"
#include "test_kernels_support.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace kernel_test;

namespace {

using fvec = std::vector<float>;

// Runs `run` (which fills its outputs from scratch: inputs are copied fresh each time) with 1 and 2 threads.
template <class Run>
void check_thread_independent(const std::string& what, const Run& run) {
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<fvec> one = run();
  omp_set_num_threads(2);
  const std::vector<fvec> two = run();
  omp_set_num_threads(saved);
  REQUIRE(one.size() == two.size());
  for (std::size_t k = 0; k < one.size(); ++k) {
    INFO(what << ": output " << k << " (" << one[k].size() << " floats)");
    REQUIRE(one[k].size() == two[k].size());
    CHECK(std::memcmp(one[k].data(), two[k].data(), one[k].size() * sizeof(float)) == 0);
  }
#else
  (void)what;
  (void)run;
  MESSAGE("built without OpenMP: nothing to compare");
#endif
}

}  // namespace

TEST_CASE("GEMM and linear are bit-identical with 1 and 2 threads") {
  Rng rng(231);
  INFO("seed 231");
  struct S {
    bool ta, tb;
    std::size_t M, N, K;
  };
  // fmnist-tiny's qkv forward, its input and weight gradients, a deep-K small-output weight gradient, 256^3.
  for (const S s : {S{false, true, 6272, 384, 128}, S{false, false, 6272, 128, 384}, S{true, false, 384, 128, 6272},
                    S{true, false, 64, 64, 6400}, S{false, false, 256, 256, 256}}) {
    const auto A = rng.uniform_as<float>(s.M * s.K), B = rng.uniform_as<float>(s.K * s.N);
    const auto C0 = rng.uniform_as<float>(s.M * s.N);
    check_thread_independent("gemm", [&] {
      fvec C = C0;
      mae::cpu::gemm(s.ta, s.tb, s.M, s.N, s.K, 1.0f, A.data(), s.ta ? s.M : s.K, B.data(), s.tb ? s.K : s.N, 0.5f,
                     C.data(), s.N);
      return std::vector<fvec>{C};
    });
  }
  const std::size_t rows = 3000, in = 128, out = 192;
  const auto x = rng.uniform_as<float>(rows * in), W = rng.uniform_as<float>(out * in), b = rng.uniform_as<float>(out);
  const auto dy = rng.uniform_as<float>(rows * out);
  check_thread_independent("linear", [&] {
    fvec y(rows * out), dx(rows * in, 0.0f), dW(out * in, 0.0f), db(out, 0.0f);
    mae::cpu::linear_forward(x.data(), W.data(), b.data(), y.data(), rows, in, out);
    mae::cpu::linear_backward(x.data(), W.data(), dy.data(), dx.data(), dW.data(), db.data(), rows, in, out);
    return std::vector<fvec>{y, dx, dW, db};
  });
  check_thread_independent("gemm_batched", [&] {
    fvec C(8 * 96 * 96, 0.0f);
    mae::cpu::gemm_batched(false, true, 96, 96, 128, 1.0f, x.data(), 128, x.data() + 100, 128, 0.0f, C.data(), 96, 8,
                           96 * 128, 96 * 128, 96 * 96);
    return std::vector<fvec>{C};
  });
}

TEST_CASE("layernorm, GELU, softmax, attention are bit-identical with 1 and 2 threads") {
  Rng rng(241);
  INFO("seed 241");
  const std::size_t rows = 4000, cols = 200;
  const auto x = rng.uniform_as<float>(rows * cols, -3, 3), dy = rng.uniform_as<float>(rows * cols);
  const auto w = rng.uniform_as<float>(cols), b = rng.uniform_as<float>(cols);
  check_thread_independent("layernorm", [&] {
    fvec y(rows * cols), mean(rows), rstd(rows), dx(rows * cols, 0.0f), dw(cols, 0.0f), db(cols, 0.0f);
    mae::cpu::layernorm_forward(x.data(), w.data(), b.data(), y.data(), mean.data(), rstd.data(), rows, cols, 1e-6f);
    mae::cpu::layernorm_backward(x.data(), w.data(), mean.data(), rstd.data(), dy.data(), dx.data(), dw.data(),
                                 db.data(), rows, cols);
    return std::vector<fvec>{y, mean, rstd, dx, dw, db};
  });
  check_thread_independent("gelu, softmax, sum_outer", [&] {
    fvec g(rows * cols), dg(rows * cols, 0.0f), s(rows * cols), ds(rows * cols, 0.0f), drow(cols, 0.0f);
    mae::cpu::gelu_forward(x.data(), g.data(), x.size());
    mae::cpu::gelu_backward(x.data(), dy.data(), dg.data(), x.size());
    mae::cpu::softmax_forward(x.data(), s.data(), rows, cols);
    mae::cpu::softmax_backward(s.data(), dy.data(), ds.data(), rows, cols);
    mae::cpu::sum_outer_accumulate(dy.data(), drow.data(), rows, cols);
    return std::vector<fvec>{g, dg, s, ds, drow};
  });
  // fmnist-tiny's decoder attention at batch 32: B*H = 128 pairs over 64 scratch slots.
  const std::size_t B = 32, N = 50, H = 4, hd = 16, D = H * hd;
  const auto qkv = rng.uniform_as<float>(B * N * 3 * D, -2, 2), dout = rng.uniform_as<float>(B * N * D);
  check_thread_independent("attention", [&] {
    fvec out(B * N * D), probs(B * H * N * N), dqkv(qkv.size(), 0.0f);
    fvec scratch(mae::cpu::attention_scratch_elems(B, N, H, hd));
    mae::cpu::attention_forward(qkv.data(), out.data(), probs.data(), B, N, H, hd);
    mae::cpu::attention_backward(qkv.data(), probs.data(), dout.data(), dqkv.data(), B, N, H, hd, scratch.data());
    return std::vector<fvec>{out, probs, dqkv};
  });
}

TEST_CASE("losses, token scatter, patches and AdamW are bit-identical with 1 and 2 threads") {
  Rng rng(251);
  INFO("seed 251");
  const std::size_t B = 128, L = 49, P = 16;
  const auto pred = rng.uniform_as<float>(B * L * P), target = rng.uniform_as<float>(B * L * P, 0, 1);
  fvec mask(B * L);
  for (auto& m : mask) m = rng.index(4) == 0 ? 0.0f : 1.0f;
  check_thread_independent("masked_mse, l1", [&] {
    fvec tn(pred.size()), dpred(pred.size(), 0.0f), dl1(pred.size(), 0.0f);
    const float loss =
        mae::cpu::masked_mse_forward(pred.data(), target.data(), mask.data(), tn.data(), B, L, P, true, 1e-6f);
    mae::cpu::masked_mse_backward(pred.data(), tn.data(), mask.data(), 1.0f, dpred.data(), B, L, P);
    const float l1 = mae::cpu::l1_forward(pred.data(), target.data(), mask.data(), B * L, P);
    mae::cpu::l1_backward(pred.data(), target.data(), mask.data(), 1.0f, dl1.data(), B * L, P);
    return std::vector<fvec>{{loss}, tn, dpred, {l1}, dl1};
  });
  const std::size_t classes = 10, rows = 20000;
  const auto logits = rng.uniform_as<float>(rows * classes, -4, 4);
  std::vector<std::int32_t> labels(rows);
  for (auto& l : labels) l = rng.index(std::int32_t(classes));
  check_thread_independent("cross_entropy", [&] {
    fvec probs(logits.size()), dlogits(logits.size(), 0.0f);
    const float loss = mae::cpu::cross_entropy_forward(logits.data(), labels.data(), probs.data(), rows, classes);
    mae::cpu::cross_entropy_backward(probs.data(), labels.data(), 1.0f, dlogits.data(), rows, classes);
    return std::vector<fvec>{{loss}, probs, dlogits};
  });
  const std::size_t Nin = 197, Nout = 300, D = 64;
  std::vector<std::int32_t> idx(B * Nout);
  for (auto& i : idx) i = rng.index(std::int32_t(Nin));
  const auto dy = rng.uniform_as<float>(B * Nout * D);
  check_thread_independent("scatter_add_tokens, patchify", [&] {
    fvec dx(B * Nin * D, 0.0f), patches(B * L * P);
    mae::cpu::scatter_add_tokens(dy.data(), idx.data(), dx.data(), B, Nin, Nout, D);
    mae::cpu::patchify(pred.data(), patches.data(), B, 1, 28, 28, 4);
    return std::vector<fvec>{dx, patches};
  });
  const std::size_t n = 300000;
  const auto p0 = rng.uniform_as<float>(n), g = rng.uniform_as<float>(n, -0.01, 0.01);
  check_thread_independent("adamw", [&] {
    fvec p = p0, m(n, 0.0f), v(n, 0.0f);
    for (long step = 1; step <= 3; ++step)
      mae::cpu::adamw_step(p.data(), g.data(), m.data(), v.data(), n, 6e-4, 0.9, 0.95, 1e-8, 0.05, step);
    return std::vector<fvec>{p, m, v};
  });
}
