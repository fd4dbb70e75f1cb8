#pragma once
// Functors of the losses, with the CPU backend's semantics (mae/backend/cpu/loss.hpp). A forward writes one
// term per row; the kernel sums the terms in a fixed order (fixed_order_sum), so the loss is deterministic.
#include <cstddef>
#include <cstdint>

#include "mae/backend/thrust/math.hpp"

namespace mae::thrust_backend {

// Row r of (B*L, P): target_norm (per-patch normalised with the unbiased variance, or the target itself) and
// the term mask[r] * mean_p (pred - target_norm)².
template <class T>
struct masked_mse_row {
  const T *pred, *target, *mask;
  T* target_norm;
  double* terms;
  std::size_t P;
  bool norm_pix;
  T eps;
  MAE_HD void operator()(std::size_t r) const {
    const T* t = target + r * P;
    const T* y = pred + r * P;
    T* tn = target_norm + r * P;
    if (norm_pix) {
      T s = T(0);
      for (std::size_t p = 0; p < P; ++p) s += t[p];
      const T mu = s / T(P);
      T ss = T(0);
      for (std::size_t p = 0; p < P; ++p) ss += (t[p] - mu) * (t[p] - mu);
      const T inv_std = T(1) / math::sqrt(ss / T(P - 1) + eps);
      for (std::size_t p = 0; p < P; ++p) tn[p] = (t[p] - mu) * inv_std;
    } else {
      for (std::size_t p = 0; p < P; ++p) tn[p] = t[p];
    }
    T acc = T(0);
    for (std::size_t p = 0; p < P; ++p) acc += (y[p] - tn[p]) * (y[p] - tn[p]);
    terms[r] = static_cast<double>(mask[r]) * static_cast<double>(acc) / static_cast<double>(P);
  }
};

// dpred += dloss * mask * 2 (pred - target_norm) / (P Σ mask); denominator = P Σ mask, dloss in backend memory.
template <class T>
struct masked_mse_backward_op {
  const T *pred, *target_norm, *mask, *dloss;
  T* dpred;
  std::size_t P;
  double denominator;
  MAE_HD void operator()(std::size_t e) const {
    const T factor =
        static_cast<T>(2.0 * static_cast<double>(dloss[0]) * static_cast<double>(mask[e / P]) / denominator);
    dpred[e] += factor * (pred[e] - target_norm[e]);
  }
};

// term r = mask[r] * Σ_p |pred - target| (mask null: every row counts).
template <class T>
struct l1_row {
  const T *pred, *target, *mask;
  double* terms;
  std::size_t P;
  MAE_HD void operator()(std::size_t r) const {
    T acc = T(0);
    for (std::size_t p = 0; p < P; ++p) acc += math::abs(pred[r * P + p] - target[r * P + p]);
    terms[r] = (mask ? static_cast<double>(mask[r]) : 1.0) * static_cast<double>(acc);
  }
};

// dpred += dloss * mask * sign(pred - target) / denominator, sign(0) = 0; denominator = Σ mask * P.
template <class T>
struct l1_backward_op {
  const T *pred, *target, *mask, *dloss;
  T* dpred;
  std::size_t P;
  double denominator;
  MAE_HD void operator()(std::size_t e) const {
    const double m = mask ? static_cast<double>(mask[e / P]) : 1.0;
    const T factor = static_cast<T>(static_cast<double>(dloss[0]) * m / denominator);
    const T d = pred[e] - target[e];
    dpred[e] += factor * (T(d > T(0)) - T(d < T(0)));
  }
};

// Row r: probs = softmax(logits), term = -log p[label] = log Σ exp(x - max) + max - x[label].
template <class T>
struct cross_entropy_row {
  const T* logits;
  const std::int32_t* labels;
  T* probs;
  double* terms;
  std::size_t classes;
  MAE_HD void operator()(std::size_t r) const {
    const T* x = logits + r * classes;
    T* p = probs + r * classes;
    T m = x[0];
    for (std::size_t c = 1; c < classes; ++c) m = math::max(m, x[c]);
    T s = T(0);
    for (std::size_t c = 0; c < classes; ++c) {
      p[c] = math::exp(x[c] - m);
      s += p[c];
    }
    const T inv = T(1) / s;
    for (std::size_t c = 0; c < classes; ++c) p[c] *= inv;
    terms[r] = static_cast<double>(math::log(s)) + static_cast<double>(m) - static_cast<double>(x[labels[r]]);
  }
};

// dlogits += dloss / rows * (probs - onehot(label)), the one-hot subtracted after the add, as the CPU does.
template <class T>
struct cross_entropy_backward_op {
  const T *probs, *dloss;
  const std::int32_t* labels;
  T* dlogits;
  std::size_t classes, rows;
  MAE_HD void operator()(std::size_t e) const {
    const T factor = static_cast<T>(static_cast<double>(dloss[0]) / static_cast<double>(rows));
    const std::size_t r = e / classes, c = e % classes;
    T v = dlogits[e] + factor * probs[e];
    if (static_cast<std::size_t>(labels[r]) == c) v -= factor;
    dlogits[e] = v;
  }
};

}  // namespace mae::thrust_backend
