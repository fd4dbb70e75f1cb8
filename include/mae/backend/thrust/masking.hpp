#pragma once
// Functors of random masking (MAE_SPEC §3) on any Thrust system: Philox noise, sort keys that order a batch by
// (sample, noise), and the scatter of one sorted row into ids_restore, ids_keep and the mask.
// With a STABLE sort of these keys over values in token order, ties in the noise keep token order: the same
// ids as the host reference (mae/core/masking.hpp) for the same noise.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "mae/core/philox.hpp"

namespace mae::thrust_backend {

// out[i] = uniform_at(seed, stream, i): one Philox block per 4 elements.
struct fill_uniform_block {
  float* out;
  std::size_t n;
  std::uint64_t seed, stream;
  MAE_HD void operator()(std::size_t block) const {
    const u32x4 w = philox_block(seed, stream, block);
    for (std::size_t k = 0; k < 4 && block * 4 + k < n; ++k) out[block * 4 + k] = uniform01(w.v[k]);
  }
};

// float -> uint32 with the same order (sign-magnitude to offset binary); -0 maps as +0, since they compare equal.
MAE_HD inline std::uint32_t orderable_bits(float x) {
  std::uint32_t u = 0;
  if (x != 0.0f) std::memcpy(&u, &x, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// keys[i] = (sample << 32) | orderable(noise[i]) and values[i] = the token index i % tokens.
struct masking_keys {
  const float* noise;
  std::uint64_t* keys;
  std::int32_t* tokens_out;
  std::size_t tokens;
  MAE_HD void operator()(std::size_t i) const {
    keys[i] = (static_cast<std::uint64_t>(i / tokens) << 32) | orderable_bits(noise[i]);
    tokens_out[i] = static_cast<std::int32_t>(i % tokens);
  }
};

// Position k of sample b's sorted row holds token t = ids_shuffle[b*L + k]: ids_restore[b, t] = k,
// mask[b, t] = (k >= keep), ids_keep[b, k] = t for k < keep.
template <class T>
struct masking_scatter {
  const std::int32_t* ids_shuffle;
  std::int32_t *ids_restore, *ids_keep;
  T* mask;
  std::size_t tokens, keep;
  MAE_HD void operator()(std::size_t i) const {
    const std::size_t b = i / tokens, k = i % tokens;
    const std::int32_t t = ids_shuffle[i];
    ids_restore[b * tokens + static_cast<std::size_t>(t)] = static_cast<std::int32_t>(k);
    mask[b * tokens + static_cast<std::size_t>(t)] = k < keep ? T(0) : T(1);
    if (k < keep) ids_keep[b * keep + k] = t;
  }
};

}  // namespace mae::thrust_backend
