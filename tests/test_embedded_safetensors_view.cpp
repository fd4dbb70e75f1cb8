// SafetensorsView (the embedded path's allocation-free reader): what it accepts agrees with the host reader
// SafetensorsFile, and every malformed file gets its Status instead of a crash or an out-of-bounds view.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "mae/io/safetensors.hpp"
#include "mae/io/safetensors_view.hpp"

namespace {

using mae::embedded::Dtype;
using mae::embedded::SafetensorsView;
using mae::embedded::Status;
using mae::embedded::TensorView;

// A file from a header text and `data_bytes` bytes of data (0, 1, 2, ...).
std::vector<std::byte> file(const std::string& header, std::size_t data_bytes = 0) {
  std::vector<std::byte> out(8 + header.size() + data_bytes);
  std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  for (std::size_t i = 0; i < data_bytes; ++i) out[8 + header.size() + i] = static_cast<std::byte>(i);
  return out;
}

Status open(const std::vector<std::byte>& bytes) {
  SafetensorsView v;
  return v.open(bytes.data(), bytes.size());
}

// A one-tensor header: "t" with the given dtype, shape and offsets (JSON fragments).
std::string one(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return R"({"t":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}}";
}

std::vector<std::byte> writer_file() {
  mae::SafetensorsWriter w;
  const std::vector<float> a = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f};
  const std::vector<std::int64_t> b = {7, 8, 9};
  const std::vector<float> scalar = {42.f}, none;
  w.add("a.weight", std::span<const float>(a), {2, 3});
  w.add("b", std::span<const std::int64_t>(b), {3});
  w.add("scalar", std::span<const float>(scalar), {});
  w.add("empty", std::span<const float>(none), {0, 4});
  w.add("odd \"name\"/é", std::span<const float>(scalar), {1});
  w.set_metadata("preset", "fmnist-tiny");
  return w.to_bytes();
}

}  // namespace

TEST_CASE("SafetensorsView sees what the host reader sees in a file SafetensorsWriter wrote") {
  const auto bytes = writer_file();
  const auto host = mae::SafetensorsFile::from_memory(bytes);
  SafetensorsView view;
  REQUIRE(view.open(bytes.data(), bytes.size()) == Status::ok);
  CHECK(view.tensor_count() == host.tensors().size());
  for (const auto& t : host.tensors()) {
    INFO(t.name);
    TensorView v;
    REQUIRE(view.find(t.name, v) == Status::ok);
    CHECK(v.data == host.bytes(t).data());
    CHECK(v.bytes == host.bytes(t).size());
    REQUIRE(v.rank == t.shape.size());
    for (std::size_t i = 0; i < v.rank; ++i) CHECK(v.shape[i] == static_cast<std::uint64_t>(t.shape[i]));
  }
  TensorView v;
  REQUIRE(view.find("b", v) == Status::ok);
  CHECK(v.dtype == Dtype::I64);
  REQUIRE(view.find("a.weight", v) == Status::ok);
  CHECK(v.dtype == Dtype::F32);
  CHECK(view.find("a.bias", v) == Status::tensor_missing);
  CHECK(view.find("__metadata__", v) == Status::tensor_missing);
}

TEST_CASE("SafetensorsView accepts padding, a string __metadata__, escapes and an empty file") {
  SafetensorsView v;
  TensorView t;
  const auto padded = file(" \n{ \"t\" :\t{ \"dtype\" : \"F32\" , \"shape\" : [ 2 ] , \"data_offsets\" : [ 0 , 8 ] } }\r\n    ", 8);
  REQUIRE(v.open(padded.data(), padded.size()) == Status::ok);
  CHECK(v.find("t", t) == Status::ok);
  const auto meta = file(R"({"__metadata__":"free text","t":{"dtype":"U8","shape":[],"data_offsets":[0,1]}})", 1);
  CHECK(open(meta) == Status::ok);
  const auto escaped = file(R"({"a\u00e9\"\\\/\ud83d\ude00":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1);
  REQUIRE(v.open(escaped.data(), escaped.size()) == Status::ok);
  CHECK(v.find("a\xc3\xa9\"\\/\xf0\x9f\x98\x80", t) == Status::ok);
  CHECK(v.find("a\xc3\xa9\"\\/", t) == Status::tensor_missing);
  const auto empty = file("{}");
  REQUIRE(v.open(empty.data(), empty.size()) == Status::ok);
  CHECK(v.tensor_count() == 0);
  CHECK(v.find("t", t) == Status::tensor_missing);
}

