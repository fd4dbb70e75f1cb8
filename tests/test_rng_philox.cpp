#include <doctest/doctest.h>

#include <Random123/philox.h>  // independent implementation, used only as a cross-check

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "mae/core/philox.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

bool equal(mae::u32x4 a, mae::u32x4 b) {
  return a.v[0] == b.v[0] && a.v[1] == b.v[1] && a.v[2] == b.v[2] && a.v[3] == b.v[3];
}

// Sample mean, variance and fourth central moment, two-pass in double.
struct Moments {
  double mean, var, m4;  // m4: fourth central moment
};
template <class T>
Moments moments(const std::vector<T>& x) {
  double s = 0;
  for (T v : x) s += v;
  const double mean = s / static_cast<double>(x.size());
  double s2 = 0, s4 = 0;
  for (T v : x) {
    const double d = v - mean;
    s2 += d * d;
    s4 += d * d * d * d;
  }
  const auto n = static_cast<double>(x.size());
  return {mean, s2 / (n - 1), s4 / n};
}

template <class T>
double lag1_correlation(const std::vector<T>& x) {
  const Moments m = moments(x);
  double c = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) c += (x[i] - m.mean) * (x[i + 1] - m.mean);
  return c / static_cast<double>(x.size() - 1) / m.var;
}

}  // namespace

// Published Random123 known-answer vectors (kat_vectors, philox4x32 with 10 rounds).
TEST_CASE("philox4x32-10 known-answer vectors") {
  struct Kat {
    mae::u32x4 ctr;
    mae::u32x2 key;
    mae::u32x4 expected;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, {{0, 0}}, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
       {{0xffffffff, 0xffffffff}},
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
       {{0xa4093822, 0x299f31d0}},
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const Kat& k : kats) CHECK(equal(mae::philox4x32::generate(k.ctr, k.key), k.expected));
  // Also usable at compile time.
  static_assert(mae::philox4x32::generate({{0, 0, 0, 0}}, {{0, 0}}).v[0] == 0x6627e8d5u);
}

TEST_CASE("philox4x32-10 agrees with Random123 on random counters and keys") {
  std::mt19937_64 gen(20240601);
  r123::Philox4x32 theirs;
  for (int t = 0; t < 500; ++t) {
    mae::u32x4 c;
    mae::u32x2 k;
    for (auto& w : c.v) w = static_cast<std::uint32_t>(gen());
    for (auto& w : k.v) w = static_cast<std::uint32_t>(gen());
    const auto r = theirs({{c.v[0], c.v[1], c.v[2], c.v[3]}}, {{k.v[0], k.v[1]}});
    const mae::u32x4 ours = mae::philox4x32::generate(c, k);
    INFO("trial " << t);
    CHECK(equal(ours, {{r[0], r[1], r[2], r[3]}}));
  }
}

TEST_CASE("stream layout: key = seed, counter = (i / 4, stream), word i % 4") {
  const std::uint64_t seed = 0x0123456789abcdefULL, stream = 0xfedcba9876543210ULL;
  r123::Philox4x32 theirs;
  for (std::uint64_t i : {0ULL, 1ULL, 2ULL, 3ULL, 4ULL, 7ULL, (1ULL << 34) + 5}) {
    const std::uint64_t b = i / 4;
    const auto r = theirs({{static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(b >> 32),
                            static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)}},
                          {{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}});
    CHECK(mae::uniform_at(seed, stream, i) == static_cast<float>(r[i % 4] >> 8) / 16777216.0f);
  }
  // The high halves of seed and stream matter.
  CHECK(mae::uniform_at(1, 0, 0) != mae::uniform_at(1 + (1ULL << 32), 0, 0));
  CHECK(mae::uniform_at(1, 1, 0) != mae::uniform_at(1, 1 + (1ULL << 32), 0));
}

TEST_CASE("uniform01 covers [0, 1) with 24 bits") {
  CHECK(mae::uniform01(0) == 0.0f);
  CHECK(mae::uniform01(0xffffffffu) == 1.0f - 0x1p-24f);
  CHECK(mae::uniform01(0xffffffffu) < 1.0f);
  CHECK(mae::uniform01(0x100u) == 0x1p-24f);
  CHECK(mae::uniform01(0xffu) == 0.0f);  // the low 8 bits are dropped
}

TEST_CASE("uniform moments over 1e6 draws") {
  const std::size_t n = 1000000;
  std::vector<float> u(n);
  mae::fill_uniform(u.data(), n, 42, 7);
  float lo = 1, hi = 0;
  for (float v : u) lo = std::min(lo, v), hi = std::max(hi, v);
  CHECK(lo >= 0.0f);
  CHECK(hi < 1.0f);
  const Moments m = moments(u);
  // Standard errors: mean sqrt(1/12/n) = 2.9e-4, variance sqrt((1/80 - 1/144)/n) = 7.5e-5;
  // bounds are 5 standard errors.
  CHECK(std::abs(m.mean - 0.5) < 1.5e-3);
  CHECK(std::abs(m.var - 1.0 / 12) < 3.8e-4);
  CHECK(std::abs(lag1_correlation(u)) < 5e-3);
  // Chi-square over 64 equal bins: 63 degrees of freedom, mean 63, sd 11.2; bound 63 + 6 sd.
  std::vector<double> bins(64, 0);
  for (float v : u) bins[static_cast<std::size_t>(v * 64)] += 1;
  double chi2 = 0;
  const double expected = static_cast<double>(n) / 64;
  for (double c : bins) chi2 += (c - expected) * (c - expected) / expected;
  CHECK(chi2 < 130);
}

