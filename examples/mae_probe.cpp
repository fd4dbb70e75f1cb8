// Linear probe on frozen MAE encoder features (per block: cls token, mean of patch tokens, or both; optionally the
// last K blocks concatenated), or on raw pixels: features standardised per dimension (BatchNorm without affine),
// then a softmax linear classifier.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <utility>

#include "common.hpp"

using Preset = mae::presets::fmnist_tiny;
using Model = mae::MaskedAutoencoder<Preset>;
constexpr std::size_t classes = 10;

namespace {

template <std::size_t F>
struct Probe {
  mae::nn::Linear<float, F, classes> head;
  template <class Fn>
  void visit_params(Fn&& f) { head.visit("head.", f); }
};

enum class Pool { cls, mean, both };

// Encoder features of every image, from the last `layers` of the first `blocks` encoder blocks (the last one
// after the final norm when blocks = depth): per layer the cls token, the mean of the patch tokens, or both.
std::vector<float> encoder_features(Model& model, const examples::Dataset& d, Pool pool, std::size_t blocks,
                                    std::size_t layers) {
  constexpr std::size_t D = Model::D, L = Model::L, chunk = 500;
  const std::size_t per_layer = pool == Pool::both ? 2 * D : D, width = layers * per_layer;
  std::vector<float> out(d.n * width);
  mae::Tape<> tape(false);
  tape.freeze_weights();  // the weights do not change while features are extracted: pack them once
  for (std::size_t s = 0; s < d.n; s += chunk) {
    const std::size_t count = std::min(chunk, d.n - s);
    auto pooled = [&](const float* x, std::size_t layer) {
      for (std::size_t i = 0; i < count; ++i) {
        const float* tokens = x + i * (L + 1) * D;
        float* f = out.data() + (s + i) * width + layer * per_layer;
        if (pool != Pool::mean) std::copy_n(tokens, D, f);
        if (pool == Pool::cls) continue;
        float* m = f + (pool == Pool::both ? D : 0);
        for (std::size_t k = 0; k < D; ++k) {
          double v = 0;
          for (std::size_t t = 1; t <= L; ++t) v += tokens[t * D + k];
          m[k] = static_cast<float>(v / L);
        }
      }
    };
    tape.reset();
    mae::Var<float, Model::Images> imgs{const_cast<float*>(d.images.data()) + s * 28 * 28, nullptr, {count, 1, 28, 28}};
    auto x = model.encode_all(tape, imgs, blocks, [&](std::size_t i, const auto& y) {
      if (i + layers >= blocks && i + 1 < blocks) pooled(y.value, i + layers - blocks);
    });
    pooled(x.value, layers - 1);
  }
  return out;
}

// Standardises both sets with the training set's per-dimension mean and std.
void standardise(std::vector<float>& train, std::vector<float>& test, std::size_t f) {
  const std::size_t n = train.size() / f;
  for (std::size_t k = 0; k < f; ++k) {
    double m = 0, v = 0;
    for (std::size_t i = 0; i < n; ++i) m += train[i * f + k];
    m /= n;
    for (std::size_t i = 0; i < n; ++i) v += (train[i * f + k] - m) * (train[i * f + k] - m);
    const double inv = 1.0 / std::sqrt(v / n + 1e-6);
    for (auto* set : {&train, &test})
      for (std::size_t i = 0; i < set->size() / f; ++i) (*set)[i * f + k] = static_cast<float>(((*set)[i * f + k] - m) * inv);
  }
}

template <std::size_t F>
double train_and_test(std::vector<float> train, const std::vector<std::int32_t>& ytrain, std::vector<float> test,
                      const std::vector<std::int32_t>& ytest, int epochs, double lr, std::uint64_t seed) {
  standardise(train, test, F);
  Probe<F> probe;
  mae::nn::Initializer init{seed};
  init.normal(probe.head.weight, 0.0, 0.01);
  mae::nn::Initializer::constant(probe.head.bias, 0.0);
  mae::optim::AdamW<float> opt(probe, {.lr = lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.0});
  opt.zero_grad();
  const std::size_t n = ytrain.size(), batch = 256, steps_per_epoch = n / batch;
  std::vector<float> xb(batch * F);
  std::vector<std::int32_t> yb(batch);
  mae::Tape<> tape;
  const mae::optim::WarmupCosine schedule{lr, 0.0, 0.0, static_cast<double>(epochs)};
  for (int e = 0; e < epochs; ++e) {
    auto order = examples::epoch_order(n, seed, static_cast<std::uint64_t>(e));
    for (std::size_t s = 0; s < steps_per_epoch; ++s) {
      for (std::size_t i = 0; i < batch; ++i) {
        const auto j = order[s * batch + i];
        std::copy_n(train.data() + j * F, F, xb.data() + i * F);
        yb[i] = ytrain[j];
      }
      tape.reset();
      auto logits = probe.head(tape, mae::Var<float, mae::Shape<mae::dyn, F>>{xb.data(), nullptr, {batch, F}});
      tape.backward(mae::cross_entropy(tape, logits, yb.data()));
      opt.step(schedule(e + static_cast<double>(s) / steps_per_epoch));
      opt.zero_grad();
    }
  }
  mae::Tape<> eval(false);
  auto logits = probe.head(eval, mae::Var<float, mae::Shape<mae::dyn, F>>{test.data(), nullptr, {ytest.size(), F}});
  std::size_t correct = 0;
  for (std::size_t i = 0; i < ytest.size(); ++i) {
    const float* row = logits.value + i * classes;
    correct += static_cast<std::int32_t>(std::max_element(row, row + classes) - row) == ytest[i];
  }
  return static_cast<double>(correct) / ytest.size();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Linear probe of a pretrained MAE encoder (preset fmnist-tiny) on Fashion-MNIST"};
  std::string data_dir = examples::default_data_dir(), checkpoint = "runs/mae_fmnist-tiny.safetensors";
  bool raw = false, random_init = false, validation = false;
  Pool pool = Pool::cls;
  int epochs = 10, threads = 0;
  std::size_t blocks = Preset::depth, layers = 1;
  double lr = 1e-3;
  std::uint64_t seed = 0;
  app.add_option("--data", data_dir, "Fashion-MNIST directory (Debian package dataset-fashion-mnist)");
  app.add_option("--checkpoint", checkpoint, "pretrained weights (official or HuggingFace names; encoder suffices)");
  app.add_flag("--raw-pixels", raw, "baseline: logistic regression on the raw pixels");
  app.add_option("--pool", pool, "features per layer: cls (the cls token), mean (mean of the patch tokens), both")
      ->transform(CLI::CheckedTransformer(std::map<std::string, Pool>{{"cls", Pool::cls}, {"mean", Pool::mean},
                                                                      {"both", Pool::both}}));
  app.add_flag("--validation", validation,
               "evaluate on the last 10000 training images (probe trained on the first 50000): for choosing "
               "options without looking at the test set");
  app.add_flag("--random-init", random_init, "probe a randomly initialised encoder (no checkpoint)");
  app.add_option("--blocks", blocks, "features after this many encoder blocks (default: all, then the final norm)");
  app.add_option("--layers", layers, "concatenate the features of this many last blocks (up to --blocks)")
      ->check(CLI::Range(std::size_t{1}, Preset::depth));
  app.add_option("--epochs", epochs, "probe training epochs");
  app.add_option("--lr", lr, "probe learning rate (AdamW, cosine schedule)");
  app.add_option("--seed", seed, "seed of the probe (and of the random-init encoder)");
  app.add_option("--threads", threads, "OpenMP threads (0: the default)");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) omp_set_num_threads(threads);

