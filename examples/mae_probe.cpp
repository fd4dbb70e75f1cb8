// Linear probe on frozen MAE encoder features (cls token or mean of patch tokens), or on raw pixels:
// features standardised per dimension (BatchNorm without affine), then a softmax linear classifier.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>

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

// Encoder features of every image: the cls token or the mean of the patch tokens, after `blocks` encoder blocks
// (all of them: after the final norm).
std::vector<float> encoder_features(Model& model, const examples::Dataset& d, bool mean_pool, std::size_t blocks) {
  constexpr std::size_t D = Model::D, L = Model::L, chunk = 500;
  std::vector<float> out(d.n * D);
  mae::Tape<> tape(false);
  for (std::size_t s = 0; s < d.n; s += chunk) {
    const std::size_t count = std::min(chunk, d.n - s);
    tape.reset();
    mae::Var<float, Model::Images> imgs{const_cast<float*>(d.images.data()) + s * 28 * 28, nullptr, {count, 1, 28, 28}};
    auto x = model.encode_all(tape, imgs, blocks);
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t k = 0; k < D; ++k) {
        double v = 0;
        if (mean_pool) {
          for (std::size_t t = 1; t <= L; ++t) v += x.value[(i * (L + 1) + t) * D + k];
          v /= L;
        } else {
          v = x.value[i * (L + 1) * D + k];
        }
        out[(s + i) * D + k] = static_cast<float>(v);
      }
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
  bool raw = false, mean_pool = false, random_init = false, validation = false;
  int epochs = 10, threads = 0;
  std::size_t blocks = Preset::depth;
  double lr = 1e-3;
  std::uint64_t seed = 0;
  app.add_option("--data", data_dir, "Fashion-MNIST directory (Debian package dataset-fashion-mnist)");
  app.add_option("--checkpoint", checkpoint, "pretrained weights (official or HuggingFace names; encoder suffices)");
  app.add_flag("--raw-pixels", raw, "baseline: logistic regression on the raw pixels");
  app.add_flag("--mean-pool", mean_pool, "features: mean of the patch tokens instead of the cls token");
  app.add_flag("--validation", validation,
               "evaluate on the last 10000 training images (probe trained on the first 50000): for choosing "
               "options without looking at the test set");
  app.add_flag("--random-init", random_init, "probe a randomly initialised encoder (no checkpoint)");
  app.add_option("--blocks", blocks, "features after this many encoder blocks (default: all, then the final norm)");
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
      what = std::string(random_init ? "random-init" : "pretrained") + " encoder, " +
             (mean_pool ? "mean of patch tokens" : "cls token");
      if (blocks != Preset::depth) what += ", after block " + std::to_string(blocks);
      auto ftrain = encoder_features(model, train, mean_pool, blocks);
      auto ftest = encoder_features(model, test, mean_pool, blocks);
      acc = train_and_test<Model::D>(std::move(ftrain), train.labels, std::move(ftest), test.labels, epochs, lr, seed);
    }
    std::printf("linear probe (%s): %s accuracy %.2f%%\n", what.c_str(), validation ? "validation" : "test",
                100.0 * acc);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mae_probe: %s\n", e.what());
    return 1;
  }
  return 0;
}