TEST_CASE("normal moments over 1e6 draws") {
  const std::size_t n = 1000000;
  std::vector<double> z(n);
  mae::fill_normal(z.data(), n, 42, 8);
  const Moments m = moments(z);
  // Standard errors: mean 1e-3, variance sqrt(2/n) = 1.4e-3, fourth moment sqrt(96/n) = 9.8e-3.
  CHECK(std::abs(m.mean) < 5e-3);
  CHECK(std::abs(m.var - 1) < 7e-3);
  CHECK(std::abs(m.m4 - 3) < 5e-2);
  CHECK(std::abs(lag1_correlation(z)) < 5e-3);  // also covers the cos/sin partners of a pair
  std::size_t beyond2 = 0;
  double max_abs = 0;
  for (double v : z) {
    beyond2 += std::abs(v) > 2;
    max_abs = std::max(max_abs, std::abs(v));
  }
  // P(|z| > 2) = 0.0455, sd of the count sqrt(n p (1 - p)) = 208.
  CHECK(std::abs(static_cast<double>(beyond2) - 45500) < 1100);
  CHECK(max_abs <= std::sqrt(64 * std::log(2.0)));
}

TEST_CASE("mean and stddev of fill_normal") {
  const std::size_t n = 200000;
  std::vector<float> x(n);
  mae::fill_normal(x.data(), n, 3, 4, 2.0f, 0.02f);
  const Moments m = moments(x);
  CHECK(std::abs(m.mean - 2.0) < 5 * 0.02 / std::sqrt(double(n)));
  CHECK(std::abs(std::sqrt(m.var) - 0.02) < 0.02 * 5 / std::sqrt(2.0 * double(n)));
  for (std::size_t i = 0; i < n; i += 997)
    CHECK(x[i] == static_cast<float>(2.0 + 0.02f * mae::normal_at_f64(3, 4, i)));
}

TEST_CASE("fills equal the pure per-element functions, for any length") {
  for (std::size_t n : {0, 1, 2, 3, 4, 5, 1001, 100003}) {
    std::vector<float> u(n), z(n);
    std::vector<double> ud(n), zd(n);
    mae::fill_uniform(u.data(), n, 9, 1);
    mae::fill_uniform(ud.data(), n, 9, 1);
    mae::fill_normal(z.data(), n, 9, 2);
    mae::fill_normal(zd.data(), n, 9, 2);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
      bad += u[i] != mae::uniform_at(9, 1, i);
      bad += ud[i] != static_cast<double>(u[i]);  // uniforms are exact in float
      bad += z[i] != mae::normal_at(9, 2, i);
      bad += zd[i] != mae::normal_at_f64(9, 2, i);
    }
    INFO("n = " << n);
    CHECK(bad == 0);
  }
}

TEST_CASE("consecutive seeds and streams give unrelated values") {
  // Trap 5 of DESIGN_NOTES: minstd with seeds 1000..1002 gives nearly equal first values.
  const std::size_t n = 100000;
  std::vector<float> first(n), a(n), b(n);
  for (std::size_t s = 0; s < n; ++s) first[s] = mae::uniform_at(1000 + s, 0, 0);
  const Moments m = moments(first);
  CHECK(std::abs(m.mean - 0.5) < 5e-3);
  CHECK(std::abs(lag1_correlation(first)) < 1.6e-2);
  mae::fill_uniform(a.data(), n, 1000, 0);
  mae::fill_uniform(b.data(), n, 1001, 0);
  double c = 0;
  for (std::size_t i = 0; i < n; ++i) c += (a[i] - 0.5) * (b[i] - 0.5);
  CHECK(std::abs(c / n * 12) < 1.6e-2);  // correlation, 5 standard errors of 1/sqrt(n)
}

#ifdef _OPENMP
TEST_CASE("fills do not depend on the number of threads") {
  const std::size_t n = 1000003;
  std::vector<float> u1(n), u2(n), z1(n), z2(n);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  mae::fill_uniform(u1.data(), n, 5, 6);
  mae::fill_normal(z1.data(), n, 5, 6, 0.5f, 3.0f);
  omp_set_num_threads(2);
  mae::fill_uniform(u2.data(), n, 5, 6);
  mae::fill_normal(z2.data(), n, 5, 6, 0.5f, 3.0f);
  omp_set_num_threads(saved);
  CHECK(u1 == u2);
  CHECK(z1 == z2);
}
#endif
