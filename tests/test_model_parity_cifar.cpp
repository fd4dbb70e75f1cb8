// cifar-vit-tiny (3 channels) against a fixture generated into the build tree by the PyTorch script.
#include "support/parity.hpp"

TEST_CASE("cifar-vit-tiny: loss, pred, mask, every gradient and 5 AdamW steps match PyTorch") {
  mae::test::check_model_parity<mae::presets::cifar_vit_tiny>(std::string(MAE_BUILD_FIXTURE_DIR) +
                                                              "/mae_cifar-vit-tiny.safetensors");
}
