#pragma once
// AdamW in the order of PyTorch 1.13's single-tensor path (as mae/backend/cpu/adamw.hpp): the scalar factors
// are computed once in double on the host and rounded to T, the element update runs in T.
#include <cmath>
#include <cstddef>
#include <string>

#include "mae/backend/thrust/math.hpp"
#include "mae/core/error.hpp"

namespace mae::thrust_backend {

template <class T>
struct adamw_factors {
  T decay, b1, b2, one_minus_b1, one_minus_b2, neg_step_size, bias_correction2_sqrt, eps;

  adamw_factors(double lr, double beta1, double beta2, double eps_, double weight_decay, long step) {
    MAE_CHECK(step >= 1, "adamw_step: step must be >= 1 (got " + std::to_string(step) + ")");
    decay = T(1.0 - lr * weight_decay);
    b1 = T(beta1);
    b2 = T(beta2);
    one_minus_b1 = T(1.0 - beta1);
    one_minus_b2 = T(1.0 - beta2);
    neg_step_size = T(-(lr / (1.0 - std::pow(beta1, double(step)))));
    bias_correction2_sqrt = T(std::sqrt(1.0 - std::pow(beta2, double(step))));
    eps = T(eps_);
  }
};

// param *= decay; m = m b1 + (1-b1) g; v = v b2 + (1-b2) g²; param += -step_size m / (sqrt(v)/sqrt(bc2) + eps).
template <class T>
struct adamw_op {
  T* param;
  const T* grad;
  T *m, *v;
  adamw_factors<T> f;
  MAE_HD void operator()(std::size_t i) const {
    const T g = grad[i];
    const T p = param[i] * f.decay;
    const T mi = m[i] * f.b1 + f.one_minus_b1 * g;
    const T vi = v[i] * f.b2 + f.one_minus_b2 * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = p + f.neg_step_size * (mi / (math::sqrt(vi) / f.bias_correction2_sqrt + f.eps));
  }
};

}  // namespace mae::thrust_backend
