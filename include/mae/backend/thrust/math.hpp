#pragma once
// Scalar math for functors that run on the host (g++) and on the device (nvcc): the C library's float and
// double functions by exact name, which both CUDA's math API and glibc provide, so no call depends on
// std:: overloads being usable in device code.
#include <cfloat>
#include <cmath>

#include "mae/core/philox.hpp"  // MAE_HD

namespace mae::thrust_backend::math {

MAE_HD inline float exp(float x) { return ::expf(x); }
MAE_HD inline double exp(double x) { return ::exp(x); }
MAE_HD inline float log(float x) { return ::logf(x); }
MAE_HD inline double log(double x) { return ::log(x); }
MAE_HD inline float sqrt(float x) { return ::sqrtf(x); }
MAE_HD inline double sqrt(double x) { return ::sqrt(x); }
MAE_HD inline float abs(float x) { return ::fabsf(x); }
MAE_HD inline double abs(double x) { return ::fabs(x); }
MAE_HD inline float erfc(float x) { return ::erfcf(x); }
MAE_HD inline double erfc(double x) { return ::erfc(x); }

// False for ±inf and NaN (every comparison with NaN is false).
MAE_HD inline bool is_finite(float x) { return ::fabsf(x) <= FLT_MAX; }
MAE_HD inline bool is_finite(double x) { return ::fabs(x) <= DBL_MAX; }

template <class T>
MAE_HD T max(T a, T b) { return a > b ? a : b; }

// Φ(x) = ½ erfc(-x/√2): the erfc form keeps Φ's relative accuracy in the negative tail.
template <class T>
MAE_HD T normal_cdf(T x) { return T(0.5) * erfc(-x * T(0.70710678118654752440)); }

// φ(x) = e^{-x²/2} / √(2π)
template <class T>
MAE_HD T normal_pdf(T x) { return exp(T(-0.5) * x * x) * T(0.39894228040143267794); }

}  // namespace mae::thrust_backend::math
