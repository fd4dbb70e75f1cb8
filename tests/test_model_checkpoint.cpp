// Checkpoints: round trip, HuggingFace names, encoder-only files, wrong presets, corrupt files.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "support/tiny_model.hpp"

using namespace mae;
using test::TinyModel;

namespace {
struct other_name { static constexpr std::string_view value = "test-other"; };

std::string temp(const char* name) { return (std::filesystem::temp_directory_path() / name).string(); }

// Writes the model's weights under HuggingFace names (q/k/v split), optionally without the decoder.
void save_hf(TinyModel& m, const std::string& path, bool with_decoder) {
  SafetensorsWriter w;
  auto add = [&](const std::string& name, auto& t) {
    if (!with_decoder && is_decoder_name(name)) return;
    auto names = hf_names(name);
    REQUIRE(!names.empty());
    const std::size_t rows = t.dims()[0] / names.size(), per = t.size() / names.size();
    for (std::size_t k = 0; k < names.size(); ++k) {
      std::vector<std::int64_t> shape(t.dims().begin(), t.dims().end());
      shape[0] = static_cast<std::int64_t>(rows);
      if (names.size() == 1) shape[0] = static_cast<std::int64_t>(t.dims()[0]);
      w.add(names[k], std::span<const float>(t.data() + k * per, per), shape);
    }
  };
  m.visit_params([&](const std::string& n, auto& p) { add(n, p.value); });
  m.visit_buffers(add);
  w.write(path);
}

float loss_of(TinyModel& m) {
  auto images = test::random_images(3, 9);
  std::vector<float> noise(3 * TinyModel::L);
  fill_uniform(noise.data(), noise.size(), 1, 2);
  Tape<> tape(false);
  return m.forward(tape, test::image_var(images), noise.data()).loss.value[0];
}
}  // namespace

TEST_CASE("save then load restores every parameter bit for bit") {
  TinyModel a(1), b(2);
  const auto path = temp("mae_ckpt_roundtrip.safetensors");
  save_checkpoint<TinyModel, optim::AdamW<float>>(path, a, nullptr, 12);
  auto meta = SafetensorsFile::from_file(path).metadata();
  CHECK(meta.at("preset") == "test-tiny");
  CHECK(meta.at("step") == "12");
  load_weights(b, SafetensorsFile::from_file(path));
  CHECK(test::flat_params(a) == test::flat_params(b));
  std::filesystem::remove(path);
}

TEST_CASE("HuggingFace names (split q/k/v) load to the same model") {
  TinyModel a(1), b(2);
  const auto path = temp("mae_ckpt_hf.safetensors");
  save_hf(a, path, true);
  auto report = load_weights(b, SafetensorsFile::from_file(path), LoadOptions{.require_decoder = true});
  CHECK(report.hf_names);
  CHECK(test::flat_params(a) == test::flat_params(b));
  CHECK(loss_of(a) == loss_of(b));
  std::filesystem::remove(path);
}

TEST_CASE("an encoder-only file loads the encoder and reports the missing decoder") {
  TinyModel a(1), b(2);
  const auto path = temp("mae_ckpt_encoder.safetensors");
  save_hf(a, path, false);
  auto report = load_weights(b, SafetensorsFile::from_file(path));
  CHECK(!report.missing.empty());
  for (auto& n : report.missing) CHECK(is_decoder_name(n));
  CHECK(std::equal(a.blocks[1].attn.qkv.weight.value.data(), a.blocks[1].attn.qkv.weight.value.data() + 16 * 48,
                   b.blocks[1].attn.qkv.weight.value.data()));
  CHECK_THROWS_WITH_AS(load_weights(b, SafetensorsFile::from_file(path), LoadOptions{.require_decoder = true}),
                       doctest::Contains("decoder_pred.weight: missing"), mae::error);
  std::filesystem::remove(path);
}