TEST_CASE("SafetensorsView reports each malformed file") {
  CHECK(open({}) == Status::file_too_short);
  CHECK(open(std::vector<std::byte>(7)) == Status::file_too_short);
  auto longer = file("{}");
  longer[0] = std::byte{3};  // claims 3 bytes, has 2
  CHECK(open(longer) == Status::file_too_short);
  auto huge = file("{}");
  const std::uint64_t n = SafetensorsView::max_header_bytes + 1;
  std::memcpy(huge.data(), &n, 8);
  CHECK(open(huge) == Status::header_too_long);

  // JSON.
  for (const char* bad : {"", "[]", "{", "{\"t\":1}", "{'t':{}}", "{} x", "{\"t\":{\"dtype\":\"F32\",}}",
                          R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},})",
                          R"({"__metadata__":{"k":1}})", R"({"__metadata__":{"k":"v"})", "{\"a\x01\":{}}",
                          R"({"\x":{}})", R"({"\ud800":{}})", R"({"\udc00\ud800":{}})", R"({"\u12":{}})"}) {
    INFO(bad);
    CHECK(open(file(bad, 4)) == Status::header_invalid);
  }
  // UTF-8: a stray continuation byte, an overlong NUL, an encoded surrogate, a truncated sequence.
  for (const char* bad : {"{\"\x80\":{}}", "{\"\xc0\x80\":{}}", "{\"\xed\xa0\x80\":{}}", "{\"\xe2\x82\":{}}"}) {
    INFO(bad);
    CHECK(open(file(bad)) == Status::header_invalid);
  }
  // Entries.
  CHECK(open(file(one("F99", "[1]", "[0,4]"), 4)) == Status::header_invalid);
  CHECK(open(file(one("F32", "[-1]", "[0,4]"), 4)) == Status::header_invalid);
  CHECK(open(file(one("F32", "[1.0]", "[0,4]"), 4)) == Status::header_invalid);
  CHECK(open(file(one("F32", "[1e0]", "[0,4]"), 4)) == Status::header_invalid);
  CHECK(open(file(one("F32", "[01]", "[0,4]"), 4)) == Status::header_invalid);
  CHECK(open(file(one("F32", "[18446744073709551616]", "[0,4]"), 4)) == Status::header_invalid);
  CHECK(open(file(one("F32", "[1,2,3,4,5,6,7,8,9]", "[0,4]"), 4)) == Status::rank_too_large);
  CHECK(open(file(one("F32", "[4294967296,4294967296,4]", "[0,4]"), 4)) == Status::tensor_size_mismatch);
  CHECK(open(file(one("F32", "[1]", "[4,0]"), 4)) == Status::tensor_out_of_bounds);
  CHECK(open(file(one("F32", "[1]", "[0,8]"), 4)) == Status::tensor_out_of_bounds);
  CHECK(open(file(one("F32", "[2]", "[0,4]"), 4)) == Status::tensor_size_mismatch);
  CHECK(open(file(one("F32", "[1]", "[0,4,8]"), 4)) == Status::header_invalid);
  CHECK(open(file(one("F32", "[1]", "[4,8]"), 8)) == Status::data_size_mismatch);  // a gap
  CHECK(open(file(one("F32", "[1]", "[0,4]"), 5)) == Status::data_size_mismatch);  // a trailing byte
  CHECK(open(file(R"({"t":{"dtype":"F32","shape":[1]}})", 4)) == Status::header_invalid);
  CHECK(open(file(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}})", 4)) == Status::header_invalid);
  CHECK(open(file(R"({"t":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4)) ==
        Status::header_invalid);

  // A name twice: found, and reported.
  const auto twice = file(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", 2);
  SafetensorsView v;
  TensorView t;
  REQUIRE(v.open(twice.data(), twice.size()) == Status::ok);
  CHECK(v.find("t", t) == Status::tensor_duplicate);
}

TEST_CASE("SafetensorsView under random damage: whatever the host reader accepts, it accepts the same way") {
  const auto good = writer_file();
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, good.data(), 8);
  std::mt19937 rng(1234);
  const char alphabet[] = "{}[]\":,0123456789-.eE \\u\xc3\xa9" "FU";
  std::size_t host_accepted = 0, view_accepted = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    auto bytes = good;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = 8 + rng() % header_len;
      bytes[at] = static_cast<std::byte>(alphabet[rng() % (sizeof alphabet - 1)]);
    }
    if (rng() % 8 == 0) bytes.resize(bytes.size() - 1 - rng() % 8);  // sometimes truncated too
    SafetensorsView view;
    const Status s = view.open(bytes.data(), bytes.size());
    if (s == Status::ok) {
      ++view_accepted;
      CHECK(view.for_each_tensor([&](std::string_view, const TensorView& t) {
        const bool inside = t.data >= bytes.data() && t.data + t.bytes <= bytes.data() + bytes.size();
        return inside ? Status::ok : Status::tensor_out_of_bounds;
      }) == Status::ok);
    }
    try {
      const auto host = mae::SafetensorsFile::from_memory(bytes);
      ++host_accepted;
      INFO("trial " << trial);
      REQUIRE(s == Status::ok);
      CHECK(view.tensor_count() == host.tensors().size());
      for (const auto& t : host.tensors()) {
        TensorView v;
        REQUIRE(view.find(t.name, v) == Status::ok);
        CHECK(v.data == host.bytes(t).data());
      }
    } catch (const mae::error&) {
    }
  }
  MESSAGE("accepted: host " << host_accepted << ", view " << view_accepted << " of 3000 damaged files");
  CHECK(host_accepted > 0);
  CHECK(view_accepted < 3000);
}