  try {
    auto train = examples::load_fashion_mnist(data_dir, true);
    auto test = validation ? examples::split_off(train, 10000) : examples::load_fashion_mnist(data_dir, false);
    double acc = 0;
    std::string what;
    if (raw) {
      what = "raw pixels";
      acc = train_and_test<28 * 28>(train.images, train.labels, test.images, test.labels, epochs, lr, seed);
    } else {
      Model model(seed);
      if (!random_init) {
        auto file = mae::SafetensorsFile::from_file(checkpoint);
        mae::load_weights(model, file);
      }
      MAE_CHECK(layers <= blocks, "mae_probe: --layers " + std::to_string(layers) + " exceeds --blocks " +
                                      std::to_string(blocks));
      static constexpr const char* pool_names[] = {"cls token", "mean of patch tokens", "cls token and mean of patch tokens"};
      what = std::string(random_init ? "random-init" : "pretrained") + " encoder, " +
             pool_names[static_cast<int>(pool)];
      if (blocks != Preset::depth) what += ", after block " + std::to_string(blocks);
      if (layers > 1) what += ", last " + std::to_string(layers) + " blocks";
      auto ftrain = encoder_features(model, train, pool, blocks, layers);
      auto ftest = encoder_features(model, test, pool, blocks, layers);
      const std::size_t multiple = layers * (pool == Pool::both ? 2 : 1);
      // The probe's width is a static extent: one instantiation per multiple of D that the options can give.
      auto probe = [&]<std::size_t M>() {
        acc = train_and_test<M * Model::D>(std::move(ftrain), train.labels, std::move(ftest), test.labels, epochs, lr,
                                           seed);
        return true;
      };
      [&]<std::size_t... M>(std::index_sequence<M...>) {
        ((multiple == M + 1 && probe.template operator()<M + 1>()) || ...);
      }(std::make_index_sequence<2 * Preset::depth>{});
    }
    std::printf("linear probe (%s): %s accuracy %.2f%%\n", what.c_str(), validation ? "validation" : "test",
                100.0 * acc);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mae_probe: %s\n", e.what());
    return 1;
  }
  return 0;
}
