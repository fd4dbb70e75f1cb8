#pragma once
// Fuzz target: decode_png, keeping the file's channels and converting to RGB; small images are also
// encoded again and must decode to the same pixels.
#include "mae/io/png.hpp"  // first: it compiles stb into this TU
#include "target.hpp"

namespace mae::fuzz {

inline Stages png(std::span<const std::byte> bytes) {
  Stages out;
  for (const int channels : {0, 3}) {
    run_stage(out, channels ? "decode_rgb" : "decode", {"PNG '"}, [&] {
      const Image im = decode_png(bytes, channels, "fuzz.png");
      require(im.w >= 1 && im.h >= 1 && im.c >= 1 && im.c <= 4 && (!channels || im.c == channels),
              "decode_png: bad image geometry");
      require(im.px.size() == static_cast<std::size_t>(im.w) * im.h * im.c, "decode_png: pixel count != w * h * c");
      if (im.px.size() > (1u << 16)) return;
      const std::vector<std::byte> again = encode_png(im.w, im.h, im.c, im.px.data());
      require(decode_png(again, 0, "fuzz-reencoded.png").px == im.px, "PNG re-encode changed the pixels");
    });
  }
  return out;
}

}  // namespace mae::fuzz
