// Fused multi-head attention: forward against a naive per-head loop, backward by gradcheck on qkv.
#include <doctest/doctest.h>

#include "mae/backend/cpu/attention.hpp"
#include "test_kernels_support.hpp"

using namespace kernel_test;

namespace {

struct S {
  std::size_t B, N, H, hd;
};

// Straight from the definition: per (b, h), scores[i][j] = Σ_c q[i][c] k[j][c] / √hd, softmax over j,
// out[i][c] = Σ_j p[i][j] v[j][c]; q/k/v of head h are columns h*hd.. of the three D-wide thirds of qkv.
void naive_attention(const S& s, const vec& qkv, vec& out, vec& probs) {
  const std::size_t D = s.H * s.hd;
  const auto at = [&](std::size_t b, std::size_t n, std::size_t part, std::size_t h, std::size_t c) {
    return qkv[(b * s.N + n) * 3 * D + part * D + h * s.hd + c];
  };
  for (std::size_t b = 0; b < s.B; ++b)
    for (std::size_t h = 0; h < s.H; ++h)
      for (std::size_t i = 0; i < s.N; ++i) {
        vec p(s.N);
        double mx = -1e300, z = 0;
        for (std::size_t j = 0; j < s.N; ++j) {
          double acc = 0;
          for (std::size_t c = 0; c < s.hd; ++c) acc += at(b, i, 0, h, c) * at(b, j, 1, h, c);
          p[j] = acc / std::sqrt(double(s.hd));
          mx = std::max(mx, p[j]);
        }
        for (auto& v : p) z += (v = std::exp(v - mx));
        for (std::size_t j = 0; j < s.N; ++j) probs[((b * s.H + h) * s.N + i) * s.N + j] = p[j] / z;
        for (std::size_t c = 0; c < s.hd; ++c) {
          double acc = 0;
          for (std::size_t j = 0; j < s.N; ++j) acc += p[j] / z * at(b, j, 2, h, c);
          out[(b * s.N + i) * D + h * s.hd + c] = acc;
        }
      }
}

}  // namespace

TEST_CASE("attention_forward matches a naive per-head loop") {
  for (const S s : {S{2, 5, 3, 4}, S{1, 7, 1, 6}, S{1, 1, 2, 3}, S{3, 13, 4, 8}, S{2, 50, 4, 16}}) {
    const std::uint64_t seed = 131 + s.N;
    Rng rng(seed);
    INFO("seed " << seed << " B " << s.B << " N " << s.N << " H " << s.H << " hd " << s.hd);
    const std::size_t D = s.H * s.hd;
    const vec qkv = rng.uniform(s.B * s.N * 3 * D, -2, 2);
    vec out(s.B * s.N * D), probs(s.B * s.H * s.N * s.N), out_ref(out.size()), probs_ref(probs.size());
    naive_attention(s, qkv, out_ref, probs_ref);
    mae::cpu::attention_forward(qkv.data(), out.data(), probs.data(), s.B, s.N, s.H, s.hd);
    check_close(out, out_ref, 1e-12, 1e-13, "attention out");
    check_close(probs, probs_ref, 1e-12, 1e-14, "attention probs");
  }
}

TEST_CASE("attention_backward gradcheck on qkv, accumulating, incl. more (batch, head) pairs than scratch slots") {
  // The last shape has 66 pairs > 64 slots: each slot then handles a range of pairs.
  for (const S s : {S{1, 5, 2, 3}, S{2, 7, 3, 4}, S{1, 1, 1, 2}, S{2, 13, 2, 16}, S{33, 3, 2, 2}}) {
    const std::uint64_t seed = 141 + s.B * s.N;
    Rng rng(seed);
    INFO("seed " << seed << " B " << s.B << " N " << s.N << " H " << s.H << " hd " << s.hd);
    const std::size_t D = s.H * s.hd;
    vec qkv = rng.uniform(s.B * s.N * 3 * D, -1.5, 1.5);
    vec out(s.B * s.N * D), probs(s.B * s.H * s.N * s.N);
    const vec R = rng.uniform(out.size()), dqkv0 = rng.uniform(qkv.size());
    vec dqkv = dqkv0;
    const std::size_t scratch_elems = mae::cpu::attention_scratch_elems(s.B, s.N, s.H, s.hd);
    CHECK(scratch_elems >= std::min<std::size_t>(s.B * s.H, 64) * s.N * s.N);
    vec scratch(scratch_elems);
    mae::cpu::attention_forward(qkv.data(), out.data(), probs.data(), s.B, s.N, s.H, s.hd);
    mae::cpu::attention_backward(qkv.data(), probs.data(), R.data(), dqkv.data(), s.B, s.N, s.H, s.hd, scratch.data());
    gradcheck("attention dqkv", qkv, added(dqkv, dqkv0), [&] {
      mae::cpu::attention_forward(qkv.data(), out.data(), probs.data(), s.B, s.N, s.H, s.hd);
      return dot(R, out);
    });
  }
}
