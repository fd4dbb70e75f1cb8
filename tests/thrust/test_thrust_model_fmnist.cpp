// The MAE training step on the Thrust backend vs the CPU backend on the fmnist-tiny preset.
#include "model_parity.hpp"

using namespace mae;
using namespace mae::test;

TEST_CASE("MAE training step: Thrust backend == CPU backend (fmnist-tiny)") {
  check_training_parity<presets::fmnist_tiny>(8, 5);
}
