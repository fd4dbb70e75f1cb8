#pragma once
// The paper's figure (MAE_SPEC §12): per image, original | masked | reconstruction | reconstruction with the
// visible patches pasted back. A norm-pix model predicts normalised patches; they are drawn after re-scaling
// each one by the true patch's mean and std.
#include <cmath>
#include <cstdint>
#include <vector>

#include "mae/backend/cpu.hpp"

namespace mae {

struct Reconstruction {
  std::vector<float> masked, reconstructed, pasted;  // each (N, C, H, W), in the input's normalised space
};

// images (N, C, H, W); pred (N, L, p*p*C); mask (N, L) with 1 = removed. Host memory.
inline Reconstruction reconstruct(const float* images, const float* pred, const float* mask, std::size_t n,
                                  std::size_t c, std::size_t h, std::size_t w, std::size_t p, bool norm_pix,
                                  float blank = 0.0f) {
  using K = kernels<backends::cpu>;
  const std::size_t l = (h / p) * (w / p), pd = p * p * c, total = n * c * h * w;
  std::vector<float> target(n * l * pd), rec(n * l * pd), masked(n * l * pd), pasted(n * l * pd);
  K::patchify(images, target.data(), n, c, h, w, p);
  for (std::size_t t = 0; t < n * l; ++t) {
    const float* tp = target.data() + t * pd;
    double mean = 0, var = 0;
    for (std::size_t k = 0; k < pd; ++k) mean += tp[k];
    mean /= static_cast<double>(pd);
    for (std::size_t k = 0; k < pd; ++k) var += (tp[k] - mean) * (tp[k] - mean);
    var /= static_cast<double>(pd > 1 ? pd - 1 : 1);
    const double stdev = std::sqrt(var + 1e-6);
    for (std::size_t k = 0; k < pd; ++k) {
      const float r = norm_pix ? static_cast<float>(pred[t * pd + k] * stdev + mean) : pred[t * pd + k];
      rec[t * pd + k] = r;
      masked[t * pd + k] = mask[t] > 0.5f ? blank : tp[k];
      pasted[t * pd + k] = mask[t] > 0.5f ? r : tp[k];
    }
  }
  Reconstruction out{std::vector<float>(total), std::vector<float>(total), std::vector<float>(total)};
  K::unpatchify(masked.data(), out.masked.data(), n, c, h, w, p);
  K::unpatchify(rec.data(), out.reconstructed.data(), n, c, h, w, p);
  K::unpatchify(pasted.data(), out.pasted.data(), n, c, h, w, p);
  return out;
}

// Lays out rows of four panels (original | masked | reconstruction | pasted), one row per image, each pixel drawn
// as a zoom x zoom block, with a 2-pixel gutter, as 8-bit pixels (c channels interleaved). `to_unit` maps a
// normalised value of channel ch to [0, 1].
template <class ToUnit>
std::vector<std::uint8_t> figure_pixels(const float* images, const Reconstruction& r, std::size_t n, std::size_t c,
                                        std::size_t h, std::size_t w, ToUnit to_unit, std::size_t& width,
                                        std::size_t& height, std::size_t zoom = 1) {
  constexpr std::size_t gap = 2;
  const std::size_t ph = h * zoom, pw = w * zoom;
  width = 4 * pw + 5 * gap;
  height = n * ph + (n + 1) * gap;
  std::vector<std::uint8_t> px(width * height * c, 255);
  const float* panels[4] = {images, r.masked.data(), r.reconstructed.data(), r.pasted.data()};
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < 4; ++k)
      for (std::size_t y = 0; y < ph; ++y)
        for (std::size_t x = 0; x < pw; ++x)
          for (std::size_t ch = 0; ch < c; ++ch) {
            const float v = panels[k][((i * c + ch) * h + y / zoom) * w + x / zoom];
            const double u = std::fmin(1.0, std::fmax(0.0, to_unit(v, ch)));
            const std::size_t X = gap + k * (pw + gap) + x, Y = gap + i * (ph + gap) + y;
            px[(Y * width + X) * c + ch] = static_cast<std::uint8_t>(std::lround(u * 255.0));
          }
  return px;
}

}  // namespace mae
