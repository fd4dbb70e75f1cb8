// fmnist-tiny (1 channel) against the committed PyTorch fixture.
#include "support/parity.hpp"

TEST_CASE("fmnist-tiny: loss, pred, mask, every gradient and 5 AdamW steps match PyTorch") {
  mae::test::check_model_parity<mae::presets::fmnist_tiny>(std::string(MAE_FIXTURE_DIR) + "/mae_fmnist-tiny.safetensors");
}
