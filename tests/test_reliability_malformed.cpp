// Malformed checkpoints on disk: each class of hostile file (issue 7), made from a real checkpoint of
// the tiny model, gives load_checkpoint a mae::error that names the file and the fault, and leaves the
// model and the optimizer untouched. (The same classes on synthetic headers: test_io_safetensors.cpp.)
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>

#include "support/tiny_model.hpp"

using namespace mae;
using test::TinyModel;

namespace {

namespace fs = std::filesystem;
using Optimizer = optim::AdamW<float>;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("mae_test_malformed_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

// A safetensors file split into its header text and its data section, to be edited and reassembled.
struct Parts {
  std::string header;
  std::vector<std::byte> data;

  explicit Parts(const std::vector<std::byte>& file) {
    std::uint64_t n = 0;
    std::memcpy(&n, file.data(), 8);
    header.assign(reinterpret_cast<const char*>(file.data()) + 8, n);
    data.assign(file.begin() + 8 + static_cast<std::ptrdiff_t>(n), file.end());
  }
  // Replaces the one occurrence of `from` (which must exist) with `to`.
  Parts& replace(const std::string& from, const std::string& to) {
    const auto at = header.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, "no '" << from << "' in the header");
    header.replace(at, from.size(), to);
    return *this;
  }
  std::vector<std::byte> bytes(std::uint64_t length) const {
    std::vector<std::byte> f(8 + header.size() + data.size());
    std::memcpy(f.data(), &length, 8);
    std::memcpy(f.data() + 8, header.data(), header.size());
    if (!data.empty()) std::memcpy(f.data() + 8 + header.size(), data.data(), data.size());
    return f;
  }
  std::vector<std::byte> bytes() const { return bytes(header.size()); }
};

std::vector<float> state(TinyModel& m, Optimizer& opt) {
  std::vector<float> out = test::flat_params(m);
  for (auto& s : opt.slots()) {
    out.insert(out.end(), s.exp_avg.data(), s.exp_avg.data() + s.size);
    out.insert(out.end(), s.exp_avg_sq.data(), s.exp_avg_sq.data() + s.size);
  }
  out.push_back(static_cast<float>(opt.steps()));
  return out;
}

// Loads `bytes` as a checkpoint file into a fresh model and optimizer: the error must name the file and
// contain `text`, and nothing may have been loaded.
void check_rejected(const TempDir& dir, const std::string& name, const std::vector<std::byte>& bytes,
                    const std::string& text) {
  INFO("case " << name);
  const std::string path = (dir.path / (name + ".safetensors")).string();
  write_file_atomic(path, bytes);
  TinyModel model(5);
  Optimizer opt(model, {});
  const auto before = state(model, opt);
  try {
    load_checkpoint(path, model, &opt);
    FAIL_CHECK("loaded a malformed checkpoint");
  } catch (const mae::error& e) {
    const std::string msg = e.what();
    CHECK_MESSAGE(msg.find(path) != std::string::npos, msg);
    CHECK_MESSAGE(msg.find(text) != std::string::npos, msg);
  }
  CHECK(state(model, opt) == before);
}

// A real checkpoint of the tiny model with AdamW moments, as bytes.
std::vector<std::byte> good_checkpoint(const TempDir& dir) {
  TinyModel model(1);
  Optimizer opt(model, {});
  for (auto& s : opt.slots())
    for (std::size_t i = 0; i < s.size; ++i) s.exp_avg.data()[i] = 0.5f;
  opt.set_steps(3);
  const std::string path = (dir.path / "good.safetensors").string();
  save_checkpoint(path, model, &opt, 3);
  return read_file(path);
}

// The first tensors the writer lays out: cls_token (1, 1, 16) then patch_embed.proj.{weight,bias}.
const std::string cls = R"("cls_token":{"dtype":"F32","shape":[1,1,16],"data_offsets":[0,64]})";

}  // namespace