TEST_CASE("a checkpoint of another preset is refused with every mismatched tensor named") {
  using Other = MaskedAutoencoder<MaePreset<MaeConfig<12, 4, 2, 24, 2, 2, 8, 1, 2>, other_name>>;
  Other other(1);
  const auto path = temp("mae_ckpt_other.safetensors");
  save_checkpoint<Other, optim::AdamW<float>>(path, other, nullptr, 1);
  TinyModel m(1);
  const auto before = test::flat_params(m);
  try {
    load_weights(m, SafetensorsFile::from_file(path));
    FAIL("loaded a checkpoint of another preset");
  } catch (const mae::error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("does not fit preset 'test-tiny'") != std::string::npos);
    CHECK(msg.find("the file says preset 'test-other'") != std::string::npos);
    CHECK(msg.find("blocks.0.attn.qkv.weight: expected shape (48, 16), found (72, 24)") != std::string::npos);
    CHECK(msg.find("cls_token: expected shape (1, 1, 16), found (1, 1, 24)") != std::string::npos);
  }
  CHECK(test::flat_params(m) == before);  // validated before anything was written
  std::filesystem::remove(path);
}

TEST_CASE("a truncated checkpoint gives a clear error and the previous file survives a failed save") {
  TinyModel a(1);
  const auto path = temp("mae_ckpt_trunc.safetensors");
  save_checkpoint<TinyModel, optim::AdamW<float>>(path, a, nullptr, 3);
  const auto size = std::filesystem::file_size(path);
  const auto cut = temp("mae_ckpt_trunc_cut.safetensors");
  std::filesystem::copy_file(path, cut, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(cut, size - 1);
  TinyModel b(2);
  CHECK_THROWS_AS(load_weights(b, SafetensorsFile::from_file(cut)), mae::error);
  // A save into a directory that does not exist fails without touching anything else.
  CHECK_THROWS_AS((save_checkpoint<TinyModel, optim::AdamW<float>>(temp("no_such_dir/x.safetensors"), a, nullptr, 4)),
                  mae::error);
  CHECK(std::filesystem::file_size(path) == size);
  std::filesystem::remove(path);
  std::filesystem::remove(cut);
}

TEST_CASE("frozen weights: the unfrozen bits, packed once per shape, a snapshot until frozen again") {
  TinyModel a(1), b(2);
  auto one = test::random_images(1, 5), three = test::random_images(3, 6);
  const auto encode = [](TinyModel& m, Tape<>& tape, std::vector<float>& images) {
    tape.reset();
    auto z = m.encode_all(tape, test::image_var(images));
    return std::vector<float>(z.value, z.value + z.size());
  };
  Tape<> plain(false), frozen(false);
  frozen.freeze_weights();
  REQUIRE(frozen.frozen_weights() != nullptr);
  const auto ref1 = encode(a, plain, one), ref3 = encode(a, plain, three);
  CHECK(encode(a, frozen, one) == ref1);  // packs every weight
  CHECK(encode(a, frozen, one) == ref1);  // reuses the packing
  CHECK(encode(a, frozen, three) == ref3);  // another shape: packed again
  CHECK(encode(a, frozen, one) == ref1);

  // New weights under the same addresses (a loaded checkpoint): the packing is what was frozen until frozen again.
  const auto path = temp("mae_ckpt_frozen.safetensors");
  save_checkpoint<TinyModel, optim::AdamW<float>>(path, b, nullptr, 0);
  load_weights(a, SafetensorsFile::from_file(path));
  std::filesystem::remove(path);
  const auto loaded = encode(a, plain, one);
  REQUIRE(loaded != ref1);
  if (cpu::detail::avx512_gemm_active()) CHECK(encode(a, frozen, one) != loaded);  // only there is a packing kept
  frozen.freeze_weights();
  CHECK(encode(a, frozen, one) == loaded);

  frozen.set_recording(true);  // training changes the weights: recording thaws them
  CHECK(frozen.frozen_weights() == nullptr);
  CHECK_THROWS_WITH_AS(frozen.freeze_weights(), doctest::Contains("inference tape"), mae::error);
}
