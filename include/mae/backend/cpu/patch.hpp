#pragma once
// Images (B, C, H, W) <-> patch rows (B, L, p*p*C), L = (H/p)(W/p) row-major over the grid (MAE_SPEC §1).
#include <cstddef>
#include <string>

#include "mae/backend/cpu/vecmath.hpp"
#include "mae/core/error.hpp"
#include "mae/core/parallel.hpp"

namespace mae::cpu {
namespace detail {

inline void check_patch_grid(const char* op, std::size_t H, std::size_t W, std::size_t p) {
  MAE_CHECK(p > 0 && H % p == 0 && W % p == 0, std::string(op) + ": image " + std::to_string(H) + "x" +
                                                   std::to_string(W) + " is not a multiple of the patch size " +
                                                   std::to_string(p));
}

// Visits every (image element, patch element) pair once, one patch row per task: f(image_index, patch_index).
// channel_fastest picks MAE's target order (row, col, channel); otherwise Conv2d weight order (channel, row, col).
template <bool channel_fastest, class F>
void for_each_patch_element(std::size_t B, std::size_t C, std::size_t H, std::size_t W, std::size_t p, const F& f) {
  const std::size_t gh = H / p, gw = W / p, P = p * p * C, rows = B * gh * gw;
  mae::detail::parallel_for(rows, rows * P > parallel_elems, [&](std::size_t row) {
    const std::size_t b = row / (gh * gw), i = row / gw % gh, j = row % gw;
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t pi = 0; pi < p; ++pi) {
        const std::size_t image_base = ((b * C + c) * H + i * p + pi) * W + j * p;
        for (std::size_t pj = 0; pj < p; ++pj) {
          const std::size_t within = channel_fastest ? (pi * p + pj) * C + c : (c * p + pi) * p + pj;
          f(image_base + pj, row * P + within);
        }
      }
  });
}

}  // namespace detail

// out[b, i*w + j, (pi*p + pj)*C + c] = img[b, c, i*p + pi, j*p + pj]: the channel is fastest.
template <class T>
void patchify(const T* img, T* out, std::size_t B, std::size_t C, std::size_t H, std::size_t W, std::size_t p) {
  detail::check_patch_grid("patchify", H, W, p);
  detail::for_each_patch_element<true>(B, C, H, W, p, [&](std::size_t im, std::size_t pa) { out[pa] = img[im]; });
}

// The exact inverse of patchify.
template <class T>
void unpatchify(const T* patches, T* img, std::size_t B, std::size_t C, std::size_t H, std::size_t W, std::size_t p) {
  detail::check_patch_grid("unpatchify", H, W, p);
  detail::for_each_patch_element<true>(B, C, H, W, p, [&](std::size_t im, std::size_t pa) { img[im] = patches[pa]; });
}

// The same patches with each vector in Conv2d weight order (c, pi, pj): a Conv2d(C, D, p, stride p) patch
// embedding is linear_forward of these rows with the weight viewed as (D, C*p*p).
template <class T>
void patchify_conv(const T* img, T* out, std::size_t B, std::size_t C, std::size_t H, std::size_t W, std::size_t p) {
  detail::check_patch_grid("patchify_conv", H, W, p);
  detail::for_each_patch_element<false>(B, C, H, W, p, [&](std::size_t im, std::size_t pa) { out[pa] = img[im]; });
}

}  // namespace mae::cpu
