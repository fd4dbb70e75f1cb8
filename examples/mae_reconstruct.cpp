// Runs a pretrained MAE on given images (and optionally given masking noise) and writes its predictions,
// masks and loss; a tool other programs can drive:
//   mae_reconstruct --preset NAME --checkpoint W.safetensors --images X.safetensors
//                   [--noise N.safetensors] [--mask-ratio R] [--out O.safetensors] [--png F.png] [--json]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>

#include <mae/mae.hpp>

namespace {

struct Options {
  std::string preset, checkpoint, images, noise, out, png;
  std::optional<double> mask_ratio;
  bool json = false;
  std::uint64_t seed = 0;
};

template <class Preset>
int run(const Options& o) {
  using Model = mae::MaskedAutoencoder<Preset>;
  constexpr std::size_t C = Model::C, H = Model::Img, L = Model::L, PD = Model::PD;
  Model model;
  auto weights = mae::SafetensorsFile::from_file(o.checkpoint);
  auto report = mae::load_weights(model, weights, mae::LoadOptions{.require_decoder = true});

  auto xfile = mae::SafetensorsFile::from_file(o.images);
  const auto& info = xfile.at("images");
  MAE_CHECK(info.shape.size() == 4 && info.shape[1] == std::int64_t(C) && info.shape[2] == std::int64_t(H) &&
                info.shape[3] == std::int64_t(H),
            o.images + ": tensor 'images' has shape " + mae::detail::shape_text(info.shape) + ", preset " + o.preset +
                " needs (N," + std::to_string(C) + "," + std::to_string(H) + "," + std::to_string(H) + ")");
  const std::size_t n = static_cast<std::size_t>(info.shape[0]);
  auto images = xfile.read_f32("images");

  std::vector<float> noise;
  if (!o.noise.empty()) {
    auto nfile = mae::SafetensorsFile::from_file(o.noise);
    const auto& ninfo = nfile.at("noise");
    MAE_CHECK(ninfo.shape == std::vector<std::int64_t>({std::int64_t(n), std::int64_t(L)}),
              o.noise + ": tensor 'noise' has shape " + mae::detail::shape_text(ninfo.shape) + ", expected (" +
                  std::to_string(n) + "," + std::to_string(L) + ")");
    noise = nfile.read_f32("noise");
  }
  const double ratio = o.mask_ratio.value_or(Preset::mask_ratio);
  MAE_CHECK(ratio >= 0.0 && ratio < 1.0, "--mask-ratio must be in [0, 1)");
  const std::size_t keep = mae::keep_count(L, ratio);
  MAE_CHECK(keep > 0, "--mask-ratio " + std::to_string(ratio) + " leaves no visible patch");

  mae::Tape<> tape(false);
  mae::Var<float, typename Model::Images> imgs{images.data(), nullptr, {n, C, H, H}};
  const float* noise_ptr = noise.empty() ? nullptr : noise.data();
  auto out = keep == Preset::keep ? model.forward(tape, imgs, noise_ptr, o.seed)
                                  : model.template forward<mae::dyn>(tape, imgs, noise_ptr, o.seed, keep);
  const double loss = out.loss.value[0];

  if (!o.out.empty()) {
    mae::SafetensorsWriter w;
    w.add("pred", std::span<const float>(out.pred.value, n * L * PD),
          {std::int64_t(n), std::int64_t(L), std::int64_t(PD)});
    w.add("mask", std::span<const float>(out.masking.mask, n * L), {std::int64_t(n), std::int64_t(L)});
    const float l = static_cast<float>(loss);
    w.add("loss", std::span<const float>(&l, 1), {});
    w.set_metadata("preset", o.preset);
    w.write(o.out);
  }
  if (!o.png.empty()) {
    auto rec = mae::reconstruct(images.data(), out.pred.value, out.masking.mask, n, C, H, H, Preset::patch,
                                model.norm_pix_loss);
    // Inputs are normalised images of unknown statistics: each panel is drawn with the input's min-max range.
    float lo = images[0], hi = images[0];
    for (float v : images) { lo = std::min(lo, v); hi = std::max(hi, v); }
    const float span = hi > lo ? hi - lo : 1.0f;
    std::size_t w = 0, h = 0;
    auto px = mae::figure_pixels(images.data(), rec, n, C, H, H, [&](float v, std::size_t) { return (v - lo) / span; },
                                 w, h);
    mae::write_png(o.png, static_cast<int>(w), static_cast<int>(h), static_cast<int>(C), px.data());
  }
  if (o.json)
    std::printf("{\"loss\": %.9g, \"n\": %zu}\n", loss, n);
  else
    std::printf("preset %s, %zu images, %s names%s: loss %.6f\n", o.preset.c_str(), n,
                report.hf_names ? "HuggingFace" : "official", report.missing.empty() ? "" : " (encoder only)", loss);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Reconstruct images with a pretrained Masked Autoencoder"};
  Options o;
  double ratio = -1;
  app.add_option("--preset", o.preset, "fmnist-tiny, cifar-vit-tiny, mae_vit_base_patch16, mae_vit_large_patch16, "
                                       "mae_vit_huge_patch14")->required();
  app.add_option("--checkpoint", o.checkpoint, "weights (official or HuggingFace names)")->required();
  app.add_option("--images", o.images, "safetensors with float32 'images' (N, C, H, W), normalised")->required();
  app.add_option("--noise", o.noise, "safetensors with float32 'noise' (N, L); default: drawn from --seed");
  app.add_option("--mask-ratio", ratio, "fraction of patches removed (default: the preset's 0.75)");
  app.add_option("--out", o.out, "write float32 'pred' (N, L, p*p*C), 'mask' (N, L), 'loss' ()");
  app.add_option("--png", o.png, "figure: original | masked | reconstruction | reconstruction + visible");
  app.add_option("--seed", o.seed, "masking seed when no --noise is given");
  app.add_flag("--json", o.json, "print {\"loss\": ..., \"n\": ...} on stdout");
  CLI11_PARSE(app, argc, argv);
  if (ratio >= 0) o.mask_ratio = ratio;
  try {
    namespace p = mae::presets;
    if (o.preset == p::fmnist_tiny::name) return run<p::fmnist_tiny>(o);
    if (o.preset == p::cifar_vit_tiny::name) return run<p::cifar_vit_tiny>(o);
    if (o.preset == p::mae_vit_base_patch16::name) return run<p::mae_vit_base_patch16>(o);
    if (o.preset == p::mae_vit_large_patch16::name) return run<p::mae_vit_large_patch16>(o);
    if (o.preset == p::mae_vit_huge_patch14::name) return run<p::mae_vit_huge_patch14>(o);
    throw mae::error("unknown preset '" + o.preset + "' (fmnist-tiny, cifar-vit-tiny, mae_vit_base_patch16, "
                     "mae_vit_large_patch16, mae_vit_huge_patch14)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mae_reconstruct: %s\n", e.what());
    return 1;
  }
}
