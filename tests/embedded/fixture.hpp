#pragma once
// A heap MaskedAutoencoder with every parameter perturbed (so that no bias is 0 and no norm weight 1, and a
// swapped pointer shows), its weights as safetensors bytes, and inputs: the reference for the embedded path.
#include <cstring>
#include <random>
#include <vector>

#include "mae/io/static_weights.hpp"
#include "mae/mae.hpp"

namespace mae::test {

template <class Preset>
struct EmbeddedFixture {
  using Model = MaskedAutoencoder<Preset>;
  Model model;

  explicit EmbeddedFixture(std::uint64_t seed) : model(seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> n(0.f, 0.05f);
    model.visit_params([&](const std::string&, auto& p) {
      for (std::size_t i = 0; i < p.value.size(); ++i) p.value.data()[i] += n(rng);
    });
  }

  // Safetensors bytes of the parameters and position tables; `keep(name)` selects the tensors.
  template <class Keep>
  std::vector<std::byte> bytes(Keep keep) {
    SafetensorsWriter w;
    const auto add = [&](const std::string& name, auto& t) {
      if (!keep(name)) return;
      std::vector<std::int64_t> shape(t.dims().begin(), t.dims().end());
      w.add(name, std::span<const float>(t.data(), t.size()), shape);
    };
    model.visit_params([&](const std::string& name, auto& p) { add(name, p.value); });
    model.visit_buffers(add);
    return w.to_bytes();
  }
  std::vector<std::byte> bytes() {
    return bytes([](const std::string&) { return true; });
  }

  static std::vector<float> uniform(std::size_t n, std::uint64_t seed, float lo, float hi) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
  }

  // Heap results (MaskedAutoencoder with an inference tape).
  std::vector<float> encode_all(std::vector<float>& images, std::size_t batch) {
    Tape<> tape(false);
    Var<float, typename Model::Images> imgs{images.data(), nullptr, {batch, Model::C, Model::Img, Model::Img}};
    auto f = model.encode_all(tape, imgs);
    return {f.value, f.value + f.size()};
  }
  struct Reconstruction {
    std::vector<float> pred, mask;
  };
  Reconstruction forward(std::vector<float>& images, const std::vector<float>& noise, std::size_t batch) {
    Tape<> tape(false);
    Var<float, typename Model::Images> imgs{images.data(), nullptr, {batch, Model::C, Model::Img, Model::Img}};
    auto out = model.forward(tape, imgs, noise.data());
    return {{out.pred.value, out.pred.value + out.pred.size()},
            {out.masking.mask, out.masking.mask + batch * Model::L}};
  }
};

// Same bits (not merely equal values: -0 vs +0 and NaN payloads count).
inline bool same_bits(const float* a, const float* b, std::size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

}  // namespace mae::test
