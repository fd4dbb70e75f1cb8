#pragma once
// Whole-model parity with the PyTorch reference (tests/reference/make_mae_fixtures.py): same weights, images and
// noise; compares loss, pred, mask, every parameter gradient by name, and the losses of 5 AdamW steps.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "mae/mae.hpp"

namespace mae::test {

inline double rel_l2(const float* a, const std::vector<float>& b) {
  double d = 0, n = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    d += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    n += double(b[i]) * b[i];
  }
  return std::sqrt(d) / std::max(std::sqrt(n), 1e-30);
}

template <class Preset>
void check_model_parity(const std::string& path) {
  using Model = MaskedAutoencoder<Preset>;
  constexpr std::size_t L = Model::L;
  INFO("fixture: " << path);
  REQUIRE(std::filesystem::exists(path));
  auto file = SafetensorsFile::from_file(path);
  Model model;
  load_weights(model, file, LoadOptions{.require_decoder = true}, "param.");

  auto images = file.read_f32("images");
  const auto& ishape = file.at("images").shape;
  const std::size_t batch = static_cast<std::size_t>(ishape[0]);
  auto noise = file.read_f32("noise_steps");
  REQUIRE(noise.size() == 5 * batch * L);
  Var<float, typename Model::Images> imgs{images.data(), nullptr, {batch, Model::C, Model::Img, Model::Img}};

  Tape<> tape;
  auto out = model.forward(tape, imgs, noise.data());
  const double ref_loss = file.read_f32("loss")[0];
  CHECK(std::abs(out.loss.value[0] - ref_loss) <= 1e-5 * std::abs(ref_loss));

  auto mask = file.read_f32("mask");
  for (std::size_t i = 0; i < mask.size(); ++i) REQUIRE(out.masking.mask[i] == mask[i]);
  auto restore = file.read_i64("ids_restore");
  for (std::size_t i = 0; i < restore.size(); ++i) REQUIRE(out.masking.ids_restore[i] == restore[i]);
  CHECK(rel_l2(out.pred.value, file.read_f32("pred")) <= 1e-5);

  tape.backward(out.loss);
  std::string worst_name;
  double worst = 0;
  std::size_t compared = 0;
  model.visit_params([&](const std::string& name, auto& p) {
    auto ref = file.read_f32("grad." + name);
    REQUIRE(ref.size() == p.grad.size());
    const double rel = rel_l2(p.grad.data(), ref);
    ++compared;
    if (rel > worst) { worst = rel; worst_name = name; }
  });
  MESSAGE("loss " << out.loss.value[0] << " vs PyTorch " << ref_loss << "; worst gradient: " << worst_name
                  << " relative error " << worst);
  std::size_t grads_in_file = 0;
  for (auto& t : file.tensors()) grads_in_file += t.name.rfind("grad.", 0) == 0;
  CHECK(compared == grads_in_file);  // every reference gradient has its parameter, and vice versa
  CHECK(worst <= 1e-4);

  // Five AdamW steps from the same weights (lr 1e-3 constant, MAE parameter groups).
  Model trained;
  load_weights(trained, file, LoadOptions{.require_decoder = true}, "param.");
  optim::AdamW<float> opt(trained, {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.05});
  opt.zero_grad();
  auto ref_losses = file.read_f32("train_losses");
  for (std::size_t k = 0; k < 5; ++k) {
    tape.reset();
    auto o = trained.forward(tape, imgs, noise.data() + k * batch * L);
    CHECK(std::abs(o.loss.value[0] - ref_losses[k]) <= 1e-4 * std::abs(ref_losses[k]));
    tape.backward(o.loss);
    opt.step();
    opt.zero_grad();
  }
  trained.visit_params([&](const std::string& name, auto& p) {
    if (auto* t = file.find("param_after." + name)) {
      INFO("parameter after 5 steps: " << name);
      CHECK(rel_l2(p.value.data(), file.read_f32(t->name)) <= 1e-4);
    }
  });
}

}  // namespace mae::test
