// The MAE training step on the CUDA backend vs the CPU backend at the benchmarked shapes: mae_vit_base_patch16
// (224 px, 196 patches, encoder 768 x 12, decoder 512 x 8), batch 2.
#include "cuda_model_parity.hpp"

using namespace mae;
using namespace mae::test;

TEST_CASE("MAE training step: CUDA == CPU (mae_vit_base_patch16)") {
  check_cuda_training_parity<presets::mae_vit_base_patch16>(2, 7);
}
