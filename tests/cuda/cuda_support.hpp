#pragma once
// CUDA test support: the test exits with 77 (CTest: skipped) before any test case when no CUDA device is
// usable, device buffers filled from and read back to host vectors, and the relative error of the parity checks.
// Include it first: it keeps Eigen (the CPU reference backend) out of device compilation.
#ifndef EIGEN_NO_CUDA
#define EIGEN_NO_CUDA  // Eigen is host code here; without this nvcc sees its __host__ __device__ annotations
#endif
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "mae/backend/cpu.hpp"
#include "mae/backend/cuda.hpp"

namespace mae::test {

inline const bool cuda_device_present = [] {
  if (cuda_backend::device_count() == 0) {
    std::printf("no CUDA device: test skipped\n");
    std::fflush(stdout);
    std::exit(77);
  }
  return true;
}();

using CK = kernels<backends::cpu>;
using GK = kernels<backends::cuda>;

// n elements of device memory from the backend's allocator, optionally filled from the host.
template <class T>
class device_buffer {
 public:
  explicit device_buffer(std::size_t n)
      : n_(n), p_(static_cast<T*>(backend_traits<backends::cuda>::allocate(n * sizeof(T)))) {}
  explicit device_buffer(const std::vector<T>& host) : device_buffer(host.size()) {
    copy_from_host<backends::cuda>(p_, host.data(), n_);
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  ~device_buffer() { backend_traits<backends::cuda>::deallocate(p_); }
  T* data() const noexcept { return p_; }
  std::size_t size() const noexcept { return n_; }
  std::vector<T> host() const { return to_host_vector<backends::cuda>(p_, n_); }

 private:
  std::size_t n_;
  T* p_;
};

template <class T>
std::vector<T> random_vector(std::size_t n, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(u(rng));
  return v;
}

// max |a - b| / max |b| (0 when both are 0)
template <class T>
double max_rel_error(const std::vector<T>& a, const std::vector<T>& b) {
  REQUIRE(a.size() == b.size());
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// FP32 kernels against the CPU backend: CUDA's expf/erfcf are within 2 ulp and cuBLAS sums in its own order.
inline constexpr double op_tolerance = 1e-5;

#define CHECK_CLOSE_TO_CPU(what, device, reference)                             \
  do {                                                                          \
    const double err_ = ::mae::test::max_rel_error((device).host(), reference); \
    INFO(what << ": relative error " << err_);                                  \
    CHECK(err_ <= ::mae::test::op_tolerance);                                   \
  } while (0)

}  // namespace mae::test
