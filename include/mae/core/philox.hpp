#pragma once
// Philox4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC 2011) and the
// counter-based streams of mae. Element i of a stream is a pure function of (seed, stream, i), so
// every backend and every thread count draws the same numbers: no generator state to share or split.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "mae/core/parallel.hpp"

#ifndef MAE_HD
#if defined(__CUDACC__)
#define MAE_HD __host__ __device__
#else
#define MAE_HD
#endif
#endif

namespace mae {

struct u32x4 {
  std::uint32_t v[4];
};
struct u32x2 {
  std::uint32_t v[2];
};

struct philox4x32 {
  static constexpr std::uint32_t mul0 = 0xD2511F53u;
  static constexpr std::uint32_t mul1 = 0xCD9E8D57u;
  static constexpr std::uint32_t weyl0 = 0x9E3779B9u;  // golden ratio - 1, times 2^32
  static constexpr std::uint32_t weyl1 = 0xBB67AE85u;  // sqrt(3) - 1, times 2^32
  static constexpr int rounds = 10;

  MAE_HD static constexpr u32x4 generate(u32x4 ctr, u32x2 key) noexcept {
    for (int r = 0; r < rounds; ++r) {
      if (r > 0) {  // the first round uses the key as given
        key.v[0] += weyl0;
        key.v[1] += weyl1;
      }
      const std::uint64_t p0 = std::uint64_t{mul0} * ctr.v[0];
      const std::uint64_t p1 = std::uint64_t{mul1} * ctr.v[2];
      const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
      const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
      ctr = u32x4{{hi1 ^ ctr.v[1] ^ key.v[0], lo1, hi0 ^ ctr.v[3] ^ key.v[1], lo0}};
    }
    return ctr;
  }
};

// 24 random bits -> float in [0, 1): every value is exact in float, so float and double agree.
MAE_HD constexpr float uniform01(std::uint32_t bits) noexcept {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

// The Philox block b of a stream: key = seed, counter = (b, stream), both split little-end first.
MAE_HD constexpr u32x4 philox_block(std::uint64_t seed, std::uint64_t stream,
                                    std::uint64_t block) noexcept {
  return philox4x32::generate(
      u32x4{{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
             static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)}},
      u32x2{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}});
}

// Uniform element i: word i % 4 of block i / 4.
MAE_HD constexpr float uniform_at(std::uint64_t seed, std::uint64_t stream,
                                  std::uint64_t i) noexcept {
  return uniform01(philox_block(seed, stream, i / 4).v[i % 4]);
}

namespace detail {
// Box-Muller on two words, in float64: u1 = (a + 1) 2^-32 lies in (0, 1], so log never sees 0 and
// |z| <= sqrt(64 ln 2) ~ 6.66.
MAE_HD inline void box_muller(std::uint32_t a, std::uint32_t b, double& z_cos,
                              double& z_sin) noexcept {
  constexpr double two_m32 = 1.0 / 4294967296.0;
  constexpr double two_pi = 6.283185307179586476925286766559;
  const double r = ::sqrt(-2.0 * ::log((static_cast<double>(a) + 1.0) * two_m32));
  const double theta = two_pi * (static_cast<double>(b) * two_m32);
  z_cos = r * ::cos(theta);
  z_sin = r * ::sin(theta);
}
}  // namespace detail

// Standard normal element i from block i / 4: words (0,1) give elements 0 (cos) and 1 (sin), words
// (2,3) give elements 2 (cos) and 3 (sin). Streams share counters with uniform_at: draw uniforms and
// normals from different stream ids.
MAE_HD inline double normal_at_f64(std::uint64_t seed, std::uint64_t stream,
                                   std::uint64_t i) noexcept {
  const u32x4 w = philox_block(seed, stream, i / 4);
  const unsigned k = static_cast<unsigned>(i % 4) & ~1u;
  double z_cos = 0, z_sin = 0;
  detail::box_muller(w.v[k], w.v[k + 1], z_cos, z_sin);
  return i % 2 == 0 ? z_cos : z_sin;
}

// Bit-identical across backends except where two libms' float64 log/sin/cos differ by an ulp right
// at a float rounding boundary (of order 1e-8 per value).
MAE_HD inline float normal_at(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) noexcept {
  return static_cast<float>(normal_at_f64(seed, stream, i));
}

// Host fills: out[i] == uniform_at(seed, stream, i) (resp. the normal below) for every i, computed
// one Philox block per 4 elements. Each element is a pure function of its index, so the result does
// not depend on the number of OpenMP threads, or on whether OpenMP is enabled at all.
template <class T>
void fill_uniform(T* out, std::size_t n, std::uint64_t seed, std::uint64_t stream) {
  const std::size_t blocks = n / 4 + (n % 4 != 0);
  detail::parallel_for(blocks, blocks > 8192, [&](std::size_t b) {
    const u32x4 w = philox_block(seed, stream, b);
    for (std::size_t k = 0; k < 4 && b * 4 + k < n; ++k) out[b * 4 + k] = static_cast<T>(uniform01(w.v[k]));
  });
}

// out[i] = mean + stddev * z_i with z_i = normal_at_f64(seed, stream, i), in float64, rounded once to T.
template <class T>
void fill_normal(T* out, std::size_t n, std::uint64_t seed, std::uint64_t stream, T mean = T(0),
                 T stddev = T(1)) {
  const std::size_t blocks = n / 4 + (n % 4 != 0);
  const double m = static_cast<double>(mean), s = static_cast<double>(stddev);
  detail::parallel_for(blocks, blocks > 2048, [&](std::size_t b) {
    const u32x4 w = philox_block(seed, stream, b);
    double z[4];
    detail::box_muller(w.v[0], w.v[1], z[0], z[1]);
    detail::box_muller(w.v[2], w.v[3], z[2], z[3]);
    for (std::size_t k = 0; k < 4 && b * 4 + k < n; ++k) out[b * 4 + k] = static_cast<T>(m + s * z[k]);
  });
}

}  // namespace mae
