#pragma once
// The complete MAE training step on the Thrust backend against the CPU backend, same seed and images:
// masks bit-identical, loss and every parameter gradient (by name) within 1e-5 relative, then a few AdamW
// iterations through the Pretrainer (noise drawn on each backend) with losses and parameters still in step.
#include <map>
#include <string>

#include "mae/models/mae.hpp"
#include "mae/optim/pretrain.hpp"
#include "mae/backend/thrust/transfer.hpp"
#include "support.hpp"

namespace mae::test {

struct thrust_small_name { static constexpr std::string_view value = "thrust-test-small"; };
// 16x16 images of 3 channels in 4x4 patches: L = 16, keep 4; heads of width 8 and 8.
using ThrustSmallPreset = MaePreset<MaeConfig<16, 4, 3, 32, 2, 4, 16, 1, 2>, thrust_small_name>;

inline double rel_l2(const float* a, const float* b, std::size_t n) {
  double d = 0, s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    d += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    s += double(b[i]) * b[i];
  }
  return s > 0 ? std::sqrt(d / s) : std::sqrt(d);
}

template <class Model>
std::map<std::string, std::vector<float>> gradients(Model& m) {
  std::map<std::string, std::vector<float>> out;
  m.visit_params([&](const std::string& name, auto& p) {
    out[name].assign(p.grad.data(), p.grad.data() + p.grad.size());
  });
  return out;
}

template <class Preset>
void check_training_parity(std::size_t batch, std::uint64_t seed) {
  using CpuModel = MaskedAutoencoder<Preset, float, backends::cpu>;
  using ThrustModel = MaskedAutoencoder<Preset, float, thrust_backend_under_test>;
  constexpr std::size_t L = CpuModel::L;
  INFO(std::string(system_name()) << " " << Preset::name << ", batch " << batch);
  CpuModel cm(seed);
  ThrustModel tm(seed);
  auto images = random_vector<float>(batch * CpuModel::C * CpuModel::Img * CpuModel::Img, seed + 1, -2.0, 2.0);
  Var<float, typename CpuModel::Images, backends::cpu> cimg{images.data(), nullptr,
                                                           {batch, CpuModel::C, CpuModel::Img, CpuModel::Img}};
  Var<float, typename ThrustModel::Images, thrust_backend_under_test> timg{
      images.data(), nullptr, {batch, CpuModel::C, CpuModel::Img, CpuModel::Img}};

  Tape<backends::cpu> ctape;
  Tape<thrust_backend_under_test> ttape;
  auto co = cm.forward(ctape, cimg, nullptr, 3);
  auto to = tm.forward(ttape, timg, nullptr, 3);
  const std::size_t keep = Preset::keep;
  CHECK(std::equal(co.masking.ids_shuffle, co.masking.ids_shuffle + batch * L, to.masking.ids_shuffle));
  CHECK(std::equal(co.masking.ids_restore, co.masking.ids_restore + batch * L, to.masking.ids_restore));
  CHECK(std::equal(co.masking.ids_keep, co.masking.ids_keep + batch * keep, to.masking.ids_keep));
  CHECK(std::equal(co.masking.mask, co.masking.mask + batch * L, to.masking.mask));

  const double closs = co.loss.value[0], tloss = to.loss.value[0];
  INFO("loss cpu " << closs << " thrust " << tloss);
  CHECK(std::abs(tloss - closs) <= 1e-5 * std::abs(closs));
  CHECK(rel_l2(to.pred.value, co.pred.value, co.pred.size()) <= 1e-5);

  ctape.backward(co.loss);
  ttape.backward(to.loss);
  const auto cg = gradients(cm), tg = gradients(tm);
  REQUIRE(cg.size() == tg.size());
  std::string worst_name;
  double worst = 0;
  for (const auto& [name, ref] : cg) {
    const auto it = tg.find(name);
    REQUIRE(it != tg.end());
    REQUIRE(it->second.size() == ref.size());
    const double err = rel_l2(it->second.data(), ref.data(), ref.size());
    if (err >= worst) { worst = err; worst_name = name; }
  }
  MESSAGE(std::string(system_name()) << " " << Preset::name << ": " << cg.size() << " gradients, worst " << worst_name
                        << " relative L2 error " << worst << "; loss " << tloss << " vs " << closs);
  CHECK(worst <= 1e-5);

  // AdamW iterations through the Pretrainer: noise drawn per iteration on each backend.
  optim::Pretrainer<CpuModel> ctrain(cm, {.adamw = {.lr = 1e-3}});
  optim::Pretrainer<ThrustModel> ttrain(tm, {.adamw = {.lr = 1e-3}});
  for (std::uint64_t it = 0; it < 3; ++it) {
    const double lc = ctrain.step(cimg, it, 1e-3), lt = ttrain.step(timg, it, 1e-3);
    INFO("iteration " << it << ": loss cpu " << lc << " thrust " << lt);
    CHECK(std::abs(lt - lc) <= 1e-5 * std::abs(lc));
  }
  // The key third of every qkv bias has an identically zero gradient (each row of dS sums to 0), so its
  // "gradient" is rounding noise that Adam's normalisation turns into full steps of either sign: compare
  // the query and value thirds only.
  std::map<std::string, std::vector<float>> cpu_params;
  cm.visit_params([&](const std::string& name, auto& p) {
    cpu_params[name].assign(p.value.data(), p.value.data() + p.value.size());
  });
  double worst_param = 0;
  std::string worst_param_name;
  tm.visit_params([&](const std::string& name, auto& p) {
    std::vector<float> a(p.value.data(), p.value.data() + p.value.size()), b = cpu_params.at(name);
    if (name.ends_with("attn.qkv.bias")) {
      const std::size_t d = a.size() / 3;
      std::fill(a.begin() + d, a.begin() + 2 * d, 0.f);
      std::fill(b.begin() + d, b.begin() + 2 * d, 0.f);
    }
    const double err = rel_l2(a.data(), b.data(), a.size());
    if (err >= worst_param) { worst_param = err; worst_param_name = name; }
  });
  MESSAGE("after 3 AdamW iterations: worst parameter " << worst_param_name << " relative L2 error " << worst_param);
  CHECK(worst_param <= 1e-4);  // Adam divides by sqrt(v): small gradient differences grow, as in tests/support/parity.hpp
}

}  // namespace mae::test

