// The host side of the embedded path (mae/io/embedded_export.hpp, used by tools/mae_to_header): a checkpoint in
// HuggingFace names and BF16 becomes bytes the static model reads in place, with the bits of the heap model that
// loaded the original file; the header holds exactly those bytes.
#include <doctest/doctest.h>

#include <bit>

#include "embedded/check_bits.hpp"
#include "mae/io/embedded_export.hpp"
#include "support/tiny_model.hpp"

namespace {
using namespace mae;
using embedded::Status;
using Preset = test::TinyPreset;
using Mae = embedded::StaticMae<Preset, 2>;
using Encoder = embedded::StaticEncoder<Preset, 2>;

// The fixture's weights under HuggingFace names (qkv split in three), as BF16 (truncated), with AdamW moments.
std::vector<std::byte> hf_bf16_checkpoint(test::EmbeddedFixture<Preset>& fx) {
  SafetensorsWriter w;
  const auto add = [&](const std::string& official, auto& t) {
    const auto names = hf_names(official);
    REQUIRE(!names.empty());
    std::vector<std::int64_t> shape(t.dims().begin(), t.dims().end());
    shape[0] /= static_cast<std::int64_t>(names.size());
    const std::size_t part = t.size() / names.size();
    for (std::size_t k = 0; k < names.size(); ++k) {
      std::vector<std::uint16_t> bf16(part);
      for (std::size_t i = 0; i < part; ++i) bf16[i] = std::bit_cast<std::uint32_t>(t.data()[k * part + i]) >> 16;
      w.add_raw(names[k], "BF16", shape, std::as_bytes(std::span(bf16)));
    }
    std::vector<float> moment(t.size(), 1e-3f);
    w.add("optimizer.exp_avg." + official, std::span<const float>(moment), std::vector<std::int64_t>{std::int64_t(t.size())});
  };
  fx.model.visit_params([&](const std::string& name, auto& p) { add(name, p.value); });
  fx.model.visit_buffers(add);
  return w.to_bytes();
}

}  // namespace

TEST_CASE("embedded_weights: HF names in BF16 with optimizer state -> F32 official bytes, the heap model's bits") {
  test::EmbeddedFixture<Preset> fx(71);
  const auto original = hf_bf16_checkpoint(fx);
  const auto source = SafetensorsFile::from_memory(original);
  const auto full = embedded_weights<Preset>(source, false);
  const auto encoder_only = embedded_weights<Preset>(source, true);

  // The heap model loads the original file: the reference.
  test::EmbeddedFixture<Preset> heap(72);
  load_weights(heap.model, source, LoadOptions{.require_decoder = true});
  auto images = heap.uniform(Mae::image_elems, 73, -1.f, 1.f);
  const auto noise = heap.uniform(Mae::noise_elems, 74, 0.f, 1.f);
  const auto features = heap.encode_all(images, 2);
  const auto reference = heap.forward(images, noise, 2);

  test::Bound<Mae> m;
  REQUIRE(embedded::load_weights(m.model, full.data(), full.size()) == Status::ok);
  std::vector<float> out(Mae::feature_elems), pred(Mae::pred_elems), mask(Mae::mask_elems);
  REQUIRE(m.model.encode_all(images.data(), out.data()) == Status::ok);
  CHECK(test::same_bits(out.data(), features.data(), out.size()));
  REQUIRE(m.model.reconstruct(images.data(), noise.data(), pred.data(), mask.data()) == Status::ok);
  CHECK(test::same_bits(pred.data(), reference.pred.data(), pred.size()));

  test::Bound<Encoder> e;
  REQUIRE(embedded::load_weights(e.model, encoder_only.data(), encoder_only.size()) == Status::ok);
  REQUIRE(e.model.encode_all(images.data(), out.data()) == Status::ok);
  CHECK(test::same_bits(out.data(), features.data(), out.size()));

  // Only what the models read: every byte beyond the header is a weight.
  const auto parsed = SafetensorsFile::from_memory(full);
  const auto parsed_encoder = SafetensorsFile::from_memory(encoder_only);
  std::size_t data = 0, encoder_data = 0;
  for (const auto& t : parsed.tensors()) {
    CHECK(t.dtype == "F32");
    data += t.end - t.begin;
  }
  for (const auto& t : parsed_encoder.tensors()) {
    CHECK(!is_decoder_name(t.name));
    encoder_data += t.end - t.begin;
  }
  CHECK(data == Mae::weight_bytes);
  CHECK(encoder_data == Encoder::weight_bytes);
  CHECK(parsed.metadata().at("preset") == std::string(Preset::name));
}

TEST_CASE("weights_header holds the bytes exactly, behind a checked symbol") {
  std::vector<std::byte> bytes(300);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>((i * 151) % 256);
  const std::string text = weights_header(bytes, "my_weights", "test");
  CHECK(text.find("inline constexpr std::size_t my_weights_size = 300;") != std::string::npos);
  CHECK(text.find("alignas(64) inline constexpr unsigned char my_weights[300 + 1]") != std::string::npos);
  std::vector<std::byte> decoded;
  for (std::size_t at = text.find("\\x"); at != std::string::npos; at = text.find("\\x", at + 4))
    decoded.push_back(static_cast<std::byte>(std::stoi(text.substr(at + 2, 2), nullptr, 16)));
  CHECK(decoded == bytes);
  CHECK_THROWS_AS(weights_header(bytes, "2fast", "test"), mae::error);
  CHECK_THROWS_AS(weights_header(bytes, "a-b", "test"), mae::error);
  CHECK_THROWS_AS(weights_header(bytes, "ok", "two\nlines"), mae::error);
}
