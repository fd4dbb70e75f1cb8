#pragma once
// The complete MAE training step, CPU backend vs CUDA backend in FP32: the CUDA model takes the CPU model's
// weights through copy_parameters, both draw the masking noise for the same (seed, step) on their own backend.
// Masks must be bit-identical; the loss and every parameter gradient (by name) within 1e-4 relative; then a few
// AdamW iterations through the Pretrainer keep the losses within 1e-4.
#include <map>
#include <string>

#include "cuda_support.hpp"
#include "mae/models/mae.hpp"
#include "mae/optim/pretrain.hpp"

namespace mae::test {

inline constexpr double model_tolerance = 1e-4;

inline double rel_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, s = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    d += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    s += double(b[i]) * b[i];
  }
  return s > 0 ? std::sqrt(d / s) : std::sqrt(d);
}

template <class Preset>
void check_cuda_training_parity(std::size_t batch, std::uint64_t seed) {
  using CpuModel = MaskedAutoencoder<Preset, float, backends::cpu>;
  using CudaModel = MaskedAutoencoder<Preset, float, backends::cuda>;
  constexpr std::size_t L = CpuModel::L, keep = Preset::keep;
  INFO(Preset::name << ", batch " << batch);
  CpuModel cm(seed);
  CudaModel gm(seed);
  copy_parameters(cm, gm);

  auto images = random_vector<float>(batch * CpuModel::C * CpuModel::Img * CpuModel::Img, seed + 1, -2.0, 2.0);
  device_buffer<float> gimages(images);
  const dims_t<typename CpuModel::Images> dims{batch, CpuModel::C, CpuModel::Img, CpuModel::Img};
  Var<float, typename CpuModel::Images, backends::cpu> cimg{images.data(), nullptr, dims};
  Var<float, typename CudaModel::Images, backends::cuda> gimg{gimages.data(), nullptr, dims};

  Tape<backends::cpu> ctape;
  Tape<backends::cuda> gtape;
  auto co = cm.forward(ctape, cimg, nullptr, 3);
  auto go = gm.forward(gtape, gimg, nullptr, 3);
  const auto same = [](const auto* host, const auto* device, std::size_t n) {
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(host)>>;
    return to_host_vector<backends::cuda>(device, n) == std::vector<T>(host, host + n);
  };
  CHECK(same(co.masking.ids_shuffle, go.masking.ids_shuffle, batch * L));
  CHECK(same(co.masking.ids_restore, go.masking.ids_restore, batch * L));
  CHECK(same(co.masking.ids_keep, go.masking.ids_keep, batch * keep));
  CHECK(same(co.masking.mask, go.masking.mask, batch * L));

  const double closs = co.loss.value[0], gloss = kernels<backends::cuda>::read_scalar(go.loss.value);
  CHECK(std::abs(gloss - closs) <= model_tolerance * std::abs(closs));

  ctape.backward(co.loss);
  gtape.backward(go.loss);
  std::map<std::string, std::vector<float>> cpu_grads;
  cm.visit_params([&](const std::string& name, auto& p) { cpu_grads[name].assign(p.grad.data(), p.grad.data() + p.grad.size()); });
  std::string worst_name;
  double worst = 0;
  std::size_t compared = 0;
  gm.visit_params([&](const std::string& name, auto& p) {
    const double err = rel_l2(to_host_vector<backends::cuda>(p.grad.data(), p.grad.size()), cpu_grads.at(name));
    ++compared;
    if (err >= worst) { worst = err; worst_name = name; }
  });
  CHECK(compared == cpu_grads.size());
  MESSAGE(std::string(Preset::name) << " batch " << batch << ": loss cpu " << closs << " cuda " << gloss << "; "
                                    << compared << " gradients, worst " << worst_name << " relative L2 error " << worst);
  CHECK(worst <= model_tolerance);

  optim::Pretrainer<CpuModel> ctrain(cm, {.adamw = {.lr = 1e-3}});
  optim::Pretrainer<CudaModel> gtrain(gm, {.adamw = {.lr = 1e-3}});
  for (std::uint64_t it = 0; it < 3; ++it) {
    const double lc = ctrain.step(cimg, it, 1e-3), lg = gtrain.step(gimg, it, 1e-3);
    INFO("iteration " << it << ": loss cpu " << lc << " cuda " << lg);
    CHECK(std::abs(lg - lc) <= model_tolerance * std::abs(lc));
  }
}

}  // namespace mae::test
