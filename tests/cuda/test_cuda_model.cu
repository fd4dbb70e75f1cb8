// The MAE training step on the CUDA backend vs the CPU backend (fmnist-tiny), and the caching allocator's
// promise: once warm, training steps make no cudaMalloc or cudaFree.
#include "cuda_model_parity.hpp"

using namespace mae;
using namespace mae::test;

TEST_CASE("MAE training step: CUDA == CPU (fmnist-tiny)") { check_cuda_training_parity<presets::fmnist_tiny>(32, 5); }

TEST_CASE("steady-state training steps make no cudaMalloc or cudaFree") {
  using Model = MaskedAutoencoder<presets::fmnist_tiny, float, backends::cuda>;
  MaskedAutoencoder<presets::fmnist_tiny> host(1);
  Model gpu(1);
  copy_parameters(host, gpu);
  const std::size_t batch = 64;
  device_buffer<float> images(random_vector<float>(batch * Model::Img * Model::Img, 2));
  Var<float, Model::Images, backends::cuda> x{images.data(), nullptr, {batch, Model::C, Model::Img, Model::Img}};
  optim::Pretrainer<Model> trainer(gpu, {.adamw = {.lr = 1e-3}});
  for (std::uint64_t it = 0; it < 3; ++it) trainer.step(x, it, 1e-3);
  const auto warm = cuda_backend::caching_allocator::instance().stats();
  double last = 0;
  for (std::uint64_t it = 3; it < 8; ++it) last = trainer.step(x, it, 1e-3);
  const auto after = cuda_backend::caching_allocator::instance().stats();
  MESSAGE("device memory: " << after.bytes_in_use / (1 << 20) << " MiB in use, " << after.bytes_cached / (1 << 20)
                            << " MiB cached, " << after.device_mallocs << " cudaMalloc calls in all");
  CHECK(std::isfinite(last));
  CHECK(after.device_mallocs == warm.device_mallocs);
  CHECK(after.device_frees == warm.device_frees);
}
