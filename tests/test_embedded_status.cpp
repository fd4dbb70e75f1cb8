// The embedded path on a small 2-channel preset: the heap model's bits at batch 3, and every failure reported
// as a Status (with the offending tensor named) while the model stays usable.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "embedded/check_bits.hpp"
#include "support/tiny_model.hpp"

namespace {
using namespace mae;
using embedded::Status;
using test::Bound;
using Preset = test::TinyPreset;
using Mae = embedded::StaticMae<Preset, 3>;
using Encoder = embedded::StaticEncoder<Preset, 3>;
}  // namespace

TEST_CASE("embedded 2-channel preset, batch 3: encode_all, pred and mask are the heap model's bits") {
  test::check_same_bits<Preset, 3, true>(51);
}

TEST_CASE("embedded models report a missing arena or missing weights") {
  test::EmbeddedFixture<Preset> fx(52);
  const auto bytes = fx.bytes();
  auto images = fx.uniform(Mae::image_elems, 53, 0.f, 1.f);
  std::vector<float> out(Mae::feature_elems), pred(Mae::pred_elems), mask(Mae::mask_elems);
  const auto noise = fx.uniform(Mae::noise_elems, 54, 0.f, 1.f);

  Mae m;
  CHECK(m.encode_all(images.data(), out.data()) == Status::not_ready);
  REQUIRE(embedded::load_weights(m, bytes.data(), bytes.size()) == Status::ok);
  CHECK(m.reconstruct(images.data(), noise.data(), pred.data(), mask.data()) == Status::not_ready);

  alignas(64) static std::byte arena[Mae::required_bytes + 64];
  CHECK(m.bind(arena, Mae::required_bytes - 1) == Status::buffer_too_small);
  CHECK(m.bind(arena + 4, Mae::required_bytes) == Status::buffer_misaligned);
  REQUIRE(m.bind(arena, sizeof arena) == Status::ok);
  CHECK(m.encode_all(images.data(), out.data()) == Status::ok);
}

TEST_CASE("embedded load_weights names the tensor it rejects and leaves the loaded weights in place") {
  test::EmbeddedFixture<Preset> fx(55);
  const auto good = fx.bytes();
  auto images = fx.uniform(Mae::image_elems, 56, -1.f, 1.f);
  const auto noise = fx.uniform(Mae::noise_elems, 57, 0.f, 1.f);
  const auto heap = fx.forward(images, noise, Mae::batch);
  Bound<Mae> b;
  REQUIRE(embedded::load_weights(b.model, good.data(), good.size()) == Status::ok);

  embedded::TensorName failed;
  const auto rejected = [&](const std::vector<std::byte>& bytes) {
    return embedded::load_weights(b.model, bytes.data(), bytes.size(), &failed);
  };
  // An encoder-only file: fine for the encoder, not for the full model.
  const auto encoder_only = fx.bytes([](const std::string& name) { return !is_decoder_name(name); });
  Encoder enc;
  CHECK(embedded::load_weights(enc, encoder_only.data(), encoder_only.size()) == Status::ok);
  CHECK(rejected(encoder_only) == Status::tensor_missing);
  CHECK(failed.view() == "mask_token");

  // Every parameter and table, with `replace` adding one of them differently.
  const auto rewritten = [&](const std::string& which, auto replace) {
    SafetensorsWriter w;
    const auto add = [&](const std::string& name, auto& t) {
      if (name == which) return replace(w, t);
      w.add(name, std::span<const float>(t.data(), t.size()), std::vector<std::int64_t>(t.dims().begin(), t.dims().end()));
    };
    fx.model.visit_params([&](const std::string& name, auto& p) { add(name, p.value); });
    fx.model.visit_buffers(add);
    return w.to_bytes();
  };
  CHECK(rejected(rewritten("blocks.1.norm2.weight", [](SafetensorsWriter& w, auto& t) {
          std::vector<double> v(t.data(), t.data() + t.size());
          w.add("blocks.1.norm2.weight", std::span<const double>(v), {static_cast<std::int64_t>(t.size())});
        })) == Status::dtype_unsupported);
  CHECK(failed.view() == "blocks.1.norm2.weight");
  CHECK(rejected(rewritten("decoder_blocks.0.attn.qkv.weight", [](SafetensorsWriter& w, auto& t) {
          const auto d = t.dims();  // (3D, D) stored as (D, 3D)
          w.add("decoder_blocks.0.attn.qkv.weight", std::span<const float>(t.data(), t.size()),
                std::vector<std::int64_t>(d.rbegin(), d.rend()));
        })) == Status::shape_mismatch);
  CHECK(failed.view() == "decoder_blocks.0.attn.qkv.weight");
  // F32 data at an odd address.
  {
    std::vector<std::byte> shifted(good.size() + 1);
    std::copy(good.begin(), good.end(), shifted.begin() + 1);
    CHECK(embedded::load_weights(b.model, shifted.data() + 1, good.size(), &failed) == Status::weights_misaligned);
  }
  // Not a safetensors file at all.
  {
    std::vector<std::byte> truncated(good.begin(), good.begin() + 20);
    CHECK(rejected(truncated) == Status::file_too_short);
  }

  // None of this touched the loaded weights.
  std::vector<float> pred(Mae::pred_elems), mask(Mae::mask_elems);
  REQUIRE(b.model.reconstruct(images.data(), noise.data(), pred.data(), mask.data()) == Status::ok);
  CHECK(test::same_bits(pred.data(), heap.pred.data(), pred.size()));
}

TEST_CASE("embedded reconstruct rejects non-finite noise") {
  test::EmbeddedFixture<Preset> fx(59);
  const auto bytes = fx.bytes();
  Bound<Mae> b;
  REQUIRE(embedded::load_weights(b.model, bytes.data(), bytes.size()) == Status::ok);
  auto images = fx.uniform(Mae::image_elems, 60, 0.f, 1.f);
  auto noise = fx.uniform(Mae::noise_elems, 61, 0.f, 1.f);
  std::vector<float> pred(Mae::pred_elems), mask(Mae::mask_elems);
  noise[5] = std::numeric_limits<float>::quiet_NaN();
  CHECK(b.model.reconstruct(images.data(), noise.data(), pred.data(), mask.data()) == Status::invalid_noise);
  noise[5] = std::numeric_limits<float>::infinity();
  CHECK(b.model.reconstruct(images.data(), noise.data(), pred.data(), mask.data()) == Status::invalid_noise);
  noise[5] = 0.5f;
  CHECK(b.model.reconstruct(images.data(), noise.data(), pred.data(), mask.data()) == Status::ok);
}

TEST_CASE("embedded sizes: weight_bytes counts the parameters the model reads; the arena holds the GEMM workspace") {
  test::EmbeddedFixture<Preset> fx(62);
  std::size_t encoder = 0, all = 0;
  fx.model.visit_params([&](const std::string& name, auto& p) {
    all += p.value.size();
    if (!is_decoder_name(name)) encoder += p.value.size();
  });
  fx.model.visit_buffers([&](const std::string& name, auto& t) {
    all += t.size();
    if (!is_decoder_name(name)) encoder += t.size();
  });
  CHECK(Encoder::weight_bytes == encoder * sizeof(float));
  CHECK(Mae::weight_bytes == all * sizeof(float));
  CHECK(Encoder::required_bytes < Mae::required_bytes);
  CHECK(Mae::layout.workspace_elems > 0);
  CHECK(Mae::required_bytes % Mae::alignment == 0);
}
