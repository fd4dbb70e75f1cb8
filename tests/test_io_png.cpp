#include <doctest/doctest.h>

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "mae/io/png.hpp"

namespace {

std::vector<std::uint8_t> pattern(int w, int h, int c) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(w) * h * c);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i * 37 + i / 5);
  return px;
}

std::uint32_t be32(const std::byte* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 |
         std::uint32_t(p[3]);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("mae_test_png_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// Sets IHDR width and height of an encoded PNG (stb does not check chunk CRCs).
std::vector<std::byte> with_size(std::vector<std::byte> png, std::uint32_t w, std::uint32_t h) {
  for (int k = 0; k < 4; ++k) {
    png[16 + k] = std::byte(w >> (24 - 8 * k));
    png[20 + k] = std::byte(h >> (24 - 8 * k));
  }
  return png;
}

}  // namespace

TEST_CASE("PNG round trip for 1 to 4 channels, through a file") {
  for (int c = 1; c <= 4; ++c) {
    const int w = 13, h = 7;
    const auto px = pattern(w, h, c);
    const std::string path = temp_path("rt" + std::to_string(c) + ".png");
    mae::write_png(path, w, h, c, px.data());
    const mae::Image im = mae::read_png(path);
    INFO("channels " << c);
    CHECK(im.w == w);
    CHECK(im.h == h);
    CHECK(im.c == c);
    CHECK(im.px == px);
    std::filesystem::remove(path);
  }
}

TEST_CASE("encoded PNG is well-formed: signature, IHDR, chunk CRCs") {
  const int w = 300, h = 2;
  const auto png = mae::encode_png(w, h, 3, pattern(w, h, 3).data());
  const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  REQUIRE(png.size() > 33);
  CHECK(std::memcmp(png.data(), signature, 8) == 0);
  CHECK(std::memcmp(png.data() + 12, "IHDR", 4) == 0);
  CHECK(be32(png.data() + 16) == w);
  CHECK(be32(png.data() + 20) == h);
  CHECK(std::uint8_t(png[24]) == 8);  // bit depth
  CHECK(std::uint8_t(png[25]) == 2);  // color type RGB
  std::size_t pos = 8;
  std::vector<std::string> chunks;
  while (pos + 12 <= png.size()) {
    const std::uint32_t len = be32(png.data() + pos);
    REQUIRE(pos + 12 + len <= png.size());
    chunks.emplace_back(reinterpret_cast<const char*>(png.data() + pos + 4), 4);
    const auto* typed = reinterpret_cast<const Bytef*>(png.data() + pos + 4);
    CHECK(crc32(0, typed, len + 4) == be32(png.data() + pos + 8 + len));
    pos += 12 + len;
  }
  CHECK(pos == png.size());
  CHECK(chunks.front() == "IHDR");
  CHECK(chunks.back() == "IEND");
}

TEST_CASE("desired_channels converts; gray stored as RGB reads back exactly as gray") {
  const int w = 5, h = 4;
  const auto gray = pattern(w, h, 1);
  std::vector<std::uint8_t> rgb;
  for (std::uint8_t v : gray) rgb.insert(rgb.end(), {v, v, v});
  const mae::Image im = mae::decode_png(mae::encode_png(w, h, 3, rgb.data()), 1);
  CHECK(im.c == 1);
  CHECK(im.px == gray);
  const mae::Image rgba = mae::decode_png(mae::encode_png(w, h, 1, gray.data()), 4);
  CHECK(rgba.c == 4);
  CHECK(rgba.px[4 * 3 + 0] == gray[3]);
  CHECK(rgba.px[4 * 3 + 3] == 255);
}

TEST_CASE("bad images and bad files give mae::error") {
  const auto px = pattern(4, 4, 3);
  CHECK_THROWS_WITH_AS(mae::encode_png(0, 4, 3, px.data()), doctest::Contains("invalid image 0x4x3"),
                       mae::error);
  CHECK_THROWS_WITH_AS(mae::encode_png(4, 4, 5, px.data()), doctest::Contains("invalid image 4x4x5"),
                       mae::error);
  CHECK_THROWS_WITH_AS(mae::read_png("/nonexistent/x.png"),
                       doctest::Contains("cannot read '/nonexistent/x.png'"), mae::error);
  const std::vector<std::byte> junk(100, std::byte{7});
  CHECK_THROWS_WITH_AS(mae::decode_png(junk, 0, "junk.png"),
                       doctest::Contains("PNG 'junk.png': not a PNG file (no PNG signature)"),
                       mae::error);
  CHECK_THROWS_WITH_AS(mae::decode_png(junk, 5), doctest::Contains("desired_channels 5 not in 0..4"),
                       mae::error);
  const auto png = mae::encode_png(4, 4, 3, px.data());
  // Dimensions beyond STBI_MAX_DIMENSIONS, and within it but beyond the decoded-size cap.
  CHECK_THROWS_WITH_AS(mae::decode_png(with_size(png, 20000, 4)), doctest::Contains("not a readable PNG"),
                       mae::error);
  CHECK_THROWS_WITH_AS(mae::decode_png(with_size(png, 16000, 16000)),
                       doctest::Contains("16000x16000x3 exceeds the limit of 134217728 decoded bytes"),
                       mae::error);
  std::vector<std::byte> longer = png;
  longer.push_back(std::byte{0});
  CHECK_THROWS_WITH_AS(mae::decode_png(longer), doctest::Contains("1 bytes after the IEND chunk"),
                       mae::error);
  // An empty IDAT chunk (legal, but stb would pass a null pointer to memcpy) before the first one.
  std::vector<std::byte> empty_idat = png;
  const std::size_t first_idat = 8 + 12 + 13;  // signature, then IHDR with its 13 data bytes
  REQUIRE(std::memcmp(png.data() + first_idat + 4, "IDAT", 4) == 0);
  const unsigned char chunk[12] = {0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xaf, 0x06, 0x1e};
  CHECK(crc32(0, chunk + 4, 4) == 0x35af061eu);
  empty_idat.insert(empty_idat.begin() + first_idat, reinterpret_cast<const std::byte*>(chunk),
                    reinterpret_cast<const std::byte*>(chunk) + 12);
  CHECK_THROWS_WITH_AS(mae::decode_png(empty_idat), doctest::Contains("empty IDAT chunk at byte 33"),
                       mae::error);
  CHECK_THROWS_WITH_AS(mae::decode_png(std::span(png.data(), png.size() - 13)),
                       doctest::Contains("truncated: chunk at byte"), mae::error);
  // Every strict prefix is rejected.
  for (std::size_t n = 0; n < png.size(); ++n) {
    INFO("prefix " << n);
    CHECK_THROWS_AS(mae::decode_png(std::span(png.data(), n)), mae::error);
  }
}
