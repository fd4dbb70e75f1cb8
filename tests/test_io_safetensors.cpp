#include <doctest/doctest.h>

#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "mae/io/safetensors.hpp"

namespace {

using mae::SafetensorsFile;
using mae::SafetensorsWriter;

std::string data_dir() {
#ifdef MAE_TEST_DATA_DIR
  return MAE_TEST_DATA_DIR;
#else
  return (std::filesystem::path(__FILE__).parent_path() / "data").string();
#endif
}

// A file made of an 8-byte length (the header's size unless given), the header text and the data.
std::vector<std::byte> file_of(const std::string& header, std::size_t data_bytes = 0,
                               std::uint64_t length = std::numeric_limits<std::uint64_t>::max()) {
  if (length == std::numeric_limits<std::uint64_t>::max()) length = header.size();
  std::vector<std::byte> f(8 + header.size() + data_bytes, std::byte{0x5a});
  std::memcpy(f.data(), &length, 8);
  std::memcpy(f.data() + 8, header.data(), header.size());
  return f;
}

SafetensorsFile parse(const std::vector<std::byte>& f) {
  return SafetensorsFile::from_memory(f, "case.safetensors");
}

// One F32 tensor entry.
std::string f32(const std::string& name, const std::string& shape, const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":" + offsets +
         "}";
}

// One expansion of the throw-checking macro for all cases keeps this TU quick to compile.
void check_rejects(const std::vector<std::byte>& file, const std::string& text, int line) {
  INFO("case at line " << line);
  CHECK_THROWS_WITH_AS(parse(file), doctest::Contains(text.c_str()), mae::error);
}
#define CHECK_REJECTS(file, text) check_rejects(file, text, __LINE__)

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("mae_test_st_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

}  // namespace

TEST_CASE("round trip is bit-exact for every dtype the writer takes") {
  const std::vector<float> f = {0.0f,
                                -0.0f,
                                1.5f,
                                std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::denorm_min(),
                                std::bit_cast<float>(0x7fc01234u),  // NaN with a payload
                                -3.25e-30f};
  const std::vector<double> d = {1.0 / 3, -0.0, std::numeric_limits<double>::max()};
  const std::vector<std::int64_t> i64 = {std::numeric_limits<std::int64_t>::min(), -1, 0, 42};
  const std::vector<std::int32_t> i32 = {-7, std::numeric_limits<std::int32_t>::max()};
  SafetensorsWriter w;
  w.add("f", std::span<const float>(f), {7});
  w.add("d", std::span<const double>(d), {3, 1});
  w.add("i64", std::span<const std::int64_t>(i64), {2, 2});
  w.add("i32", std::span<const std::int32_t>(i32), {2});
  const float scalar = 2.5f;
  w.add("scalar", std::span<const float>(&scalar, 1), {});
  w.add("empty", std::span<const float>(), {0, 3});
  w.set_metadata("epoch", "3");
  const std::vector<std::byte> bytes = w.to_bytes();

  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  CHECK(header_len % 8 == 0);
  const std::string header(reinterpret_cast<const char*>(bytes.data()) + 8, header_len);
  CHECK(header.rfind("{\"__metadata__\":{\"format\":\"pt\",\"epoch\":\"3\"}", 0) == 0);

  const SafetensorsFile r = parse(bytes);
  REQUIRE(r.tensors().size() == 6);
  const char* names[] = {"f", "d", "i64", "i32", "scalar", "empty"};
  for (std::size_t i = 0; i < 6; ++i) CHECK(r.tensors()[i].name == names[i]);
  CHECK(r.metadata() == std::map<std::string, std::string>{{"format", "pt"}, {"epoch", "3"}});
  const auto same_bytes = [&](const char* name, const auto& v) {
    const auto b = r.bytes(*r.find(name));
    return b.size() == v.size() * sizeof(v[0]) && std::memcmp(b.data(), v.data(), b.size()) == 0;
  };
  CHECK(same_bytes("f", f));
  CHECK(same_bytes("d", d));
  CHECK(same_bytes("i64", i64));
  CHECK(same_bytes("i32", i32));
  const std::vector<float> f_back = r.read_f32("f");
  CHECK(std::memcmp(f_back.data(), f.data(), f.size() * sizeof(float)) == 0);
  CHECK(r.read_f64("d") == d);
  CHECK(r.read_i64("i64") == i64);
  CHECK(r.read_i64("i32") == std::vector<std::int64_t>{-7, std::numeric_limits<std::int32_t>::max()});
  CHECK(r.find("scalar")->shape.empty());
  CHECK(r.read_f32("scalar") == std::vector<float>{2.5f});
  CHECK(r.find("empty")->shape == std::vector<std::int64_t>{0, 3});
  CHECK(r.read_f32("empty").empty());
  CHECK(r.find("absent") == nullptr);

  // write() puts exactly to_bytes() on disk, and from_file reads it back.
  const std::string path = temp_path("roundtrip.safetensors");
  w.write(path);
  const SafetensorsFile from_disk = SafetensorsFile::from_file(path);
  CHECK(mae::read_file(path) == bytes);
  CHECK(from_disk.read_i64("i64") == i64);
  std::filesystem::remove(path);
}

TEST_CASE("names and metadata with quotes, escapes and non-ASCII UTF-8 round-trip") {
  const std::vector<std::string> names = {"blocks.0.attn.qkv.weight", "q\"uote", "back\\slash",
                                          "tab\tnew\nline\x01", "caf\xc3\xa9", "\xf0\x9d\x94\x81",
                                          ""};
  SafetensorsWriter w;
  const float one = 1;
  for (const std::string& n : names) w.add(n, std::span<const float>(&one, 1), {1});
  w.set_metadata("k\"\\", "v\n\xe2\x82\xac");
  w.set_metadata("format", "pt");  // replaces, does not duplicate
  const auto bytes = w.to_bytes();
  const SafetensorsFile r = parse(bytes);
  REQUIRE(r.tensors().size() == names.size());
  for (std::size_t i = 0; i < names.size(); ++i) CHECK(r.tensors()[i].name == names[i]);
  CHECK(r.metadata() == std::map<std::string, std::string>{{"format", "pt"},
                                                            {"k\"\\", "v\n\xe2\x82\xac"}});
  // Invalid UTF-8: a lone continuation byte, an overlong form, a surrogate, a cut sequence.
  for (const char* bad : {"a\x80", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80"}) {
    SafetensorsWriter b;
    b.add(bad, std::span<const float>(&one, 1), {1});
    CHECK_THROWS_WITH_AS(b.to_bytes(), doctest::Contains("is not valid UTF-8"), mae::error);
  }
}

TEST_CASE("reads a file written from PyTorch tensors (tests/data/tiny.safetensors)") {
  const SafetensorsFile r = SafetensorsFile::from_file(data_dir() + "/tiny.safetensors");
  CHECK(r.tensors().size() == 10);
  CHECK(r.metadata().at("format") == "pt");

  const std::vector<float> ramp = r.read_f32("ramp_f32");
  CHECK(r.find("ramp_f32")->shape == std::vector<std::int64_t>{3, 4});
  REQUIRE(ramp.size() == 12);
  for (std::size_t i = 0; i < 12; ++i) CHECK(ramp[i] == static_cast<float>(i) * 0.25f - 1.0f);

  // One float64 tensor saved also as F32, F16 and BF16 by torch: our decoders must agree with
  // torch's rounding (F32 exactly, the 16-bit types within half an ulp).
  const std::vector<double> ref = r.read_f64("randn_f64");
  const std::vector<float> as_f32 = r.read_f32("randn_f32"), as_f16 = r.read_f32("randn_f16"),
                           as_bf16 = r.read_f32("randn_bf16");
  REQUIRE(ref.size() == 35);
  REQUIRE(as_f16.size() == 35);
  for (std::size_t i = 0; i < ref.size(); ++i) {
    CHECK(as_f32[i] == static_cast<float>(ref[i]));
    CHECK(std::abs(as_f16[i] - ref[i]) <= 0x1p-11 * std::abs(ref[i]) + 0x1p-25);
    CHECK(std::abs(as_bf16[i] - ref[i]) <= 0x1p-8 * std::abs(ref[i]));
  }
  CHECK(r.read_f64("randn_f32") == std::vector<double>(as_f32.begin(), as_f32.end()));

  const std::vector<float> sp = r.read_f32("specials_f16");
  REQUIRE(sp.size() == 9);
  CHECK(sp[0] == 0.0f);
  CHECK(!std::signbit(sp[0]));
  CHECK(sp[1] == 0.0f);
  CHECK(std::signbit(sp[1]));
  CHECK(sp[2] == 1.0f);
  CHECK(sp[3] == -2.0f);
  CHECK(sp[4] == 65504.0f);
  CHECK(sp[5] == 0x1p-24f);  // smallest subnormal
  CHECK(sp[6] == std::numeric_limits<float>::infinity());
  CHECK(sp[7] == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(sp[8]));

  CHECK(r.read_i64("labels_i64") == std::vector<std::int64_t>{-3, -2, -1, 0, 1, 2});
  CHECK(r.read_i64("idx_i32") == std::vector<std::int64_t>{0, 3, 6, 9});
  CHECK(r.read_f32("scalar") == std::vector<float>{3.5f});
  CHECK(r.read_f32("empty").empty());
}

TEST_CASE("typed reads check the dtype, the name and the destination size") {
  const SafetensorsFile r = SafetensorsFile::from_file(data_dir() + "/tiny.safetensors");
  CHECK_THROWS_WITH_AS(r.read_i64("ramp_f32"), doctest::Contains("dtype F32 is not one of I64, I32"),
                       mae::error);
  CHECK_THROWS_WITH_AS(r.read_f32("labels_i64"), doctest::Contains("read_f32 of tensor 'labels_i64'"),
                       mae::error);
  CHECK_THROWS_WITH_AS(r.read_f32("nope"), doctest::Contains("no tensor 'nope' (10 tensors"),
                       mae::error);
  std::vector<float> wrong(11);
  CHECK_THROWS_WITH_AS(r.read_f32_into("ramp_f32", wrong),
                       doctest::Contains("shape (3, 4) = 12 elements, the destination holds 11"),
                       mae::error);
  std::vector<float> right(12);
  r.read_f32_into("ramp_f32", right);
  CHECK(right[11] == 1.75f);
}

TEST_CASE("accepts padded headers, zero-size tensors, scalars, any data order, no tensors") {
  // Whitespace around the JSON, tensors listed in another order than their data.
  const std::string h = "  {" + f32("b", "[2]", "[4,12]") + "," + f32("a", "[]", "[0,4]") + "," +
                        f32("z1", "[0]", "[12,12]") + "," + f32("z2", "[3,0,2]", "[12,12]") +
                        ",\"__metadata__\":{}}    ";
  const auto f = file_of(h, 12);
  const SafetensorsFile r = parse(f);
  CHECK(r.tensors().size() == 4);
  CHECK(r.tensors()[0].name == "b");
  CHECK(r.find("z2")->numel() == 0);
  CHECK(r.metadata().empty());
  CHECK(parse(file_of("{}")).tensors().empty());
  CHECK(parse(file_of("{\"__metadata__\":{\"a\":\"b\"}}")).metadata().at("a") == "b");
  // A zero-size tensor in the middle of the data is fine too.
  CHECK(parse(file_of("{" + f32("a", "[1]", "[0,4]") + "," + f32("e", "[0]", "[4,4]") + "," +
                      f32("b", "[1]", "[4,8]") + "}",
                      8))
            .tensors()
            .size() == 3);
}

TEST_CASE("rejects truncated files and bad header lengths") {
  CHECK_REJECTS(std::vector<std::byte>{}, "file is 0 bytes, shorter than the 8-byte header length");
  CHECK_REJECTS(std::vector<std::byte>(7), "file is 7 bytes");
  CHECK_REJECTS(file_of("{}", 0, 10), "header length 10 exceeds the 2 bytes after the length field");
  CHECK_REJECTS(file_of("{}", 0, 200'000'000), "header length 200000000 exceeds the limit");
  CHECK_REJECTS(file_of("{}", 0, std::numeric_limits<std::uint64_t>::max() - 1), "exceeds the limit");
  CHECK_REJECTS(file_of("", 0), "invalid JSON header");

  // Every strict prefix of a valid file is rejected with mae::error.
  SafetensorsWriter w;
  const std::vector<float> v = {1, 2, 3};
  w.add("v", std::span<const float>(v), {3});
  const std::vector<std::byte> full = w.to_bytes();
  for (std::size_t n = 0; n < full.size(); ++n)
    CHECK_THROWS_AS(parse(std::vector<std::byte>(full.begin(), full.begin() + n)), mae::error);
  CHECK_REJECTS(std::vector<std::byte>(full.begin(), full.end() - 1), "extend past the 11 bytes");
}

TEST_CASE("rejects malformed JSON headers") {
  CHECK_REJECTS(file_of("{\"a\":"), "invalid JSON header");
  CHECK_REJECTS(file_of("{} x"), "invalid JSON header");
  CHECK_REJECTS(file_of("{\"\xff\":1}"), "invalid JSON header");  // not UTF-8
  CHECK_REJECTS(file_of("[]"), "header is not a JSON object");
  CHECK_REJECTS(file_of("\"x\""), "header is not a JSON object");
  CHECK_REJECTS(file_of("{\"a\":3}"), "entry 'a' is not an object");
  CHECK_REJECTS(file_of("{\"a\":[[[[[[1]]]]]]}"), "entry 'a' is not an object");
  CHECK_REJECTS(file_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}"), "tensor 'a' lacks 'data_offsets'");
  CHECK_REJECTS(file_of("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"x\":1}}", 4),
                "unknown field 'x' in tensor 'a'");
  CHECK_REJECTS(file_of("{\"a\":{\"dtype\":5,\"shape\":[],\"data_offsets\":[0,4]}}", 4),
                "dtype of tensor 'a' must be a string");
}

TEST_CASE("rejects duplicate keys (nlohmann's DOM would keep the last one)") {
  CHECK_REJECTS(file_of("{" + f32("a", "[1]", "[0,4]") + "," + f32("a", "[1]", "[4,8]") + "}", 8),
                "duplicate key 'a' in header");
  CHECK_REJECTS(file_of("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                "duplicate key 'dtype' in tensor 'a'");
  CHECK_REJECTS(file_of("{\"__metadata__\":{},\"__metadata__\":{}}"),
                "duplicate key '__metadata__' in header");
  CHECK_REJECTS(file_of("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"),
                "duplicate key 'k' in __metadata__");
}

TEST_CASE("rejects bad dtypes and shapes") {
  CHECK_REJECTS(file_of("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16),
                "tensor 'a' has unknown dtype 'F128'");
  CHECK_REJECTS(file_of("{" + f32("a", "[-1]", "[0,0]") + "}"), "negative dimension -1");
  CHECK_REJECTS(file_of("{" + f32("a", "[1.5]", "[0,0]") + "}"), "dimension 1.5, not an integer");
  CHECK_REJECTS(file_of("{" + f32("a", "[2.0]", "[0,8]") + "}", 8), "dimension 2.0, not an integer");
  CHECK_REJECTS(file_of("{" + f32("a", "[18446744073709551616]", "[0,0]") + "}"),
                "dimension 18446744073709551616, not an integer in range");
  CHECK_REJECTS(file_of("{" + f32("a", "[9223372036854775808]", "[0,0]") + "}"),
                "dimension 9223372036854775808, too large");
  CHECK_REJECTS(file_of("{" + f32("a", "3", "[0,12]") + "}", 12),
                "shape of tensor 'a' must be an array of non-negative integers");
  CHECK_REJECTS(file_of("{" + f32("a", "[\"3\"]", "[0,12]") + "}", 12),
                "shape of tensor 'a' must be an array of non-negative integers");
  std::string deep = "[";
  for (int i = 0; i < 65; ++i) deep += i ? ",1" : "1";
  CHECK_REJECTS(file_of("{" + f32("a", deep + "]", "[0,4]") + "}", 4), "more than 64 dimensions");
  CHECK_REJECTS(file_of("{" + f32("a", "[4294967296,4294967296,4]", "[0,0]") + "}"),
                "shape (4294967296, 4294967296, 4) overflows the element count");
  CHECK_REJECTS(file_of("{" + f32("a", "[4611686018427387904]", "[0,0]") + "}"),
                "overflows the element count");  // 2^62 elements of 4 bytes
}

TEST_CASE("rejects bad data_offsets, byte counts, overlaps, gaps and trailing bytes") {
  CHECK_REJECTS(file_of("{" + f32("a", "[1]", "[0]") + "}", 4),
                "data_offsets of tensor 'a' must be two non-negative integers");
  CHECK_REJECTS(file_of("{" + f32("a", "[1]", "[0,4,4]") + "}", 4),
                "data_offsets of tensor 'a' must be two non-negative integers");
  CHECK_REJECTS(file_of("{" + f32("a", "[1]", "{}") + "}", 4),
                "data_offsets of tensor 'a' must be two non-negative integers");
  CHECK_REJECTS(file_of("{" + f32("a", "[1]", "[-4,0]") + "}", 4), "negative offset -4");
  CHECK_REJECTS(file_of("{" + f32("a", "[1]", "[0.0,4]") + "}", 4), "offset 0.0, not an integer");
  CHECK_REJECTS(file_of("{" + f32("a", "[0]", "[4,0]") + "}", 4), "[4, 0] end before they begin");
  CHECK_REJECTS(file_of("{" + f32("a", "[2]", "[0,8]") + "}", 4),
                "data_offsets [0, 8] extend past the 4 bytes of data");
  CHECK_REJECTS(file_of("{" + f32("a", "[2]", "[0,4]") + "}", 4),
                "tensor 'a' (F32, shape (2)) needs 8 bytes, data_offsets [0, 4] hold 4");
  CHECK_REJECTS(file_of("{" + f32("a", "[2]", "[0,8]") + "," + f32("b", "[2]", "[4,12]") + "}", 12),
                "tensors 'a' [0, 8] and 'b' [4, 12] overlap");
  CHECK_REJECTS(file_of("{" + f32("a", "[2]", "[0,8]") + "," + f32("b", "[2]", "[0,8]") + "}", 8),
                "overlap");
  CHECK_REJECTS(file_of("{" + f32("a", "[2]", "[0,8]") + "," + f32("e", "[0]", "[4,4]") + "}", 8),
                "tensors 'a' [0, 8] and 'e' [4, 4] overlap");
  CHECK_REJECTS(file_of("{" + f32("a", "[1]", "[0,4]") + "," + f32("b", "[1]", "[8,12]") + "}", 12),
                "gap of 4 bytes before tensor 'b' [8, 12]");
  CHECK_REJECTS(file_of("{" + f32("b", "[1]", "[4,8]") + "}", 8), "gap of 4 bytes before tensor 'b'");
  CHECK_REJECTS(file_of("{" + f32("a", "[1]", "[0,4]") + "}", 9), "5 trailing bytes after the last tensor");
  CHECK_REJECTS(file_of("{}", 1), "1 trailing bytes");
}

TEST_CASE("rejects a __metadata__ that is not an object of strings") {
  CHECK_REJECTS(file_of("{\"__metadata__\":\"pt\"}"), "__metadata__ must be an object of strings");
  CHECK_REJECTS(file_of("{\"__metadata__\":[]}"), "__metadata__ must be an object of strings");
  CHECK_REJECTS(file_of("{\"__metadata__\":{\"format\":1}}"),
                "__metadata__ value of key 'format' is not a string");
  CHECK_REJECTS(file_of("{\"__metadata__\":{\"k\":{}}}"), "__metadata__ value of key 'k' is not a string");
}

TEST_CASE("any corruption of a header byte gives mae::error or a valid file, never a crash") {
  SafetensorsWriter w;
  const std::vector<float> v = {1, 2, 3, 4};
  const std::vector<std::int64_t> l = {5, 6};
  w.add("weight", std::span<const float>(v), {2, 2});
  w.add("labels", std::span<const std::int64_t>(l), {2});
  const std::vector<std::byte> good = w.to_bytes();
  std::size_t rejected = 0, accepted = 0;
  for (std::size_t pos = 0; pos < good.size() - v.size() * 4 - l.size() * 8; ++pos) {
    for (int value : {0x00, 0x20, 0x22, 0x2c, 0x30, 0x39, 0x5b, 0x5d, 0x7b, 0x7d, 0xc3, 0xff}) {
      std::vector<std::byte> f = good;
      f[pos] = static_cast<std::byte>(value);
      try {
        const SafetensorsFile r = parse(f);
        for (const auto& t : r.tensors()) CHECK(t.end <= f.size());
        ++accepted;
      } catch (const mae::error&) {
        ++rejected;
      }
    }
  }
  CHECK(rejected > 0);
  CHECK(accepted > 0);  // e.g. a digit of the data changed in range, or padding became a space
}

TEST_CASE("the writer rejects what the reader would") {
  SafetensorsWriter w;
  const std::vector<float> v = {1, 2, 3};
  w.add("x", std::span<const float>(v), {3});
  CHECK_THROWS_WITH_AS(w.add("x", std::span<const float>(v), {3}), doctest::Contains("'x' was already added"),
                       mae::error);
  CHECK_THROWS_WITH_AS(w.add("y", std::span<const float>(v), {2, 2}),
                       doctest::Contains("(F32, shape (2, 2)) needs 4 elements, got 3"), mae::error);
  CHECK_THROWS_WITH_AS(w.add("z", std::span<const float>(v), {-3}), doctest::Contains("invalid shape (-3)"),
                       mae::error);
  CHECK_THROWS_WITH_AS(w.add("__metadata__", std::span<const float>(v), {3}),
                       doctest::Contains("reserved name"), mae::error);
  CHECK_THROWS_WITH_AS(w.add_raw("q", "F128", {1}, {}), doctest::Contains("unknown dtype 'F128'"),
                       mae::error);
  w.add("bad\xff", std::span<const float>(v), {3});
  CHECK_THROWS_WITH_AS(w.to_bytes(), doctest::Contains("not valid UTF-8"), mae::error);
}

TEST_CASE("from_file names the file in every error") {
  CHECK_THROWS_WITH_AS(SafetensorsFile::from_file("/nonexistent/w.safetensors"),
                       doctest::Contains("cannot read '/nonexistent/w.safetensors'"), mae::error);
  const std::string path = temp_path("short.safetensors");
  const std::vector<std::byte> junk(5, std::byte{1});
  mae::write_file_atomic(path, junk);
  const std::string expected = "safetensors '" + path + "': file is 5 bytes";
  CHECK_THROWS_WITH_AS(SafetensorsFile::from_file(path), doctest::Contains(expected.c_str()),
                       mae::error);
  std::filesystem::remove(path);
}
