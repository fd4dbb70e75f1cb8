// One MAE pretraining iteration on the CUDA backend (forward, backward, AdamW through optim::Pretrainer, masking
// noise drawn on the GPU), timed with CUDA events over steady-state steps. Prints one JSON line:
//   {"impl": "mae-cuda", "preset": ..., "precision": "fp32"|"tf32", "batch": ..., "step_ms": ..., "img_per_s": ...,
//    "gflop_per_img": ..., "tflops": ..., "device": ...}
// gflop_per_img counts the matrix products of one training step (3x the forward's: the backward costs two).
//   bench_mae_step [--preset base|fmnist] [--batch 64] [--steps 20] [--warmup 5] [--tf32]
#define EIGEN_NO_CUDA  // the host model's CPU backend is host code only
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "mae/backend/cpu.hpp"
#include "mae/backend/cuda.hpp"
#include "mae/models/mae.hpp"
#include "mae/optim/pretrain.hpp"

namespace {

struct Options {
  std::string preset = "base";
  std::size_t batch = 64, steps = 20, warmup = 5;
  bool tf32 = false;
};

// Multiply-add FLOPs (2 per MAC) of one forward on one image: patch embedding on all L tokens, encoder on the
// 1 + keep visible tokens, decoder on 1 + L; attention's two products per block; x3 for a training step.
template <class C>
double training_gflop_per_image() {
  const double L = C::tokens, Ne = C::keep + 1.0, Nd = C::tokens + 1.0, D = C::dim, Dd = C::dec_dim;
  const double mlp = C::mlp_ratio;
  const auto block = [&](double n, double d) { return 2 * n * d * d * (3 + 1 + 2 * mlp) + 4 * n * n * d; };
  const double forward = 2 * L * (C::channels * C::patch * C::patch) * D + C::depth * block(Ne, D) +
                         2 * Ne * D * Dd + C::dec_depth * block(Nd, Dd) + 2 * Nd * Dd * C::patch_dim;
  return 3 * forward / 1e9;
}

template <class Preset>
int run(const Options& o) {
  using namespace mae;
  using HostModel = MaskedAutoencoder<Preset>;
  using Model = MaskedAutoencoder<Preset, float, backends::cuda>;
  if (o.tf32) cuda_backend::context::instance().set_tf32(true);
  std::vector<float> images(o.batch * Model::C * Model::Img * Model::Img);
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (auto& v : images) v = normal(rng);
  Model gpu(0);
  {
    HostModel host(0);
    copy_parameters(host, gpu);
  }
  float* device_images = static_cast<float*>(backend_traits<backends::cuda>::allocate(images.size() * sizeof(float)));
  copy_from_host<backends::cuda>(device_images, images.data(), images.size());
  Var<float, typename Model::Images, backends::cuda> x{device_images, nullptr, {o.batch, Model::C, Model::Img, Model::Img}};

  optim::Pretrainer<Model> trainer(gpu, {});
  double loss = 0;
  for (std::size_t it = 0; it < o.warmup; ++it) loss = trainer.step(x, it, 1.5e-4);
  cudaEvent_t start, stop;
  MAE_CUDA_CHECK(cudaEventCreate(&start));
  MAE_CUDA_CHECK(cudaEventCreate(&stop));
  const auto mallocs = cuda_backend::caching_allocator::instance().stats().device_mallocs;
  MAE_CUDA_CHECK(cudaEventRecord(start));
  for (std::size_t it = 0; it < o.steps; ++it) loss = trainer.step(x, o.warmup + it, 1.5e-4);
  MAE_CUDA_CHECK(cudaEventRecord(stop));
  MAE_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  MAE_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  const auto steady_mallocs = cuda_backend::caching_allocator::instance().stats().device_mallocs - mallocs;

  cudaDeviceProp prop{};
  MAE_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  const double step_ms = ms / double(o.steps), img_per_s = double(o.batch) / (step_ms / 1e3);
  const double gflop = training_gflop_per_image<Preset>();
  std::printf(
      "{\"impl\": \"mae-cuda\", \"preset\": \"%s\", \"precision\": \"%s\", \"batch\": %zu, \"steps\": %zu, "
      "\"step_ms\": %.3f, \"img_per_s\": %.1f, \"gflop_per_img\": %.2f, \"tflops\": %.2f, \"loss\": %.5f, "
      "\"steady_state_cudamalloc\": %zu, \"device\": \"%s\"}\n",
      std::string(Preset::name).c_str(), o.tf32 ? "tf32" : "fp32", o.batch, o.steps, step_ms, img_per_s, gflop,
      gflop * img_per_s / 1e3, loss, steady_mallocs, prop.name);
  backend_traits<backends::cuda>::deallocate(device_images);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&] {
      if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
      return std::string(argv[++i]);
    };
    if (a == "--preset") o.preset = next();
    else if (a == "--batch") o.batch = std::stoul(next());
    else if (a == "--steps") o.steps = std::stoul(next());
    else if (a == "--warmup") o.warmup = std::stoul(next());
    else if (a == "--tf32") o.tf32 = true;
    else { std::fprintf(stderr, "unknown argument %s\n", a.c_str()); return 2; }
  }
  if (mae::cuda_backend::device_count() == 0) {
    std::fprintf(stderr, "bench_mae_step: no CUDA device\n");
    return 77;
  }
  try {
    if (o.preset == "base") return run<mae::presets::mae_vit_base_patch16>(o);
    if (o.preset == "fmnist") return run<mae::presets::fmnist_tiny>(o);
    std::fprintf(stderr, "unknown preset %s (base, fmnist)\n", o.preset.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mae_step: %s\n", e.what());
    return 1;
  }
}
