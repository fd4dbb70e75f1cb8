// AdamW against a hand-computed step and against the PyTorch 1.13 equations over several steps.
#include <doctest/doctest.h>

#include "mae/backend/cpu/adamw.hpp"
#include "test_kernels_support.hpp"

using namespace kernel_test;

TEST_CASE("adamw_step: one step worked by hand") {
  // p = 1, g = 0.5, m = v = 0, lr = 0.1, wd = 0.01, betas (0.9, 0.999), eps 1e-8, step 1:
  // p = 1 * (1 - 0.001) = 0.999; m = 0.1 * 0.5 = 0.05; v = 0.001 * 0.25 = 0.00025;
  // step_size = 0.1 / (1 - 0.9) = 1; denom = sqrt(0.00025) / sqrt(0.001) + 1e-8 = 0.5 + 1e-8;
  // p = 0.999 - 0.05 / 0.50000001 = 0.899000002 (to 1e-15: 0.05 / 0.50000001 = 0.0999999980000000399...).
  double p = 1, g = 0.5, m = 0, v = 0;
  mae::cpu::adamw_step(&p, &g, &m, &v, 1, 0.1, 0.9, 0.999, 1e-8, 0.01, 1);
  CHECK(m == doctest::Approx(0.05).epsilon(1e-15));
  CHECK(v == doctest::Approx(0.00025).epsilon(1e-15));
  CHECK(p == doctest::Approx(0.999 - 0.0999999980000000399).epsilon(1e-15));
}

TEST_CASE("adamw_step follows torch.optim.AdamW over several steps (float64 and float32)") {
  const std::size_t n = 1000;  // several blocks of the kernel, with a partial last one
  Rng rng(221);
  INFO("seed 221");
  const double lr = 1.5e-4 * 4, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.05;
  vec p = rng.uniform(n), m(n, 0.0), v(n, 0.0), p_ref = p, m_ref = m, v_ref = v;
  std::vector<float> pf(p.begin(), p.end()), mf(n, 0.0f), vf(n, 0.0f);
  for (long step = 1; step <= 5; ++step) {
    const vec g = rng.uniform(n, -0.1, 0.1);
    const std::vector<float> gf(g.begin(), g.end());
    // _single_tensor_adamw, line by line.
    for (std::size_t i = 0; i < n; ++i) {
      p_ref[i] *= 1 - lr * wd;
      m_ref[i] = m_ref[i] * b1 + g[i] * (1 - b1);
      v_ref[i] = v_ref[i] * b2 + (1 - b2) * g[i] * g[i];
      const double step_size = lr / (1 - std::pow(b1, double(step)));
      const double denom = std::sqrt(v_ref[i]) / std::sqrt(1 - std::pow(b2, double(step))) + eps;
      p_ref[i] += -step_size * (m_ref[i] / denom);
    }
    mae::cpu::adamw_step(p.data(), g.data(), m.data(), v.data(), n, lr, b1, b2, eps, wd, step);
    mae::cpu::adamw_step(pf.data(), gf.data(), mf.data(), vf.data(), n, lr, b1, b2, eps, wd, step);
  }
  // The kernel fuses the moment updates as PyTorch does (std::fma); the reference may round once more.
  check_close(p, p_ref, 1e-13, 1e-16, "adamw param");
  check_close(m, m_ref, 1e-13, 1e-17, "adamw m");
  check_close(v, v_ref, 1e-13, 1e-19, "adamw v");
  check_close(vec(pf.begin(), pf.end()), p_ref, 1e-6, 1e-7, "adamw float param");
  CHECK_THROWS_AS(mae::cpu::adamw_step(p.data(), p.data(), m.data(), v.data(), n, lr, b1, b2, eps, wd, 0), mae::error);
}

TEST_CASE("adamw_step in float is bit-identical to torch.optim.AdamW (PyTorch 1.13, foreach=False)") {
  // Generated with /usr/bin/python3 (Debian python3-torch 1.13):
  //   torch.manual_seed(3); p0 = torch.randn(12); grads = [torch.randn(12) * 0.01 for _ in range(3)]
  //   AdamW([p], lr=6e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.05, foreach=False), three steps;
  //   values printed with float.hex().
  std::vector<float> p = {0x1.9b47p-1f,    0x1.660f0cp-3f,  0x1.6c744cp-4f, -0x1.3a394p-1f,
                          0x1.7a539ep-5f,  -0x1.5e463cp+0f, 0x1.59985p-2f,  0x1.02d87ep+0f,
                          -0x1.6f67eap+0f, 0x1.f471fp-1f,   0x1.0b4a22p-1f, 0x1.3ce81cp+0f};
  const std::vector<float> grads[3] = {
      {-0x1.1b52e4p-7f, 0x1.87da9cp-9f, 0x1.12bd38p-8f, -0x1.a2aaa8p-11f, 0x1.2f90fap-7f, 0x1.0b47fep-7f,
       0x1.4486eep-8f, -0x1.aebf42p-10f, -0x1.bc4f2ep-8f, -0x1.5b0c5ep-7f, 0x1.ea02aep-8f, 0x1.39276p-9f},
      {-0x1.00ffe4p-8f, 0x1.8e3c5cp-10f, -0x1.83e2bcp-7f, 0x1.5e32dap-8f, -0x1.db789cp-7f, -0x1.9c777p-8f,
       0x1.94ca38p-10f, -0x1.450bbp-9f, 0x1.2934dep-8f, 0x1.fb2318p-14f, 0x1.b7c218p-7f, 0x1.df11c2p-7f},
      {0x1.1dd7acp-8f, 0x1.4d4148p-7f, -0x1.67393cp-6f, 0x1.164e5ap-9f, -0x1.33dab4p-7f, -0x1.a81ed8p-9f,
       -0x1.599b8ep-7f, 0x1.0def1p-7f, -0x1.59685ap-8f, 0x1.09a89ep-7f, -0x1.07a61ep-7f, -0x1.5815c4p-7f}};
  const std::vector<float> torch_p3 = {0x1.9bf304p-1f,  0x1.62a36cp-3f,  0x1.6ce89p-4f,  -0x1.3a4b28p-1f,
                                       0x1.7913bap-5f,  -0x1.5e6312p+0f, 0x1.58958p-2f,  0x1.03137ap+0f,
                                       -0x1.6f211cp+0f, 0x1.f4eb1cp-1f,  0x1.0a8bdap-1f, 0x1.3c9276p+0f};
  std::vector<float> m(p.size(), 0.0f), v(p.size(), 0.0f);
  for (long step = 1; step <= 3; ++step)
    mae::cpu::adamw_step(p.data(), grads[step - 1].data(), m.data(), v.data(), p.size(), 6e-4, 0.9, 0.95, 1e-8, 0.05,
                         step);
  for (std::size_t i = 0; i < p.size(); ++i) {
    INFO("element " << i << ": " << p[i] << " vs torch " << torch_p3[i]);
    CHECK(p[i] == torch_p3[i]);
  }
}
