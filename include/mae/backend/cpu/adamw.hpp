#pragma once
// AdamW, one tensor, in exactly the order of PyTorch 1.13's torch.optim.AdamW (single-tensor path):
//   param *= 1 - lr*wd;  m = m*b1 + (1-b1) g;  v = v*b2 + (1-b2) g²;
//   param += (-(lr / (1 - b1^step)) * m) / (sqrt(v) / sqrt(1 - b2^step) + eps)   (addcdiv: self + value*t1/t2).
// The hyperparameters are doubles (Python floats) and the scalar factors are computed in double, then rounded
// to T once, as PyTorch does: pass them as double to match it bit for bit in float.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "mae/backend/cpu/vecmath.hpp"
#include "mae/core/error.hpp"
#include "mae/core/parallel.hpp"

namespace mae::cpu {

// step is the 1-based count of this update (PyTorch's state['step'] after its increment).
template <class T>
void adamw_step(T* param, const T* grad, T* m, T* v, std::size_t n, double lr, double beta1, double beta2, double eps,
                double weight_decay, long step) {
  MAE_CHECK(step >= 1, "adamw_step: step must be >= 1 (got " + std::to_string(step) + ")");
  const T decay = T(1.0 - lr * weight_decay);
  const T b1 = T(beta1), b2 = T(beta2), one_minus_b1 = T(1.0 - beta1), one_minus_b2 = T(1.0 - beta2);
  const T neg_step_size = T(-(lr / (1.0 - std::pow(beta1, double(step)))));
  const T bias_correction2_sqrt = T(std::sqrt(1.0 - std::pow(beta2, double(step))));
  const T eps_t = T(eps);
  // Roundings as PyTorch's CPU kernels: add_(g, alpha) and addcmul_ are fused multiply-adds (explicit std::fma
  // here), mul_ and addcdiv_ are not (kept in separate statements or loops, so -ffp-contract cannot fuse them).
  // Blocks of `block` elements, so that the square roots (detail::sqrt_n) run vectorized on L1-resident data.
  constexpr std::size_t block = 256;
  const std::size_t blocks = (n + block - 1) / block;
  // About 20 operations an element (a square root and a division among them): worth two threads from 8K
  // elements on, where element-wise adds wait for 64K (fmnist-tiny's largest weight has exactly 64K).
  constexpr std::size_t parallel_adamw_elems = std::size_t(1) << 13;
  mae::detail::parallel_for(blocks, n > parallel_adamw_elems, [&](std::size_t blk) {
    const std::size_t i0 = blk * block, len = std::min(block, n - i0);
    T* p = param + i0;
    T* mb = m + i0;
    T* vb = v + i0;
    const T* g = grad + i0;
    alignas(64) T root[block];
#pragma omp simd
    for (std::size_t i = 0; i < len; ++i) {
      p[i] *= decay;
      mb[i] = std::fma(g[i], one_minus_b1, mb[i] * b1);
      vb[i] = std::fma(one_minus_b2 * g[i], g[i], vb[i] * b2);
    }
    detail::sqrt_n(vb, root, len);
#pragma omp simd
    for (std::size_t i = 0; i < len; ++i) p[i] += neg_step_size * mb[i] / (root[i] / bias_correction2_sqrt + eps_t);
  });
}

}  // namespace mae::cpu
