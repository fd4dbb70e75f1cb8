// Losses: masked MSE with per-patch normalized targets (MAE_SPEC §6), L1, cross-entropy.
#include <doctest/doctest.h>

#include "mae/backend/cpu/loss.hpp"
#include "test_kernels_support.hpp"

using namespace kernel_test;

namespace {

struct S {
  std::size_t B, L, P;
};

// MAE's forward_loss, literally: unbiased variance, eps inside the sqrt, mean over P, masked mean over patches.
double naive_masked_mse(const S& s, const vec& pred, const vec& target, const vec& mask, bool norm_pix, double eps,
                        vec& target_norm) {
  double num = 0, den = 0;
  for (std::size_t r = 0; r < s.B * s.L; ++r) {
    double mean = 0, var = 0, se = 0;
    for (std::size_t p = 0; p < s.P; ++p) mean += target[r * s.P + p] / double(s.P);
    for (std::size_t p = 0; p < s.P; ++p) var += std::pow(target[r * s.P + p] - mean, 2) / double(s.P - 1);
    for (std::size_t p = 0; p < s.P; ++p) {
      const double t = norm_pix ? (target[r * s.P + p] - mean) / std::sqrt(var + eps) : target[r * s.P + p];
      target_norm[r * s.P + p] = t;
      se += std::pow(pred[r * s.P + p] - t, 2);
    }
    num += se / double(s.P) * mask[r];
    den += mask[r];
  }
  return num / den;
}

vec random_mask(Rng& rng, std::size_t n) {
  vec m(n);
  for (auto& v : m) v = rng.index(4) == 0 ? 0.0 : 1.0;  // MAE removes 75%
  m[0] = 1;
  return m;
}

}  // namespace

TEST_CASE("masked_mse_forward matches MAE's loss (norm_pix on/off) and returns the target it used") {
  for (const S s : {S{2, 7, 13}, S{1, 1, 2}, S{3, 49, 16}})
    for (const bool norm_pix : {true, false}) {
      const std::uint64_t seed = 181 + s.L + norm_pix;
      Rng rng(seed);
      INFO("seed " << seed << " B " << s.B << " L " << s.L << " P " << s.P << " norm_pix " << norm_pix);
      const vec pred = rng.uniform(s.B * s.L * s.P), target = rng.uniform(pred.size(), 0, 1);
      const vec mask = random_mask(rng, s.B * s.L);
      const double eps = 1e-6;
      vec tn(pred.size()), tn_ref(pred.size());
      const double expected = naive_masked_mse(s, pred, target, mask, norm_pix, eps, tn_ref);
      const double loss = mae::cpu::masked_mse_forward(pred.data(), target.data(), mask.data(), tn.data(), s.B, s.L,
                                                       s.P, norm_pix, eps);
      CHECK(loss == doctest::Approx(expected).epsilon(1e-12));
      check_close(tn, tn_ref, 1e-12, 1e-12, "normalized target");
    }
}

TEST_CASE("masked_mse_backward gradcheck on pred, accumulating and scaled by dloss") {
  for (const S s : {S{2, 7, 13}, S{1, 1, 2}, S{1, 5, 3}}) {
    const std::uint64_t seed = 191 + s.L;
    Rng rng(seed);
    INFO("seed " << seed << " B " << s.B << " L " << s.L << " P " << s.P);
    vec pred = rng.uniform(s.B * s.L * s.P);
    const vec target = rng.uniform(pred.size()), mask = random_mask(rng, s.B * s.L), dpred0 = rng.uniform(pred.size());
    const double dloss = 1.7, eps = 1e-6;
    vec tn(pred.size()), dpred = dpred0;
    mae::cpu::masked_mse_forward(pred.data(), target.data(), mask.data(), tn.data(), s.B, s.L, s.P, true, eps);
    mae::cpu::masked_mse_backward(pred.data(), tn.data(), mask.data(), dloss, dpred.data(), s.B, s.L, s.P);
    gradcheck("masked_mse dpred", pred, added(dpred, dpred0), [&] {
      return dloss *
             mae::cpu::masked_mse_forward(pred.data(), target.data(), mask.data(), tn.data(), s.B, s.L, s.P, true, eps);
    });
  }
}

