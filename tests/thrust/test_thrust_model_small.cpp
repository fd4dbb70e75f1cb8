// The MAE training step on the Thrust backend vs the CPU backend on a small preset, and copy_parameters.
#include "model_parity.hpp"

using namespace mae;
using namespace mae::test;

TEST_CASE("MAE training step: Thrust backend == CPU backend (small preset)") {
  check_training_parity<ThrustSmallPreset>(6, 11);
}

TEST_CASE("copy_parameters moves a CPU model's weights into a Thrust model") {
  MaskedAutoencoder<ThrustSmallPreset, float, backends::cpu> src(21);
  MaskedAutoencoder<ThrustSmallPreset, float, thrust_backend_under_test> dst(22);
  src.norm_pix_loss = false;
  copy_parameters(src, dst);
  std::vector<float> a, b;
  src.visit_params([&](const std::string&, auto& p) { a.insert(a.end(), p.value.data(), p.value.data() + p.value.size()); });
  dst.visit_params([&](const std::string&, auto& p) { b.insert(b.end(), p.value.data(), p.value.data() + p.value.size()); });
  CHECK(a == b);
  CHECK(dst.mask_seed == 21);
  CHECK_FALSE(dst.norm_pix_loss);
  // One encoder block fewer: blocks.1.* has no counterpart.
  using Shallower = MaePreset<MaeConfig<16, 4, 3, 32, 1, 4, 16, 1, 2>, thrust_small_name>;
  MaskedAutoencoder<Shallower, float, thrust_backend_under_test> other;
  CHECK_THROWS_WITH_AS(copy_parameters(src, other), doctest::Contains("blocks.1."), mae::error);
}
