// A fmnist-tiny MAE encoder held the way an embedded program holds it: the weights in a constant array
// (or a file mapped like flash), every activation in one static arena, no heap, no exceptions, one thread.
// It encodes one image (batch 1) repeatedly and prints the sizes and the latency (min and median).
//
// Weights compiled in (tests/embedded/CMakeLists.txt builds it so: -fno-exceptions -fno-rtti, no OpenMP runtime):
//   mae_to_header checkpoint.safetensors weights.hpp --encoder-only
//   g++ -std=c++20 -O2 -march=x86-64-v3 -fno-exceptions -fno-rtti -fopenmp-simd -Iinclude -I/usr/include/eigen3
//       -DMAE_EMBEDDED_WEIGHTS_HEADER='"weights.hpp"' examples/embedded_encoder.cpp -o embedded_encoder
//   embedded_encoder [iterations]
// Otherwise it maps a safetensors file (F32, official names: a checkpoint, or mae_to_header's .safetensors output):
//   embedded_encoder weights.safetensors [iterations]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "mae/io/static_weights.hpp"

#if defined(MAE_EMBEDDED_WEIGHTS_HEADER)
#include MAE_EMBEDDED_WEIGHTS_HEADER
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace {

using Encoder = mae::embedded::StaticEncoder<mae::presets::fmnist_tiny, 1>;
using mae::embedded::Status;

mae::embedded::StaticArena<Encoder> arena;
Encoder encoder;
float image[Encoder::image_elems];
float features[Encoder::feature_elems];
constexpr std::size_t max_iterations = 10000;
double latency_us[max_iterations];

struct Bytes {
  const void* data = nullptr;
  std::size_t size = 0;
};

#if defined(MAE_EMBEDDED_WEIGHTS_HEADER)
constexpr int iterations_arg = 1;
Bytes weights(int, char**) { return {mae_weights, mae_weights_size}; }
#else
constexpr int iterations_arg = 2;
// The file mapped read-only: the bytes stay in the page cache, as they would stay in flash.
Bytes weights(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s weights.safetensors [iterations]\n", argv[0]);
    return {};
  }
  const int fd = open(argv[1], O_RDONLY);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return {};
  }
  void* p = mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "cannot map %s\n", argv[1]);
    return {};
  }
  return {p, static_cast<std::size_t>(st.st_size)};
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const Bytes w = weights(argc, argv);
  if (!w.data) return 2;
  const long requested = argc > iterations_arg ? std::strtol(argv[iterations_arg], nullptr, 10) : 1000;
  const std::size_t iterations = static_cast<std::size_t>(std::clamp(requested, 1L, long(max_iterations)));

  if (const Status s = encoder.bind(arena.bytes, sizeof arena.bytes); s != Status::ok) {
    std::fprintf(stderr, "bind: %s\n", mae::embedded::to_string(s));
    return 1;
  }
  mae::embedded::TensorName failed;
  if (const Status s = mae::embedded::load_weights(encoder, w.data, w.size, &failed); s != Status::ok) {
    std::fprintf(stderr, "load_weights: %s (tensor '%.*s')\n", mae::embedded::to_string(s),
                 static_cast<int>(failed.size), failed.text);
    return 1;
  }

  // A synthetic 28 x 28 image (a ring), normalised as the training images are.
  for (std::size_t i = 0; i < Encoder::Img; ++i)
    for (std::size_t j = 0; j < Encoder::Img; ++j) {
      const double r = std::hypot(double(i) - 13.5, double(j) - 13.5);
      image[i * Encoder::Img + j] = static_cast<float>(std::exp(-(r - 8) * (r - 8) / 8) * 2 - 0.5);
    }

  using clock = std::chrono::steady_clock;
  for (int i = 0; i < 20; ++i)  // warm caches and branch predictors
    if (const Status s = encoder.encode_all(image, features); s != Status::ok) {
      std::fprintf(stderr, "encode_all: %s\n", mae::embedded::to_string(s));
      return 1;
    }
  for (std::size_t i = 0; i < iterations; ++i) {
    const auto t0 = clock::now();
    const Status s = encoder.encode_all(image, features);
    latency_us[i] = std::chrono::duration<double, std::micro>(clock::now() - t0).count();
    if (s != Status::ok) return 1;
  }
  std::sort(latency_us, latency_us + iterations);

  double sum = 0;
  for (float f : features) sum += f;
  std::printf("fmnist-tiny encoder, batch 1: features (1, %zu, %zu), cls[0..2] = %.6f %.6f %.6f, sum %.6f\n",
              Encoder::L + 1, Encoder::D, double(features[0]), double(features[1]), double(features[2]), sum);
  std::printf("weights (read in place): %zu bytes; arena (static RAM, required_bytes): %zu bytes; "
              "model object %zu bytes; image + features %zu bytes\n",
              Encoder::weight_bytes, Encoder::required_bytes, sizeof encoder, sizeof image + sizeof features);
  std::printf("latency over %zu runs: min %.1f us, median %.1f us, p90 %.1f us\n", iterations, latency_us[0],
              latency_us[iterations / 2], latency_us[iterations * 9 / 10]);
  return 0;
}