TEST_CASE("masked_mse rejects an all-zero mask and norm_pix with P = 1") {
  vec pred(4), target(4), mask(4, 0.0), tn(4);
  CHECK_THROWS_WITH_AS(
      mae::cpu::masked_mse_forward(pred.data(), target.data(), mask.data(), tn.data(), 1, 4, 1, false, 1e-6),
      doctest::Contains("masked_mse_forward: the mask sums to 0"), mae::error);
  mask[0] = 1;
  CHECK_THROWS_WITH_AS(
      mae::cpu::masked_mse_forward(pred.data(), target.data(), mask.data(), tn.data(), 1, 4, 1, true, 1e-6),
      doctest::Contains("norm_pix needs patches of more than 1 value"), mae::error);
}

TEST_CASE("l1_forward/backward with and without a mask") {
  struct L1 {
    std::size_t rows, P;
  };
  for (const L1 s : {L1{7, 13}, L1{1, 1}, L1{5, 48}})
    for (const bool masked : {true, false}) {
      const std::uint64_t seed = 201 + s.rows + masked;
      Rng rng(seed);
      INFO("seed " << seed << " rows " << s.rows << " P " << s.P << " masked " << masked);
      vec pred = rng.uniform(s.rows * s.P), target(pred.size());
      // |pred - target| >= 0.1 everywhere: central differences never straddle the kink at 0.
      const vec offset = rng.uniform(pred.size(), 0.1, 1.0);
      for (std::size_t i = 0; i < pred.size(); ++i) target[i] = pred[i] + (i % 3 == 0 ? offset[i] : -offset[i]);
      const vec mask = random_mask(rng, s.rows);
      const double* m = masked ? mask.data() : nullptr;
      double num = 0, den = 0;
      for (std::size_t r = 0; r < s.rows; ++r) {
        for (std::size_t p = 0; p < s.P; ++p)
          num += (masked ? mask[r] : 1.0) * std::abs(pred[r * s.P + p] - target[r * s.P + p]);
        den += (masked ? mask[r] : 1.0) * double(s.P);
      }
      CHECK(mae::cpu::l1_forward(pred.data(), target.data(), m, s.rows, s.P) ==
            doctest::Approx(num / den).epsilon(1e-12));

      const vec dpred0 = rng.uniform(pred.size());
      vec dpred = dpred0;
      mae::cpu::l1_backward(pred.data(), target.data(), m, 0.8, dpred.data(), s.rows, s.P);
      gradcheck("l1 dpred", pred, added(dpred, dpred0),
                [&] { return 0.8 * mae::cpu::l1_forward(pred.data(), target.data(), m, s.rows, s.P); });
    }
}

TEST_CASE("cross_entropy forward is mean -log softmax[label]; backward gradcheck; labels are checked") {
  struct CE {
    std::size_t rows, classes;
  };
  for (const CE s : {CE{7, 13}, CE{1, 1}, CE{1, 10}, CE{64, 10}}) {
    const std::uint64_t seed = 211 + s.rows + s.classes;
    Rng rng(seed);
    INFO("seed " << seed << " rows " << s.rows << " classes " << s.classes);
    vec logits = rng.uniform(s.rows * s.classes, -4, 4), probs(logits.size());
    std::vector<std::int32_t> labels(s.rows);
    for (auto& l : labels) l = rng.index(std::int32_t(s.classes));
    double expected = 0;
    for (std::size_t r = 0; r < s.rows; ++r) {
      double z = 0;
      for (std::size_t c = 0; c < s.classes; ++c) z += std::exp(logits[r * s.classes + c]);
      expected -= std::log(std::exp(logits[r * s.classes + std::size_t(labels[r])]) / z) / double(s.rows);
    }
    CHECK(mae::cpu::cross_entropy_forward(logits.data(), labels.data(), probs.data(), s.rows, s.classes) ==
          doctest::Approx(expected).epsilon(1e-12));

    const vec dlogits0 = rng.uniform(logits.size());
    vec dlogits = dlogits0;
    mae::cpu::cross_entropy_backward(probs.data(), labels.data(), 1.3, dlogits.data(), s.rows, s.classes);
    if (s.classes > 1)  // one class: the loss is identically 0, and so is its gradient
      gradcheck("cross_entropy dlogits", logits, added(dlogits, dlogits0), [&] {
        return 1.3 * mae::cpu::cross_entropy_forward(logits.data(), labels.data(), probs.data(), s.rows, s.classes);
      });
  }
  vec logits(6), probs(6);
  std::vector<std::int32_t> labels = {0, 3};
  CHECK_THROWS_WITH_AS(mae::cpu::cross_entropy_forward(logits.data(), labels.data(), probs.data(), 2, 3),
                       doctest::Contains("cross_entropy_forward: label 3 of row 1 is outside [0, 3)"), mae::error);
}
