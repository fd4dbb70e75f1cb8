#pragma once
// Per-sample random masking (MAE_SPEC §3): ids_shuffle = stable argsort(noise) (small noise = kept),
// ids_restore = its inverse, ids_keep = the first `keep`; mask is 1 for removed tokens in original order.
// The noise is injectable (parity with PyTorch) or drawn from the library's counter-based RNG.
#include <algorithm>
#include <cstdint>
#include <numeric>

#include "mae/core/philox.hpp"

namespace mae {

template <class T>
struct MaskIndices {
  std::int32_t* ids_shuffle;  // (batch, tokens); the first `keep` of each row are the visible tokens
  std::int32_t* ids_restore;  // (batch, tokens)
  std::int32_t* ids_keep;     // (batch, keep): the visible tokens in shuffled order, contiguous per sample
  T* mask;                    // (batch, tokens), 1 = removed
};

// Host masking from given noise. Stable sort: ties keep token order on every backend.
template <class T, class Noise>
void random_masking(const Noise* noise, std::size_t batch, std::size_t tokens, std::size_t keep, MaskIndices<T> out) {
#pragma omp parallel for if (batch > 8)
  for (std::size_t b = 0; b < batch; ++b) {
    std::int32_t* shuffle = out.ids_shuffle + b * tokens;
    const Noise* nz = noise + b * tokens;
    std::iota(shuffle, shuffle + tokens, 0);
    std::stable_sort(shuffle, shuffle + tokens, [nz](std::int32_t a, std::int32_t c) { return nz[a] < nz[c]; });
    std::copy(shuffle, shuffle + keep, out.ids_keep + b * keep);
    for (std::size_t k = 0; k < tokens; ++k) {
      out.ids_restore[b * tokens + shuffle[k]] = static_cast<std::int32_t>(k);
      out.mask[b * tokens + shuffle[k]] = k < keep ? T(0) : T(1);
    }
  }
}

// The noise of step `step`: sample b, token t is uniform_at(seed, step, b * tokens + t) — independent of batching
// order within a step and of thread count.
inline void masking_noise(float* noise, std::size_t batch, std::size_t tokens, std::uint64_t seed, std::uint64_t step) {
  fill_uniform(noise, batch * tokens, seed, step);
}

}  // namespace mae
