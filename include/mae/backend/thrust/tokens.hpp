#pragma once
// Functors of the token and patch kernels: gather/scatter with run-time indices (MAE_SPEC §3) and the
// image <-> patch-row maps (MAE_SPEC §1), with the CPU backend's semantics (mae/backend/cpu/gather.hpp, patch.hpp).
#include <cstddef>
#include <cstdint>

#include "mae/core/philox.hpp"  // MAE_HD

namespace mae::thrust_backend {

// y[b, k, :] = x[b, idx[b*nout + k], :], one element per index.
template <class T>
struct gather_tokens_op {
  const T* x;
  const std::int32_t* idx;
  T* y;
  std::size_t nin, nout, d;
  MAE_HD void operator()(std::size_t e) const {
    const std::size_t row = e / d, c = e % d;
    y[e] = x[(row / nout * nin + static_cast<std::size_t>(idx[row])) * d + c];
  }
};

// dx[b, idx[b*nout + k], :] += dy[b, k, :]. One (sample, column) per index, adding its k in order: indices may
// repeat within a sample and the result is still exact and deterministic, without atomics.
template <class T>
struct scatter_add_tokens_op {
  const T* dy;
  const std::int32_t* idx;
  T* dx;
  std::size_t nin, nout, d;
  MAE_HD void operator()(std::size_t e) const {
    const std::size_t b = e / d, c = e % d;
    for (std::size_t k = 0; k < nout; ++k)
      dx[(b * nin + static_cast<std::size_t>(idx[b * nout + k])) * d + c] += dy[(b * nout + k) * d + c];
  }
};

// The image element of patch element e of a (B, L, p*p*C) array: channel fastest within a patch (MAE's target
// order) or Conv2d weight order (channel, row, col).
struct patch_map {
  std::size_t C, H, W, p;
  bool channel_fastest;
  MAE_HD std::size_t image_index(std::size_t e) const {
    const std::size_t gw = W / p, gh = H / p, P = p * p * C;
    const std::size_t row = e / P, within = e % P;
    const std::size_t b = row / (gh * gw), i = row / gw % gh, j = row % gw;
    std::size_t c, pi, pj;
    if (channel_fastest) {
      c = within % C;
      pi = within / C / p;
      pj = within / C % p;
    } else {
      c = within / (p * p);
      pi = within / p % p;
      pj = within % p;
    }
    return ((b * C + c) * H + i * p + pi) * W + j * p + pj;
  }
};

// patches[e] = img[map(e)]; the map is a bijection, so the inverse writes img[map(e)] = patches[e] race-free.
template <class T, bool ToPatches>
struct patch_copy {
  patch_map map;
  const T* src;
  T* dst;
  MAE_HD void operator()(std::size_t e) const {
    if constexpr (ToPatches)
      dst[e] = src[map.image_index(e)];
    else
      dst[map.image_index(e)] = src[e];
  }
};

}  // namespace mae::thrust_backend
