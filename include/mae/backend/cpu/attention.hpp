#pragma once
// Multi-head self-attention as one fused op over a packed qkv (B, N, 3D), D = H * hd:
// per token q = qkv[0:D], k = qkv[D:2D], v = qkv[2D:3D]; head h owns columns h*hd..(h+1)*hd of each.
// probs = softmax(q kᵀ hd^-1/2) per (batch, head) is saved (B, H, N, N); out (B, N, D) has the heads merged.
// Work is split over (batch, head) pairs; every pair writes its own slices, so bits are thread-independent.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "mae/backend/cpu/activation.hpp"
#include "mae/backend/cpu/gemm.hpp"
#include "mae/core/parallel.hpp"

namespace mae::cpu {
namespace detail {

// The backward needs an N x N buffer per pair in flight: a fixed number of slots (not the thread count, so
// the caller can size the scratch from the shape alone), each working through a fixed range of pairs.
inline constexpr std::size_t attention_slots = 64;

inline std::size_t attention_slot_count(std::size_t B, std::size_t H) { return std::min(B * H, attention_slots); }

}  // namespace detail

// Elements of T the caller provides as `scratch` to attention_backward.
inline std::size_t attention_scratch_elems(std::size_t B, std::size_t N, std::size_t H, std::size_t /*hd*/) {
  return detail::attention_slot_count(B, H) * N * N;
}

template <class T>
void attention_forward(const T* qkv, T* out, T* probs, std::size_t B, std::size_t N, std::size_t H, std::size_t hd) {
  const std::size_t D = H * hd, ld = 3 * D, pairs = B * H;
  const T scale = T(1) / std::sqrt(T(hd));
  const bool parallel = pairs > 1 && pairs * N * N * hd > detail::parallel_gemm_madds / 2;
  mae::detail::parallel_for(pairs, parallel, [&](std::size_t pair) {
    const std::size_t b = pair / H, h = pair % H;
    const T* q = qkv + b * N * ld + h * hd;
    T* p = probs + pair * N * N;
    detail::gemm_serial(false, true, N, N, hd, scale, q, ld, q + D, ld, T(0), p, N);
    for (std::size_t i = 0; i < N; ++i) detail::softmax_row(p + i * N, p + i * N, N);
    detail::gemm_serial(false, false, N, hd, N, T(1), p, N, q + 2 * D, ld, T(0), out + b * N * D + h * hd, D);
  });
}

// Accumulates into dqkv (B, N, 3D); dqkv_beta 0 overwrites it instead. With S = q kᵀ / √hd, P = softmax(S),
// O = P v:  dv += Pᵀ dO,  dP = dO vᵀ,  dS = P ∘ (dP - rowsum(dP ∘ P)),  dq += dS k / √hd,  dk += dSᵀ q / √hd.
// scratch: attention_scratch_elems(B, N, H, hd) elements (holds dP, then dS, per slot).
template <class T>
void attention_backward(const T* qkv, const T* probs, const T* dout, T* dqkv, std::size_t B, std::size_t N,
                        std::size_t H, std::size_t hd, T* scratch, T dqkv_beta = T(1)) {
  const std::size_t D = H * hd, ld = 3 * D, pairs = B * H, slots = detail::attention_slot_count(B, H);
  const T scale = T(1) / std::sqrt(T(hd));
  const bool parallel = slots > 1 && pairs * N * N * hd > detail::parallel_gemm_madds / 4;
  mae::detail::parallel_for(slots, parallel, [&](std::size_t slot) {
    T* ds = scratch + slot * N * N;
    for (std::size_t pair = slot * pairs / slots; pair < (slot + 1) * pairs / slots; ++pair) {
      const std::size_t b = pair / H, h = pair % H;
      const T* q = qkv + b * N * ld + h * hd;
      const T* p = probs + pair * N * N;
      const T* dout_h = dout + b * N * D + h * hd;
      T* dq = dqkv + b * N * ld + h * hd;
      detail::gemm_serial(true, false, N, hd, N, T(1), p, N, dout_h, D, dqkv_beta, dq + 2 * D, ld);
      detail::gemm_serial(false, true, N, N, hd, T(1), dout_h, D, q + 2 * D, ld, T(0), ds, N);
      for (std::size_t i = 0; i < N; ++i) {
        T* row = ds + i * N;
        const T* pr = p + i * N;
        const T d = detail::dot(row, pr, N);
#pragma omp simd
        for (std::size_t j = 0; j < N; ++j) row[j] = pr[j] * (row[j] - d);
      }
      detail::gemm_serial(false, false, N, hd, N, scale, ds, N, q + D, ld, dqkv_beta, dq, ld);
      detail::gemm_serial(true, false, N, hd, N, scale, ds, N, q, ld, dqkv_beta, dq + D, ld);
    }
  });
}

}  // namespace mae::cpu
