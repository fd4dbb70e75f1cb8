#pragma once
// 8-bit PNG files through stb_image / stb_image_write (Debian: libstb-dev).
//
// To stay header-only, this header compiles the PNG parts of stb into every translation unit that
// includes it, as `static` functions (STB_IMAGE_STATIC, STB_IMAGE_WRITE_STATIC), so copies in
// different TUs never clash at link time and no -lstb is needed. Include it before any other stb
// header. To use an stb implementation of your own instead (e.g. Debian's `-lstb`), define
// MAE_STB_EXTERNAL; mae's limit on the decoded size still applies, the cap on stb's allocations
// (see stb_malloc) does not.
#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#ifndef MAE_STB_EXTERNAL
namespace mae::detail {
// stb grows its zlib buffer as long as the compressed data yields more bytes, so a small hostile
// PNG (a deflate bomb in IDAT) could otherwise make it allocate gigabytes whatever the image size.
inline constexpr std::size_t stb_max_alloc = std::size_t{1} << 29;
static inline void* stb_malloc(std::size_t n) { return n > stb_max_alloc ? nullptr : std::malloc(n); }
static inline void* stb_realloc(void* p, std::size_t n) {
  return n > stb_max_alloc ? nullptr : std::realloc(p, n);
}
}  // namespace mae::detail
#define STBI_MALLOC(n) ::mae::detail::stb_malloc(n)
#define STBI_REALLOC(p, n) ::mae::detail::stb_realloc(p, n)
#define STBI_FREE(p) std::free(p)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#ifndef STBI_MAX_DIMENSIONS
#define STBI_MAX_DIMENSIONS 16384  // stb's default (2^24) lets a tiny file request huge buffers
#endif
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#endif

#if __has_include(<stb/stb_image.h>)
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#else
#include <stb_image.h>
#include <stb_image_write.h>
#endif

#undef STB_IMAGE_IMPLEMENTATION
#undef STB_IMAGE_WRITE_IMPLEMENTATION

#include "mae/core/error.hpp"
#include "mae/io/atomic_file.hpp"
#include "mae/io/file.hpp"

namespace mae {

struct Image {
  int w = 0, h = 0, c = 0;     // c: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  std::vector<std::uint8_t> px;  // h rows of w pixels of c interleaved bytes
};

// Largest decoded image read_png accepts, in bytes (w * h * c): 128 MiB.
inline constexpr long long png_max_decoded_bytes = 1LL << 27;

// The functions below have internal linkage, like the stb code they call, so that each translation
// unit's copy refers to its own stb functions (inline functions would break the one-definition rule).

// PNG bytes of `height` rows of `width` pixels of `channels` (1..4) interleaved bytes.
static inline std::vector<std::byte> encode_png(int width, int height, int channels,
                                                const std::uint8_t* pixels) {
  if (width < 1 || height < 1 || channels < 1 || channels > 4 ||
      static_cast<long long>(width) * height * channels > INT_MAX / 2)
    throw error("encode_png: invalid image " + std::to_string(width) + "x" +
                std::to_string(height) + "x" + std::to_string(channels) +
                " (need sizes >= 1, 1..4 channels, fewer than 2^30 bytes)");
  std::vector<std::byte> out;
  const auto append = [](void* ctx, void* data, int size) {
    auto* o = static_cast<std::vector<std::byte>*>(ctx);
    const auto* b = static_cast<const std::byte*>(data);
    o->insert(o->end(), b, b + size);
  };
  if (!stbi_write_png_to_func(append, &out, width, height, channels, pixels, width * channels))
    throw error("encode_png: stb_image_write failed for a " + std::to_string(width) + "x" +
                std::to_string(height) + " image");
  return out;
}

// Writes the PNG atomically (write_file_atomic): `path` is never left half-written.
static inline void write_png(const std::string& path, int width, int height, int channels,
                             const std::uint8_t* pixels) {
  write_file_atomic(path, encode_png(width, height, channels, pixels));
}

// Decodes PNG bytes (8- or 16-bit, any color type) to 8-bit. desired_channels 1..4 converts (e.g.
// RGB to gray); 0 keeps the file's channel count. `source` names the bytes in errors.
static inline Image decode_png(std::span<const std::byte> bytes, int desired_channels = 0,
                               const std::string& source = "<memory>") {
  const std::string prefix = "PNG '" + source + "': ";
  if (desired_channels < 0 || desired_channels > 4)
    throw error(prefix + "desired_channels " + std::to_string(desired_channels) + " not in 0..4");
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw error(prefix + "file larger than 2 GiB");
  static constexpr unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() < 8 || std::memcmp(bytes.data(), signature, 8) != 0)
    throw error(prefix + "not a PNG file (no PNG signature)");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  Image im;
  if (!stbi_info_from_memory(data, len, &im.w, &im.h, &im.c))
    throw error(prefix + "not a readable PNG (" + stbi_failure_reason() + ")");
  const int c = desired_channels ? desired_channels : im.c;
  if (static_cast<long long>(im.w) * im.h * std::max(im.c, c) > png_max_decoded_bytes)
    throw error(prefix + std::to_string(im.w) + "x" + std::to_string(im.h) + "x" +
                std::to_string(im.c) + " exceeds the limit of " +
                std::to_string(png_max_decoded_bytes) + " decoded bytes");
  // Walk the chunks before stb does: stb decodes a file cut off inside IEND, and hands a null
  // buffer to memcpy for an empty first IDAT chunk (undefined behaviour, flagged by UBSan).
  const auto be32 = [&](std::size_t at) {
    return std::uint32_t(bytes[at]) << 24 | std::uint32_t(bytes[at + 1]) << 16 |
           std::uint32_t(bytes[at + 2]) << 8 | std::uint32_t(bytes[at + 3]);
  };
  std::size_t pos = 8;
  bool iend = false;
  while (!iend) {
    if (bytes.size() - pos < 12 || be32(pos) > bytes.size() - pos - 12)
      throw error(prefix + "truncated: chunk at byte " + std::to_string(pos) +
                  " runs past the end of the file");
    const std::uint32_t chunk_len = be32(pos);
    const auto* type = reinterpret_cast<const char*>(bytes.data() + pos + 4);
    if (chunk_len == 0 && std::memcmp(type, "IDAT", 4) == 0)
      throw error(prefix + "empty IDAT chunk at byte " + std::to_string(pos) + " (unsupported)");
    iend = std::memcmp(type, "IEND", 4) == 0;
    pos += 12 + chunk_len;
  }
  if (pos != bytes.size())
    throw error(prefix + std::to_string(bytes.size() - pos) + " bytes after the IEND chunk");
  int w = 0, h = 0, file_c = 0;
  stbi_uc* px = stbi_load_from_memory(data, len, &w, &h, &file_c, desired_channels);
  if (!px) throw error(prefix + "cannot decode (" + stbi_failure_reason() + ")");
  im = Image{w, h, c, std::vector<std::uint8_t>(px, px + static_cast<std::size_t>(w) * h * c)};
  stbi_image_free(px);
  return im;
}

static inline Image read_png(const std::string& path, int desired_channels = 0) {
  return decode_png(read_file(path), desired_channels, path);
}

}  // namespace mae
