#pragma once
// Losses: MAE's masked MSE on (optionally) per-patch normalized targets (MAE_SPEC §6), L1 (SimMIM) and
// cross-entropy (probes, fine-tuning). Scalar results are summed in double over a fixed partition.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "mae/backend/cpu/activation.hpp"
#include "mae/core/error.hpp"
#include "mae/core/parallel.hpp"

namespace mae::cpu {
namespace detail {

// Σ_i term(i) for i < count: fixed chunks summed in order, so the result does not depend on thread count.
template <class F>
double fixed_order_sum(std::size_t count, bool parallel, const F& term) {
  constexpr std::size_t chunks = 64;
  double partial[chunks];
  mae::detail::parallel_for(chunks, parallel, [&](std::size_t c) {
    double s = 0;
    for (std::size_t i = c * count / chunks; i < (c + 1) * count / chunks; ++i) s += term(i);
    partial[c] = s;
  });
  double total = 0;
  for (double s : partial) total += s;
  return total;
}

inline void check_labels(const char* op, const std::int32_t* labels, std::size_t rows, std::size_t classes) {
  for (std::size_t r = 0; r < rows; ++r)
    MAE_CHECK(labels[r] >= 0 && static_cast<std::size_t>(labels[r]) < classes,
              std::string(op) + ": label " + std::to_string(labels[r]) + " of row " + std::to_string(r) +
                  " is outside [0, " + std::to_string(classes) + ")");
}

template <class T>
double mask_sum(const char* op, const T* mask, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += mask[i];
  MAE_CHECK(s != 0, std::string(op) + ": the mask sums to 0 over " + std::to_string(n) +
                        " entries, so the masked mean is undefined");
  return s;
}

}  // namespace detail

// pred, target, target_norm_out: (B, L, P); mask: (B, L), 1 = removed (counted), 0 = kept.
// With norm_pix each target patch becomes (t - mean) / sqrt(var + eps) with the UNBIASED variance (P - 1).
// loss = Σ_{b,l} mask * mean_p (pred - t)² / Σ mask. target_norm_out receives the target actually used.
template <class T>
T masked_mse_forward(const T* pred, const T* target, const T* mask, T* target_norm_out, std::size_t B, std::size_t L,
                     std::size_t P, bool norm_pix, T eps) {
  MAE_CHECK(!norm_pix || P > 1, "masked_mse_forward: norm_pix needs patches of more than 1 value (P = " +
                                    std::to_string(P) + ") for the unbiased variance");
  const double denominator = detail::mask_sum("masked_mse_forward", mask, B * L);
  const double total = detail::fixed_order_sum(B * L, B * L * P > detail::parallel_elems, [&](std::size_t row) {
    const T* t = target + row * P;
    const T* y = pred + row * P;
    T* tn = target_norm_out + row * P;
    if (norm_pix) {
      const T mu = detail::sum(t, P) / T(P);
      const T inv_std = T(1) / std::sqrt(detail::sum_sq_dev(t, mu, P) / T(P - 1) + eps);
#pragma omp simd
      for (std::size_t p = 0; p < P; ++p) tn[p] = (t[p] - mu) * inv_std;
    } else {
      std::copy(t, t + P, tn);
    }
    return double(mask[row]) * double(detail::sq_dist(y, tn, P)) / double(P);
  });
  return T(total / denominator);
}

// dpred += dloss * mask * 2 (pred - target_norm) / (P Σ mask)
template <class T>
void masked_mse_backward(const T* pred, const T* target_norm, const T* mask, T dloss, T* dpred, std::size_t B,
                         std::size_t L, std::size_t P) {
  const double denominator = detail::mask_sum("masked_mse_backward", mask, B * L);
  mae::detail::parallel_for(B * L, B * L * P > detail::parallel_elems, [&](std::size_t row) {
    const T factor = T(2.0 * double(dloss) * double(mask[row]) / (double(P) * denominator));
    const T* y = pred + row * P;
    const T* t = target_norm + row * P;
    T* dy = dpred + row * P;
#pragma omp simd
    for (std::size_t p = 0; p < P; ++p) dy[p] += factor * (y[p] - t[p]);
  });
}

// L1 over rows of P values with an optional per-row mask (null = all rows count):
// loss = Σ_r mask_r Σ_p |pred - target| / (Σ mask * P)   (SimMIM's masked L1 divided by the channels).
template <class T>
T l1_forward(const T* pred, const T* target, const T* mask, std::size_t rows, std::size_t P) {
  const double denominator = (mask ? detail::mask_sum("l1_forward", mask, rows) : double(rows)) * double(P);
  const double total = detail::fixed_order_sum(rows, rows * P > detail::parallel_elems, [&](std::size_t r) {
    return (mask ? double(mask[r]) : 1.0) * double(detail::abs_dist(pred + r * P, target + r * P, P));
  });
  return T(total / denominator);
}

// dpred += dloss * mask * sign(pred - target) / (Σ mask * P), with sign(0) = 0 as torch.sign.
template <class T>
void l1_backward(const T* pred, const T* target, const T* mask, T dloss, T* dpred, std::size_t rows, std::size_t P) {
  const double denominator = (mask ? detail::mask_sum("l1_backward", mask, rows) : double(rows)) * double(P);
  mae::detail::parallel_for(rows, rows * P > detail::parallel_elems, [&](std::size_t r) {
    const T factor = T(double(dloss) * (mask ? double(mask[r]) : 1.0) / denominator);
#pragma omp simd
    for (std::size_t p = 0; p < P; ++p) {
      const T d = pred[r * P + p] - target[r * P + p];
      dpred[r * P + p] += factor * std::copysign(T(d != T(0)), d);
    }
  });
}

// Mean cross-entropy of logits (rows, classes) against integer labels; probs_out receives the softmax.
template <class T>
T cross_entropy_forward(const T* logits, const std::int32_t* labels, T* probs_out, std::size_t rows,
                        std::size_t classes) {
  detail::check_labels("cross_entropy_forward", labels, rows, classes);
  const double total = detail::fixed_order_sum(rows, rows * classes > detail::parallel_elems, [&](std::size_t r) {
    T row_max = 0;
    const T s = detail::softmax_row(logits + r * classes, probs_out + r * classes, classes, &row_max);
    // -log p[label] = log Σ exp(x - max) + max - x[label], exact where the softmax underflows.
    return double(std::log(s)) + double(row_max) - double(logits[r * classes + labels[r]]);
  });
  return T(total / double(rows));
}

// dlogits += dloss / rows * (probs - onehot(label))
template <class T>
void cross_entropy_backward(const T* probs, const std::int32_t* labels, T dloss, T* dlogits, std::size_t rows,
                            std::size_t classes) {
  detail::check_labels("cross_entropy_backward", labels, rows, classes);
  const T factor = T(double(dloss) / double(rows));
  mae::detail::parallel_for(rows, rows * classes > detail::parallel_elems, [&](std::size_t r) {
    const T* pr = probs + r * classes;
    T* dr = dlogits + r * classes;
#pragma omp simd
    for (std::size_t c = 0; c < classes; ++c) dr[c] += factor * pr[c];
    dr[labels[r]] -= factor;
  });
}

}  // namespace mae::cpu
