#pragma once
// The bit-equality check of the embedded path against the heap model, shared by the doctest TUs.
#include <doctest/doctest.h>

#include <memory>

#include "fixture.hpp"

namespace mae::test {

// A model and its arena on the heap of the test (the arena of ViT-sized presets would not fit a stack).
template <class Model>
struct Bound {
  std::unique_ptr<embedded::StaticArena<Model>> arena = std::make_unique<embedded::StaticArena<Model>>();
  Model model;
  Bound() { REQUIRE(model.bind(arena->bytes, sizeof arena->bytes) == embedded::Status::ok); }
};

// Both the encoder-only and the full model when `with_encoder_only` (each instantiation costs compile time).
template <class Preset, std::size_t Batch, bool with_encoder_only>
void check_same_bits(std::uint64_t seed) {
  using Mae = embedded::StaticMae<Preset, Batch>;
  using Encoder = embedded::StaticEncoder<Preset, Batch>;
  EmbeddedFixture<Preset> fx(seed);
  const auto bytes = fx.bytes();
  auto images = fx.uniform(Mae::image_elems, seed + 1, -2.f, 2.f);
  const auto noise = fx.uniform(Mae::noise_elems, seed + 2, 0.f, 1.f);

  const auto features = fx.encode_all(images, Batch);
  const auto heap = fx.forward(images, noise, Batch);
  REQUIRE(features.size() == Mae::feature_elems);
  REQUIRE(heap.pred.size() == Mae::pred_elems);

  std::vector<float> out(Mae::feature_elems);
  if constexpr (with_encoder_only) {
    Bound<Encoder> enc;
    REQUIRE(embedded::load_weights(enc.model, bytes.data(), bytes.size()) == embedded::Status::ok);
    REQUIRE(enc.model.encode_all(images.data(), out.data()) == embedded::Status::ok);
    CHECK(same_bits(out.data(), features.data(), out.size()));
  }

  Bound<Mae> full;
  REQUIRE(embedded::load_weights(full.model, bytes.data(), bytes.size()) == embedded::Status::ok);
  std::vector<float> pred(Mae::pred_elems), mask(Mae::mask_elems);
  REQUIRE(full.model.reconstruct(images.data(), noise.data(), pred.data(), mask.data()) == embedded::Status::ok);
  CHECK(same_bits(pred.data(), heap.pred.data(), pred.size()));
  CHECK(same_bits(mask.data(), heap.mask.data(), mask.size()));
  // The full model encodes too; running the decoder in between leaves no trace in the encoder.
  std::fill(out.begin(), out.end(), -1.f);
  REQUIRE(full.model.encode_all(images.data(), out.data()) == embedded::Status::ok);
  CHECK(same_bits(out.data(), features.data(), out.size()));
  // A second call gives the same bits (nothing carried over in the arena).
  REQUIRE(full.model.reconstruct(images.data(), noise.data(), pred.data(), mask.data()) == embedded::Status::ok);
  CHECK(same_bits(pred.data(), heap.pred.data(), pred.size()));
}

}  // namespace mae::test
