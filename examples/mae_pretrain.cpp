// Pretrains the fmnist-tiny MAE on Fashion-MNIST, with checkpoints, --resume and a PNG of reconstructions.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "common.hpp"

using Preset = mae::presets::fmnist_tiny;
using Model = mae::MaskedAutoencoder<Preset>;

namespace {

void write_figure(Model& model, const examples::Dataset& test, std::size_t count, std::uint64_t seed,
                  const std::string& path) {
  std::vector<float> images(count * 28 * 28);
  std::vector<std::uint32_t> idx(count);
  std::iota(idx.begin(), idx.end(), 0u);
  examples::gather_images(test, idx.data(), count, images.data());
  mae::Tape<> tape(false);
  mae::Var<float, Model::Images> imgs{images.data(), nullptr, {count, 1, 28, 28}};
  auto out = model.forward(tape, imgs, nullptr, seed);
  auto rec = mae::reconstruct(images.data(), out.pred.value, out.masking.mask, count, 1, 28, 28, Preset::patch,
                              model.norm_pix_loss, (0.0f - examples::fmnist_mean) / examples::fmnist_std);
  std::size_t w = 0, h = 0;
  auto px = mae::figure_pixels(images.data(), rec, count, 1, 28, 28,
                               [](float v, std::size_t) { return v * examples::fmnist_std + examples::fmnist_mean; }, w, h,
                               4);
  mae::write_png(path, static_cast<int>(w), static_cast<int>(h), 1, px.data());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Pretrain a Masked Autoencoder (preset fmnist-tiny) on Fashion-MNIST"};
  std::string data_dir = examples::default_data_dir(), checkpoint = "runs/mae_fmnist-tiny.safetensors",
              png = "runs/reconstructions.png";
  double epochs = 3, blr = 1.5e-3, min_lr = 0, warmup = 0.5, clip = 0;
  std::size_t batch = 128, save_every = 200, figures = 8;
  int accum = 1, threads = 0;
  std::uint64_t seed = 0;
  bool resume = false, no_norm_pix = false;
  app.add_option("--data", data_dir, "Fashion-MNIST directory (Debian package dataset-fashion-mnist)");
  app.add_option("--epochs", epochs, "epochs to train (fractional allowed)");
  app.add_option("--batch", batch, "images per iteration");
  app.add_option("--blr", blr, "base learning rate; lr = blr * batch * accum-iter / 256");
  app.add_option("--min-lr", min_lr, "final learning rate of the cosine schedule");
  app.add_option("--warmup-epochs", warmup, "linear warmup length in epochs");
  app.add_option("--accum-iter", accum, "iterations per optimizer step (gradient accumulation)");
  app.add_option("--clip-grad", clip, "clip the global gradient norm to this value (0: off)");
  app.add_option("--seed", seed, "seed of the weights, the masks and the data order");
  app.add_option("--threads", threads, "OpenMP threads (0: the default)");
  app.add_option("--checkpoint", checkpoint, "checkpoint file, written atomically");
  app.add_option("--save-every", save_every, "iterations between checkpoints");
  app.add_flag("--resume", resume, "continue from --checkpoint");
  app.add_flag("--no-norm-pix", no_norm_pix, "regress raw patches instead of per-patch normalised ones");
  app.add_option("--png", png, "reconstruction figure of the first test images");
  app.add_option("--figures", figures, "number of images in the figure");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) omp_set_num_threads(threads);

  try {
    const auto train = examples::load_fashion_mnist(data_dir, true);
    const auto test = examples::load_fashion_mnist(data_dir, false);
    Model model(seed);
    model.norm_pix_loss = !no_norm_pix;
    mae::optim::Pretrainer<Model> trainer(
        model, {.adamw = {.lr = blr * batch * accum / 256.0}, .accum_iter = accum, .clip_grad = clip});
    const std::size_t per_epoch = train.n / batch, total = static_cast<std::size_t>(epochs * per_epoch);
    const mae::optim::WarmupCosine schedule{blr * batch * accum / 256.0, min_lr, warmup, epochs};
    std::size_t start = 0;
    if (resume) {
      auto meta = mae::load_checkpoint(checkpoint, model, &trainer.optimizer());
      start = std::stoull(meta.at("step"));
      std::printf("resumed from %s at iteration %zu\n", checkpoint.c_str(), start);
    }
    std::filesystem::create_directories(std::filesystem::path(checkpoint).parent_path().empty()
                                            ? "." : std::filesystem::path(checkpoint).parent_path());
    std::printf("mae %s: preset %s, %zu train images, batch %zu, %zu iterations (%.2f epochs), lr %.2e\n",
                mae::version_string, std::string(Preset::name).c_str(), train.n, batch, total, epochs,
                schedule.base_lr);

    std::vector<float> images(batch * 28 * 28);
    std::vector<std::uint32_t> order;
    std::size_t order_epoch = static_cast<std::size_t>(-1);
    examples::Progress progress(total, start);
    double loss = 0;
    for (std::size_t it = start; it < total; ++it) {
      const std::size_t epoch = it / per_epoch, pos = it % per_epoch;
      if (epoch != order_epoch) { order = examples::epoch_order(train.n, seed, epoch); order_epoch = epoch; }
      examples::gather_images(train, order.data() + pos * batch, batch, images.data());
      mae::Var<float, Model::Images> imgs{images.data(), nullptr, {batch, 1, 28, 28}};
      loss = trainer.step(imgs, it, schedule(static_cast<double>(it) / per_epoch));
      if ((it + 1) % 10 == 0 || it + 1 == total) progress.update(it + 1, loss, batch);
      if ((it + 1) % save_every == 0 || it + 1 == total)
        mae::save_checkpoint(checkpoint, model, &trainer.optimizer(), static_cast<long>(it + 1),
                             {{"seed", std::to_string(seed)}, {"batch", std::to_string(batch)}});
    }
    std::printf("\ntrained %zu iterations in %.1f s; final loss %.4f; checkpoint %s\n", total - start,
                progress.elapsed(), loss, checkpoint.c_str());
    if (!png.empty() && figures > 0) {
      write_figure(model, test, std::min(figures, test.n), seed, png);
      std::printf("reconstructions: %s (original | masked | reconstruction | reconstruction + visible)\n",
                  png.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mae_pretrain: %s\n", e.what());
    return 1;
  }
  return 0;
}
