// End-to-end pretraining step (forward, backward, AdamW) of the three presets at the batch sizes, and the
// batch-1 latency of the fmnist-tiny encoder on all 49 patches. Counters: img/s, FLOP/s (counted analytically:
// every GEMM and the attention products, training = 3x forward), peak RSS.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <vector>

#include <mae/mae.hpp>

using namespace mae;

namespace {

double peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) * 1024.0;
}

// Multiply-adds x2 of one transformer block on `tokens` tokens of width d (mlp 4d).
constexpr double block_flops(double tokens, double d) {
  return 2.0 * tokens * (3 * d * d + d * d + 8 * d * d) + 4.0 * tokens * tokens * d;
}

template <class P>
constexpr double forward_flops_per_image() {
  const double vis = P::keep + 1.0, all = P::tokens + 1.0;
  double f = 2.0 * P::tokens * P::patch_dim * P::dim;                      // patch embedding (all patches)
  f += P::depth * block_flops(vis, P::dim);                                // encoder on visible tokens
  f += 2.0 * vis * P::dim * P::dec_dim;                                    // decoder_embed
  f += P::dec_depth * block_flops(all, P::dec_dim);                        // decoder on all tokens
  f += 2.0 * all * P::dec_dim * P::patch_dim;                              // decoder_pred
  return f;
}

template <class P>
void BM_train_step(benchmark::State& state) {
  using Model = MaskedAutoencoder<P>;
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  std::vector<float> images(batch * P::channels * P::img * P::img);
  fill_normal(images.data(), images.size(), 1, 0);
  Model model(0);
  optim::Pretrainer<Model> trainer(model, {});
  Var<float, typename Model::Images> imgs{images.data(), nullptr, {batch, P::channels, P::img, P::img}};
  std::uint64_t it = 0;
  // Warm-up, two steps: the first sizes the tape's arenas (their chunks then merge into one), the second touches
  // that chunk's pages, so the timed steps are the steady state (zero allocations, no page faults).
  trainer.step(imgs, it++, 1e-4);
  trainer.step(imgs, it++, 1e-4);
  for (auto _ : state) benchmark::DoNotOptimize(trainer.step(imgs, it++, 1e-4));
  state.counters["img/s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["FLOP/s"] = benchmark::Counter(3.0 * forward_flops_per_image<P>() * batch,
                                                benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/img"] = 3.0 * forward_flops_per_image<P>() / 1e9;
  state.counters["peak_RSS_MB"] = peak_rss_bytes() / 1e6;
}

// Frozen: each layer's weight packed once (Tape::freeze_weights), as an inference service would run.
template <bool Frozen>
void BM_encoder_latency_b1(benchmark::State& state) {
  using Model = MaskedAutoencoder<presets::fmnist_tiny>;
  std::vector<float> image(28 * 28);
  fill_normal(image.data(), image.size(), 2, 0);
  Model model(0);
  Tape<> tape(false);
  if (Frozen) tape.freeze_weights();
  Var<float, Model::Images> img{image.data(), nullptr, {1, 1, 28, 28}};
  for (auto _ : state) {
    tape.reset();
    benchmark::DoNotOptimize(model.encode_all(tape, img).value);
  }
}

}  // namespace

BENCHMARK(BM_train_step<presets::fmnist_tiny>)->Name("train_step/fmnist-tiny")->Arg(128)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_train_step<presets::cifar_vit_tiny>)->Name("train_step/cifar-vit-tiny")->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_train_step<presets::mae_vit_base_patch16>)->Name("train_step/mae_vit_base_patch16")->Arg(8)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_encoder_latency_b1<false>)->Name("encoder_latency/fmnist-tiny/b1")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_encoder_latency_b1<true>)->Name("encoder_latency/fmnist-tiny/b1/frozen_weights")->UseRealTime()->Unit(benchmark::kMicrosecond);
