#pragma once
// Scalar building blocks that g++ vectorizes without -ffast-math (which the project forbids):
// - reductions over `lanes` independent partial sums, combined in a fixed order (deterministic, and no
//   reassociation is needed for the compiler to vectorize them);
// - float exp / normal cdf written as branch-free arithmetic, because glibc's expf/erff only vectorize under
//   -ffast-math and a scalar call per element would cost more than the GEMMs around GELU and softmax.
// double keeps the libm functions: it is the precision used by the gradchecks.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

// Element loops compiled a second time for 16-lane AVX-512 vectors, taken at run time where the CPU has AVX-512F
// (cpu_has_avx512f): the x86-64-v3 build's loops use 8 lanes. GCC and Clang on x86-64.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define MAE_AVX512_LOOPS 1
#if defined(__clang__)
#define MAE_AVX512_LOOP [[gnu::target("avx512f")]] [[clang::min_vector_width(512)]]
#else
#define MAE_AVX512_LOOP [[gnu::target("avx512f,prefer-vector-width=512")]]
#endif
#else
#define MAE_AVX512_LOOPS 0
#endif

namespace mae::cpu::detail {

// Whether the CPU has AVX-512F (and the OS saves its registers). Decided once per process.
inline bool cpu_has_avx512f() {
#if MAE_AVX512_LOOPS
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return has;
#else
  return false;
#endif
}

// Independent partial sums per reduction: one AVX2 float vector (two for double). Attention rows are short
// (13 to 197 scores), so a wider block would leave more of each row to the scalar tail (measured: 16 lanes
// make fmnist-tiny's softmax 1.2-1.7x slower).
inline constexpr std::size_t lanes = 8;

// Element counts below which a parallel region costs more than it saves (memory-bound loops).
inline constexpr std::size_t parallel_elems = std::size_t(1) << 16;

// Pairwise tree over the lanes: a fixed order, and a short dependency chain (short softmax rows would otherwise
// spend a large part of their time in a serial chain of adds).
template <class T>
T combine(T (&acc)[lanes]) {
  for (std::size_t width = lanes / 2; width > 0; width /= 2)
    for (std::size_t j = 0; j < width; ++j) acc[j] += acc[j + width];
  return acc[0];
}

template <class T>
T sum(const T* x, std::size_t n) {
  T acc[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (std::size_t j = 0; j < lanes; ++j) acc[j] += x[i + j];
  for (std::size_t j = 0; i + j < n; ++j) acc[j] += x[i + j];
  return combine(acc);
}

template <class T>
T dot(const T* x, const T* y, std::size_t n) {
  T acc[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (std::size_t j = 0; j < lanes; ++j) acc[j] += x[i + j] * y[i + j];
  for (std::size_t j = 0; i + j < n; ++j) acc[j] += x[i + j] * y[i + j];
  return combine(acc);
}

// Σ (x - c)²
template <class T>
T sum_sq_dev(const T* x, T c, std::size_t n) {
  T acc[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (std::size_t j = 0; j < lanes; ++j) acc[j] += (x[i + j] - c) * (x[i + j] - c);
  for (std::size_t j = 0; i + j < n; ++j) acc[j] += (x[i + j] - c) * (x[i + j] - c);
  return combine(acc);
}

// Σ (x - y)²
template <class T>
T sq_dist(const T* x, const T* y, std::size_t n) {
  T acc[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (std::size_t j = 0; j < lanes; ++j) acc[j] += (x[i + j] - y[i + j]) * (x[i + j] - y[i + j]);
  for (std::size_t j = 0; i + j < n; ++j) acc[j] += (x[i + j] - y[i + j]) * (x[i + j] - y[i + j]);
  return combine(acc);
}

// Σ |x - y|
template <class T>
T abs_dist(const T* x, const T* y, std::size_t n) {
  T acc[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (std::size_t j = 0; j < lanes; ++j) acc[j] += std::abs(x[i + j] - y[i + j]);
  for (std::size_t j = 0; i + j < n; ++j) acc[j] += std::abs(x[i + j] - y[i + j]);
  return combine(acc);
}

// max over n >= 1 elements (NaN-free input assumed: a NaN is not propagated).
template <class T>
T max(const T* x, std::size_t n) {
  T acc[lanes];
  for (std::size_t j = 0; j < lanes; ++j) acc[j] = x[0];
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    for (std::size_t j = 0; j < lanes; ++j) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
  for (std::size_t j = 0; i + j < n; ++j) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
  for (std::size_t width = lanes / 2; width > 0; width /= 2)
    for (std::size_t j = 0; j < width; ++j) acc[j] = acc[j + width] > acc[j] ? acc[j + width] : acc[j];
  return acc[0];
}

// Bitwise select: g++ if-converts integer masks, while a float `c ? a : b` next to arithmetic it may
// specialise per branch becomes control flow that -ftrapping-math (the default) forbids to vectorize.
inline float select_bits(std::uint32_t mask, float a, float b) {
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(a) & mask) | (std::bit_cast<std::uint32_t>(b) & ~mask));
}

// e^x in float for x <= 88 (the callers' arguments are <= ~0): |relative error| <= ~2 ulp, exactly 0 below
// about -87.7 (where expf is deep in the subnormals) and for -inf. Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2,
// the degree-7 Taylor polynomial of e^r (truncation r^8/8! < 6e-9), 2^n assembled in the exponent bits. n is rounded
// with the 1.5*2^23 trick and clamped as an integer (see select_bits).
inline float exp_float(float x) {
  const float round_magic = 12582912.0f;
  const float shifted = x * 1.44269504088896341f + round_magic;
  const float n = shifted - round_magic;
  float r = x - n * 0.693145751953125f;  // ln2 split: the high part times n is exact
  r = r - n * 1.428606765330187045e-06f;
  float p = 1.0f / 5040.0f + r * (1.0f / 40320.0f);
  p = 1.0f / 720.0f + r * p;
  p = 1.0f / 120.0f + r * p;
  p = 1.0f / 24.0f + r * p;
  p = 1.0f / 6.0f + r * p;
  p = 0.5f + r * p;
  p = 1.0f + r * p;
  p = 1.0f + r * p;
  // n as an integer from the mantissa of `shifted` (modular: huge |x| land far outside [-126, 127]).
  std::int32_t k = static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(shifted) - 0x4B400000u);
  const std::uint32_t keep = k < -126 ? 0u : ~0u;
  k = k < -126 ? -126 : k;
  k = k > 127 ? 127 : k;
  const float e = p * std::bit_cast<float>(static_cast<std::uint32_t>(k + 127) << 23);
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(e) & keep);
}

template <class T>
T exp(T x) {
  if constexpr (std::is_same_v<T, float>)
    return exp_float(x);
  else
    return std::exp(x);
}

// Φ(x) = ½ erfc(-x/√2), the standard normal cdf. For float: erfc(z) = t·exp(-z² + P(t)), t = 1/(1 + z/2),
// z >= 0, with the Chebyshev-fitted P of Numerical Recipes §6.2 (fractional error < 1.2e-7 for all z), and
// erfc(-z) = 2 - erfc(z). Working on erfc keeps the relative accuracy of Φ in the far negative tail.
inline float normal_cdf_float(float x) {
  const float z = std::abs(x) * 0.70710678118654752f;
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = -0.82215223f + t * p;
  p = 1.48851587f + t * p;
  p = -1.13520398f + t * p;
  p = 0.27886807f + t * p;
  p = -0.18628806f + t * p;
  p = 0.09678418f + t * p;
  p = 0.37409196f + t * p;
  p = 1.00002368f + t * p;
  p = -1.26551223f + t * p;
  const float half_erfc = 0.5f * t * exp_float(p - z * z);
  const std::uint32_t negative = 0u - (std::bit_cast<std::uint32_t>(x) >> 31);
  return select_bits(negative, half_erfc, 1.0f - half_erfc);
}

template <class T>
T normal_cdf(T x) {
  if constexpr (std::is_same_v<T, float>)
    return normal_cdf_float(x);
  else
    return T(0.5) * std::erfc(-x * T(0.70710678118654752440));
}

// φ(x) = e^{-x²/2} / √(2π)
template <class T>
T normal_pdf(T x) {
  return exp(T(-0.5) * x * x) * T(0.39894228040143267794);
}

// y = sqrt(x), correctly rounded. std::sqrt in a loop does not vectorize under -fmath-errno (the default), and
// Eigen's float packet sqrt (EIGEN_FAST_MATH) is an rsqrt approximation: use the IEEE instructions directly.
template <class T>
void sqrt_n(const T* x, T* y, std::size_t n) {
  std::size_t i = 0;
#if defined(__AVX__)
  if constexpr (std::is_same_v<T, float>)
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_sqrt_ps(_mm256_loadu_ps(x + i)));
  else if constexpr (std::is_same_v<T, double>)
    for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, _mm256_sqrt_pd(_mm256_loadu_pd(x + i)));
#elif defined(__SSE2__)
  if constexpr (std::is_same_v<T, float>)
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(y + i, _mm_sqrt_ps(_mm_loadu_ps(x + i)));
  else if constexpr (std::is_same_v<T, double>)
    for (; i + 2 <= n; i += 2) _mm_storeu_pd(y + i, _mm_sqrt_pd(_mm_loadu_pd(x + i)));
#endif
  for (; i < n; ++i) y[i] = std::sqrt(x[i]);
}

}  // namespace mae::cpu::detail