TEST_CASE("each malformed class of checkpoint file gives a clear error naming the file, and loads nothing") {
  const TempDir dir;
  const std::vector<std::byte> good = good_checkpoint(dir);
  const Parts parts(good);
  REQUIRE(parts.header.find(cls) != std::string::npos);
  const std::string data_size = std::to_string(parts.data.size());
  {  // the unedited file loads (the edits below, not the harness, make the other cases fail)
    TinyModel model(5);
    Optimizer opt(model, {});
    load_checkpoint((dir.path / "good.safetensors").string(), model, &opt);
    CHECK(opt.steps() == 3);
  }

  check_rejected(dir, "empty", {}, "file is 0 bytes, shorter than the 8-byte header length");
  check_rejected(dir, "truncated_by_one_byte", std::vector<std::byte>(good.begin(), good.end() - 1),
                 "extend past the " + std::to_string(parts.data.size() - 1) + " bytes of data");
  check_rejected(dir, "truncated_in_header", std::vector<std::byte>(good.begin(), good.begin() + 100),
                 "exceeds the 92 bytes after the length field");
  check_rejected(dir, "header_length_past_end", parts.bytes(good.size()),
                 "header length " + std::to_string(good.size()) + " exceeds the");
  check_rejected(dir, "header_length_absurd", parts.bytes(std::uint64_t{1} << 62),
                 "header length 4611686018427387904 exceeds the limit of 100000000 bytes");
  check_rejected(dir, "invalid_json", Parts(parts).replace(cls, "\"cls_token\":{\"dtype\":\"F32\",}").bytes(),
                 "invalid JSON header");
  check_rejected(dir, "not_utf8", Parts(parts).replace("\"cls_token\"", "\"cls_t\xff\xfeoken\"").bytes(),
                 "invalid JSON header");
  check_rejected(dir, "offsets_outside_data",
                 Parts(parts)
                     .replace("[0,64]}", "[" + data_size + "," + std::to_string(parts.data.size() + 64) + "]}")
                     .bytes(),
                 "tensor 'cls_token' data_offsets [" + data_size + ", " + std::to_string(parts.data.size() + 64) +
                     "] extend past the " + data_size + " bytes of data");
  check_rejected(dir, "overlapping_tensors",
                 Parts(parts).replace(R"("data_offsets":[2112,2176])", R"("data_offsets":[0,64])").bytes(),
                 "[0, 64] overlap");  // cls_token and patch_embed.proj.bias, in either order
  check_rejected(dir, "shape_vs_byte_count", Parts(parts).replace("[1,1,16]", "[1,1,15]").bytes(),
                 "tensor 'cls_token' (F32, shape (1, 1, 15)) needs 60 bytes, data_offsets [0, 64] hold 64");
  check_rejected(dir, "dtype_vs_byte_count", Parts(parts).replace(cls, R"("cls_token":{"dtype":"F64","shape":[1,1,16],"data_offsets":[0,64]})").bytes(),
                 "tensor 'cls_token' (F64, shape (1, 1, 16)) needs 128 bytes");
  check_rejected(dir, "shape_product_overflow", Parts(parts).replace("[1,1,16]", "[4294967296,4294967296,16]").bytes(),
                 "shape (4294967296, 4294967296, 16) overflows the element count");
  check_rejected(dir, "duplicate_name", Parts(parts).replace(cls, cls + "," + cls).bytes(),
                 "duplicate key 'cls_token' in header");
  check_rejected(dir, "unknown_dtype", Parts(parts).replace(cls, R"("cls_token":{"dtype":"F31","shape":[1,1,16],"data_offsets":[0,64]})").bytes(),
                 "tensor 'cls_token' has unknown dtype 'F31'");
  // Well-formed safetensors, but not a checkpoint this model can take.
  check_rejected(dir, "int_dtype_weight", Parts(parts).replace(cls, R"("cls_token":{"dtype":"I32","shape":[1,1,16],"data_offsets":[0,64]})").bytes(),
                 "cls_token: dtype I32, expected a float dtype (F32, F64, F16, BF16)");
  check_rejected(dir, "wrong_shape_weight", Parts(parts).replace("[1,1,16]", "[1,16,1]").bytes(),
                 "cls_token: expected shape (1, 1, 16), found (1, 16, 1)");
  check_rejected(dir, "bad_mask_seed", Parts(parts).replace(R"("mask_seed":"1")", R"("mask_seed":"0x1")").bytes(),
                 "metadata 'mask_seed' is not a non-negative integer: '0x1'");
  check_rejected(dir, "no_optimizer_steps", Parts(parts).replace(R"("optimizer_steps":"3")", R"("optimizer_step":"3")").bytes(),
                 "has no optimizer_steps");
}

TEST_CASE("a moment of an integer dtype is refused before the weights are loaded (no half-loaded resume)") {
  const TempDir dir;
  const Parts parts(good_checkpoint(dir));
  const auto at = parts.header.find(R"("optimizer.exp_avg.norm.bias":{"dtype":"F32")");
  REQUIRE(at != std::string::npos);
  Parts bad = parts;
  bad.header.replace(bad.header.find("F32", at), 3, "I32");
  check_rejected(dir, "int_dtype_moment", bad.bytes(), "lacks a fitting optimizer.exp_avg.norm.bias");
}

TEST_CASE("load_weights refuses an integer dtype under HuggingFace names too, before writing any weight") {
  TinyModel source(1);
  SafetensorsWriter w;
  source.visit_params([&](const std::string& name, auto& p) {
    const auto names = hf_names(name);
    const std::size_t per = p.value.size() / names.size();
    for (std::size_t k = 0; k < names.size(); ++k) {
      std::vector<std::int64_t> shape(p.value.dims().begin(), p.value.dims().end());
      shape[0] /= static_cast<std::int64_t>(names.size());
      if (names[k] == "vit.encoder.layer.1.attention.attention.value.weight") {
        const std::vector<std::int32_t> ints(per, 1);
        w.add(names[k], std::span<const std::int32_t>(ints), shape);
      } else {
        w.add(names[k], std::span<const float>(p.value.data() + k * per, per), shape);
      }
    }
  });
  const auto bytes = w.to_bytes();
  const SafetensorsFile file = SafetensorsFile::from_memory(bytes, "hf.safetensors");
  TinyModel model(5);
  const auto before = test::flat_params(model);
  CHECK_THROWS_WITH_AS(load_weights(model, file),
                       doctest::Contains("vit.encoder.layer.1.attention.attention.value.weight: dtype I32, expected a "
                                         "float dtype"),
                       mae::error);
  CHECK(test::flat_params(model) == before);
}
