#pragma once
// A model small enough to train for a few steps inside a unit test.
#include <random>
#include <vector>

#include "mae/mae.hpp"

namespace mae::test {

struct tiny_name { static constexpr std::string_view value = "test-tiny"; };
using TinyPreset = MaePreset<MaeConfig<12, 4, 2, 16, 2, 2, 8, 1, 2>, tiny_name>;  // L = 9, keep 2, 2 channels
using TinyModel = MaskedAutoencoder<TinyPreset>;

inline std::vector<float> random_images(std::size_t batch, std::uint64_t seed) {
  std::vector<float> x(batch * TinyModel::C * TinyModel::Img * TinyModel::Img);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.f, 1.f);
  for (auto& v : x) v = n(rng);
  return x;
}

inline Var<float, TinyModel::Images> image_var(std::vector<float>& x) {
  const std::size_t batch = x.size() / (TinyModel::C * TinyModel::Img * TinyModel::Img);
  return {x.data(), nullptr, {batch, TinyModel::C, TinyModel::Img, TinyModel::Img}};
}

// Flat copy of every parameter, for bitwise comparisons.
inline std::vector<float> flat_params(TinyModel& m) {
  std::vector<float> out;
  m.visit_params([&](const std::string&, auto& p) { out.insert(out.end(), p.value.data(), p.value.data() + p.value.size()); });
  return out;
}

}  // namespace mae::test
