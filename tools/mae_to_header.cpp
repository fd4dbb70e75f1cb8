// mae_to_header: a checkpoint -> the weights of the embedded path (mae::embedded::StaticModel), either as a C++
// header with a constant array (targets without a file system) or as a safetensors file to place in flash.
// Any checkpoint the heap model loads works (official or HuggingFace names, F32/F64/F16/BF16, optimizer state
// is dropped); the output holds only the F32 tensors the static model reads in place.
//
//   mae_to_header checkpoint.safetensors weights.hpp [--symbol mae_weights] [--encoder-only] [--preset fmnist-tiny]
//   mae_to_header checkpoint.safetensors weights.safetensors --encoder-only
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "mae/io/embedded_export.hpp"

namespace {

// The presets it knows, tried in order.
template <class Preset, class... Rest>
std::vector<std::byte> convert(const mae::SafetensorsFile& file, const std::string& preset, bool encoder_only,
                               std::string known = {}) {
  known += (known.empty() ? "" : ", ") + std::string(Preset::name);
  if (Preset::name == preset) return mae::embedded_weights<Preset>(file, encoder_only);
  if constexpr (sizeof...(Rest) > 0)
    return convert<Rest...>(file, preset, encoder_only, known);
  else
    throw mae::error("mae_to_header: unknown preset '" + preset + "' (known: " + known + ")");
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Checkpoint -> weights of mae's embedded path: a C++ header (.hpp/.h) or a .safetensors file"};
  std::string input, output, preset, symbol = "mae_weights";
  bool encoder_only = false;
  app.add_option("input", input, "checkpoint (.safetensors)")->required()->check(CLI::ExistingFile);
  app.add_option("output", output, "weights.hpp (a header) or weights.safetensors")->required();
  app.add_option("--preset", preset, "model preset (default: the checkpoint's 'preset' metadata)");
  app.add_option("--symbol", symbol, "name of the array in the header (its size: <symbol>_size)");
  app.add_flag("--encoder-only", encoder_only, "keep the encoder's tensors only (for StaticEncoder)");
  CLI11_PARSE(app, argc, argv);

  try {
    const auto file = mae::SafetensorsFile::from_file(input);
    if (preset.empty()) {
      const auto it = file.metadata().find("preset");
      MAE_CHECK(it != file.metadata().end(), "mae_to_header: " + input + " names no preset in its metadata: pass --preset");
      preset = it->second;
    }
    // The small presets an embedded target can hold; each one listed costs about 4 s of compile time.
    const auto bytes = convert<mae::presets::fmnist_tiny, mae::presets::cifar_vit_tiny>(file, preset, encoder_only);
    const std::string parts = encoder_only ? "encoder" : "encoder and decoder";
    if (ends_with(output, ".safetensors")) {
      const std::span<const std::byte> all[] = {bytes};
      mae::write_file_atomic(output, all);
    } else {
      const std::string text =
          mae::weights_header(bytes, symbol, preset + " " + parts + " from " + input);
      const std::span<const std::byte> all[] = {std::as_bytes(std::span(text))};
      mae::write_file_atomic(output, all);
    }
    std::printf("%s: %zu bytes of %s weights (%s) from %s\n", output.c_str(), bytes.size(), preset.c_str(),
                parts.c_str(), input.c_str());
  } catch (const mae::error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
