#pragma once
// Token gather/scatter with run-time indices (masking and un-shuffling, MAE_SPEC §3).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "mae/backend/cpu/vecmath.hpp"
#include "mae/core/error.hpp"
#include "mae/core/parallel.hpp"

namespace mae::cpu {
namespace detail {

// Checked before any parallel loop: an exception cannot leave an OpenMP region.
inline void check_token_indices(const char* op, const std::int32_t* idx, std::size_t B, std::size_t Nout,
                                std::size_t Nin) {
  for (std::size_t i = 0; i < B * Nout; ++i)
    MAE_CHECK(idx[i] >= 0 && static_cast<std::size_t>(idx[i]) < Nin,
              std::string(op) + ": index " + std::to_string(idx[i]) + " at (batch " + std::to_string(i / Nout) +
                  ", position " + std::to_string(i % Nout) + ") is outside [0, " + std::to_string(Nin) + ")");
}

}  // namespace detail

// y[b, k, :] = x[b, idx[b*Nout + k], :] for x (B, Nin, D), y (B, Nout, D).
template <class T>
void gather_tokens(const T* x, const std::int32_t* idx, T* y, std::size_t B, std::size_t Nin, std::size_t Nout,
                   std::size_t D) {
  detail::check_token_indices("gather_tokens", idx, B, Nout, Nin);
  mae::detail::parallel_for(B * Nout, B * Nout * D > detail::parallel_elems, [&](std::size_t row) {
    const T* src = x + (row / Nout * Nin + static_cast<std::size_t>(idx[row])) * D;
    std::copy(src, src + D, y + row * D);
  });
}

// dx[b, idx[b*Nout + k], :] += dy[b, k, :]. Indices may repeat: each batch row is summed serially in k order
// by one thread (parallel over b only), so repeated indices stay correct and deterministic.
template <class T>
void scatter_add_tokens(const T* dy, const std::int32_t* idx, T* dx, std::size_t B, std::size_t Nin, std::size_t Nout,
                        std::size_t D) {
  detail::check_token_indices("scatter_add_tokens", idx, B, Nout, Nin);
  mae::detail::parallel_for(B, B > 1 && B * Nout * D > detail::parallel_elems, [&](std::size_t b) {
    for (std::size_t k = 0; k < Nout; ++k) {
      const T* src = dy + (b * Nout + k) * D;
      T* dst = dx + (b * Nin + static_cast<std::size_t>(idx[b * Nout + k])) * D;
#pragma omp simd
      for (std::size_t c = 0; c < D; ++c) dst[c] += src[c];
    }
  });
}

}  // namespace mae::cpu
