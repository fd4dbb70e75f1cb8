#pragma once
// Shared by the examples: Fashion-MNIST as normalised float images, a reproducible epoch order, a progress bar.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include <omp.h>

#include <mae/mae.hpp>

namespace examples {

// Per-pixel normalisation of Fashion-MNIST (mean and std of the training set's pixels in [0, 1]).
inline constexpr float fmnist_mean = 0.2860f, fmnist_std = 0.3530f;

struct Dataset {
  std::size_t n = 0, rows = 0, cols = 0;
  std::vector<float> images;  // (n, 1, rows, cols), normalised
  std::vector<std::int32_t> labels;
};

inline Dataset load_fashion_mnist(const std::string& dir, bool train) {
  const auto paths = mae::fashion_mnist_paths(dir, train);
  const auto raw = mae::read_idx_images(paths.images);
  const auto labels = mae::read_idx_labels(paths.labels);
  MAE_CHECK(labels.size() == raw.n, "Fashion-MNIST: " + paths.images + " has " + std::to_string(raw.n) +
                                        " images but " + paths.labels + " has " + std::to_string(labels.size()) +
                                        " labels");
  Dataset d{raw.n, raw.rows, raw.cols, std::vector<float>(raw.pixels.size()), {}};
  for (std::size_t i = 0; i < raw.pixels.size(); ++i)
    d.images[i] = (static_cast<float>(raw.pixels[i]) / 255.0f - fmnist_mean) / fmnist_std;
  d.labels.assign(labels.begin(), labels.end());
  return d;
}

// Moves the last `count` images of d into a new data set (a validation split).
inline Dataset split_off(Dataset& d, std::size_t count) {
  const std::size_t px = d.rows * d.cols, keep = d.n - count;
  Dataset tail{count, d.rows, d.cols, std::vector<float>(d.images.begin() + keep * px, d.images.end()),
               std::vector<std::int32_t>(d.labels.begin() + keep, d.labels.end())};
  d.images.resize(keep * px);
  d.labels.resize(keep);
  d.n = keep;
  return tail;
}

// The order of epoch e: a permutation that depends only on (seed, e), so a resumed run sees the same batches.
inline std::vector<std::uint32_t> epoch_order(std::size_t n, std::uint64_t seed, std::uint64_t epoch) {
  std::vector<float> key(n);
  mae::fill_uniform(key.data(), n, seed ^ 0x5eedda7aULL, epoch);
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return key[a] < key[b]; });
  return order;
}

inline void gather_images(const Dataset& d, const std::uint32_t* idx, std::size_t count, float* out) {
  const std::size_t px = d.rows * d.cols;
  for (std::size_t i = 0; i < count; ++i) std::copy_n(d.images.data() + idx[i] * px, px, out + i * px);
}

class Progress {
 public:
  explicit Progress(std::size_t total, std::size_t start = 0) : total_(total), start_(start) {}
  void update(std::size_t done, double loss, std::size_t images_per_step) {
    const double secs = elapsed(), steps = static_cast<double>(done - start_);
    const double rate = steps > 0 ? steps * images_per_step / secs : 0.0;
    const double eta = steps > 0 ? (total_ - done) * secs / steps : 0.0;
    const int width = 30, filled = static_cast<int>(width * done / std::max<std::size_t>(total_, 1));
    std::printf("\r[%.*s%*s] step %zu/%zu  loss %.4f  %.0f img/s  ETA %02d:%02d ", filled,
                "==============================", width - filled, "", done, total_, loss, rate,
                static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
    std::fflush(stdout);
  }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  std::size_t total_, start_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

inline std::string default_data_dir() { return "/usr/share/datasets/fashion-mnist"; }

}  // namespace examples
