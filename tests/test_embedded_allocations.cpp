// The embedded path makes no heap allocation, from a cold start: bind, load_weights, the first and later
// encode_all and reconstruct. This binary is built with OpenMP like every test: the path enters no OpenMP region
// (libgomp would allocate there). malloc and its family are replaced in this test binary and counted (operator new
// goes through malloc); under AddressSanitizer, which owns malloc, operator new alone is counted.
// (tests/embedded/no_exceptions.cpp checks the same in an -fno-exceptions build, with Eigen's own check too.)
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include "mae/io/safetensors.hpp"
#include "mae/io/static_weights.hpp"

namespace {
std::atomic<long> allocations{0};
}

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void* memalign(std::size_t align, std::size_t n) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(align, n);
}
void* aligned_alloc(std::size_t align, std::size_t n) noexcept { return memalign(align, n); }
int posix_memalign(void** out, std::size_t align, std::size_t n) noexcept {
  *out = memalign(align, n);
  return *out ? 0 : ENOMEM;
}
void free(void* p) noexcept { __libc_free(p); }
}
#else
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace {

using namespace mae::embedded;
using Mae = StaticMae<mae::presets::fmnist_tiny, 1>;
using Encoder = StaticEncoder<mae::presets::fmnist_tiny, 1>;

// Safetensors bytes with a random value for every tensor the model reads (made before counting starts).
std::vector<std::byte> random_weights() {
  mae::SafetensorsWriter w;
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0.f, 0.05f);
  Mae::Weights slots;
  (void)slots.visit([&](const TensorName& name, const float*&, Dims d) {
    std::vector<std::int64_t> shape(d.extents, d.extents + d.rank);
    std::size_t count = 1;
    for (std::size_t i = 0; i < d.rank; ++i) count *= d.extents[i];
    std::vector<float> values(count);
    for (float& v : values) v = n(rng);
    w.add(std::string(name.view()), std::span<const float>(values), shape);
    return Status::ok;
  });
  return w.to_bytes();
}

StaticArena<Mae> mae_arena;
StaticArena<Encoder> encoder_arena;

}  // namespace

TEST_CASE("embedded models allocate nothing: bind, load_weights, first and later encode_all and reconstruct") {
  const auto bytes = random_weights();
  std::vector<float> images(Mae::image_elems, 0.25f), noise(Mae::noise_elems), features(Mae::feature_elems),
      pred(Mae::pred_elems), mask(Mae::mask_elems);
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = float((i * 37) % 101) / 101.f;
  Mae full;
  Encoder encoder;
  Status s[9];

  const long before = allocations.load();
  s[0] = full.bind(mae_arena.bytes, sizeof mae_arena.bytes);
  s[1] = load_weights(full, bytes.data(), bytes.size());
  s[2] = full.encode_all(images.data(), features.data());
  s[3] = full.reconstruct(images.data(), noise.data(), pred.data(), mask.data());
  s[4] = full.reconstruct(images.data(), noise.data(), pred.data(), mask.data());
  s[5] = encoder.bind(encoder_arena.bytes, sizeof encoder_arena.bytes);
  s[6] = load_weights(encoder, bytes.data(), bytes.size());
  s[7] = encoder.encode_all(images.data(), features.data());
  s[8] = encoder.encode_all(images.data(), features.data());
  const long allocated = allocations.load() - before;

  for (Status status : s) CHECK(status == Status::ok);
  CHECK(allocated == 0);
  // The counter does see allocations.
  const long counted = allocations.load();
  std::vector<float> probe(1000, 1.f);
  CHECK(allocations.load() > counted);
  CHECK(probe[999] == 1.f);
}
