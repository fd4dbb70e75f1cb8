#pragma once
// Per-sample random masking (MAE_SPEC §3): ids_shuffle = stable argsort(noise) (small noise = kept),
// ids_restore = its inverse, ids_keep = the first `keep`; mask is 1 for removed tokens in original order.
// The noise is injectable (parity with PyTorch) or drawn from the library's counter-based RNG: sample b,
// token t of step s is uniform_at(seed, s, b * L + t), whatever the backend or thread count.
#include <algorithm>
#include <cstdint>
#include <numeric>

#include "mae/core/parallel.hpp"

namespace mae {

template <class T>
struct MaskIndices {
  std::int32_t* ids_shuffle;  // (batch, tokens); the first `keep` of each row are the visible tokens
  std::int32_t* ids_restore;  // (batch, tokens)
  std::int32_t* ids_keep;     // (batch, keep): the visible tokens in shuffled order, contiguous per sample
  T* mask;                    // (batch, tokens), 1 = removed
};

// Host masking from given noise. Ties keep token order, as a stable sort, on every backend.
template <class T, class Noise>
void random_masking(const Noise* noise, std::size_t batch, std::size_t tokens, std::size_t keep, MaskIndices<T> out) {
  mae::detail::parallel_for(batch, batch > 8, [&](std::size_t b) {
    std::int32_t* shuffle = out.ids_shuffle + b * tokens;
    const Noise* nz = noise + b * tokens;
    std::iota(shuffle, shuffle + tokens, 0);
    // Ties broken by token index: the stable argsort, without std::stable_sort's heap buffer.
    std::sort(shuffle, shuffle + tokens,
              [nz](std::int32_t a, std::int32_t c) { return nz[a] < nz[c] || (nz[a] == nz[c] && a < c); });
    std::copy(shuffle, shuffle + keep, out.ids_keep + b * keep);
    for (std::size_t k = 0; k < tokens; ++k) {
      out.ids_restore[b * tokens + shuffle[k]] = static_cast<std::int32_t>(k);
      out.mask[b * tokens + shuffle[k]] = k < keep ? T(0) : T(1);
    }
  });
}

}  // namespace mae
