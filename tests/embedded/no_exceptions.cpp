// The embedded path built as an embedded target builds it: this TU compiles with -fno-exceptions -fno-rtti and
// without OpenMP (checked below) and takes its weights from the header mae_to_header generated from a training
// checkpoint. It must reproduce the heap model's bits (embedded_reference.hpp, from the host build) and allocate
// nothing on the heap: not in bind, load_weights, nor the first inference. malloc and its family are replaced
// and counted (operator new goes through malloc); Eigen also checks itself (EIGEN_RUNTIME_NO_MALLOC).
#if defined(__cpp_exceptions) || defined(__GXX_RTTI) || defined(_OPENMP)
#error "tests/embedded/no_exceptions.cpp must be built with -fno-exceptions -fno-rtti and without OpenMP"
#endif

#include <cstddef>
#include <cstdio>

namespace {
long eigen_assert_failures = 0;
long allocations = 0;
}  // namespace
inline void eigen_assert_failed() { ++eigen_assert_failures; }
#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x) ((x) ? (void)0 : eigen_assert_failed())

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "embedded_reference.hpp"
#include "embedded_weights.hpp"
#include "mae/io/static_weights.hpp"

// Counting allocator: glibc's own functions underneath. Not under AddressSanitizer, which owns malloc.
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define MAE_COUNTS_ALLOCATIONS 1
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
  ++allocations;
  return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t n) {
  ++allocations;
  return __libc_calloc(count, n);
}
void* realloc(void* p, std::size_t n) {
  ++allocations;
  return __libc_realloc(p, n);
}
void* memalign(std::size_t align, std::size_t n) {
  ++allocations;
  return __libc_memalign(align, n);
}
void* aligned_alloc(std::size_t align, std::size_t n) { return memalign(align, n); }
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  *out = memalign(align, n);
  return *out ? 0 : ENOMEM;
}
void free(void* p) { __libc_free(p); }
}
#else
#define MAE_COUNTS_ALLOCATIONS 0
#endif

namespace {

using namespace mae::embedded;
using Mae = StaticMae<mae::presets::fmnist_tiny, reference::batch>;
using Encoder = StaticEncoder<mae::presets::fmnist_tiny, reference::batch>;

StaticArena<Mae> mae_arena;
StaticArena<Encoder> encoder_arena;
Mae mae_model;
Encoder encoder;
float images[Mae::image_elems], noise[Mae::noise_elems];
float features[Mae::feature_elems], encoder_features[Mae::feature_elems], pred[Mae::pred_elems], mask[Mae::mask_elems];

int failures = 0;
void check(bool ok, const char* what) {
  if (!ok) {
    ++failures;
    std::printf("FAILED: %s\n", what);
  }
}

template <std::size_t N>
void from_bits(const std::uint32_t (&bits)[N], float (&out)[N]) {
  for (std::size_t i = 0; i < N; ++i) out[i] = std::bit_cast<float>(bits[i]);
}
template <std::size_t N>
bool same_bits(const float (&a)[N], const std::uint32_t (&bits)[N]) {
  for (std::size_t i = 0; i < N; ++i)
    if (std::bit_cast<std::uint32_t>(a[i]) != bits[i]) return false;
  return true;
}

}  // namespace

int main() {
  static_assert(sizeof images == sizeof reference::images && sizeof pred == sizeof reference::pred,
                "the reference was made for another preset or batch");
  from_bits(reference::images, images);
  from_bits(reference::noise, noise);
  Eigen::internal::set_is_malloc_allowed(false);

  // Everything an application does, from a cold start.
  const long before = allocations;
  const Status bound = mae_model.bind(mae_arena.bytes, sizeof mae_arena.bytes);
  const Status loaded = load_weights(mae_model, mae_weights, mae_weights_size);
  const Status encoded = mae_model.encode_all(images, features);
  const Status reconstructed = mae_model.reconstruct(images, noise, pred, mask);
  const Status encoder_bound = encoder.bind(encoder_arena.bytes, sizeof encoder_arena.bytes);
  const Status encoder_loaded = load_weights(encoder, mae_weights, mae_weights_size);
  const Status encoder_encoded = encoder.encode_all(images, encoder_features);
  const long allocated = allocations - before;

  check(bound == Status::ok && loaded == Status::ok && encoded == Status::ok && reconstructed == Status::ok,
        "StaticMae: bind, load_weights, encode_all, reconstruct succeed");
  check(encoder_bound == Status::ok && encoder_loaded == Status::ok && encoder_encoded == Status::ok,
        "StaticEncoder: bind, load_weights, encode_all succeed");
  check(same_bits(features, reference::features), "StaticMae::encode_all equals the heap model's encode_all bits");
  check(same_bits(encoder_features, reference::features), "StaticEncoder::encode_all equals the heap model's bits");
  check(same_bits(pred, reference::pred), "reconstruct: pred equals the heap model's forward bits");
  check(same_bits(mask, reference::mask), "reconstruct: mask equals the heap model's forward mask");
  check(!MAE_COUNTS_ALLOCATIONS || allocated == 0, "no heap allocation");
  check(eigen_assert_failures == 0, "Eigen reports no allocation (nor any other failed assertion)");

  // The two guards above do see allocations.
#if MAE_COUNTS_ALLOCATIONS
  const long counted = allocations;
  void* volatile probe = std::malloc(16);
  std::free(probe);
  check(allocations == counted + 1, "the counting malloc is the one in use");
#endif
  const long eigen_failures = eigen_assert_failures;
  { Eigen::VectorXf v(64); v.setZero(); }
  check(eigen_assert_failures > eigen_failures, "Eigen's no-malloc check fires on an allocation");

  // Errors come back as values.
  check(encoder.bind(encoder_arena.bytes, Encoder::required_bytes - 1) == Status::buffer_too_small, "small arena");
  check(load_weights(encoder, mae_weights, mae_weights_size - 1) == Status::tensor_out_of_bounds, "truncated weights");
  check(load_weights(encoder, mae_weights, 7) == Status::file_too_short, "7 bytes");
  noise[3] = std::nanf("");
  check(mae_model.reconstruct(images, noise, pred, mask) == Status::invalid_noise, "NaN noise");

  std::printf("embedded fmnist-tiny, batch %zu: %s; %ld heap allocations%s; arena %zu bytes (StaticMae), %zu bytes "
              "(StaticEncoder); weights %zu bytes\n",
              reference::batch, failures ? "FAILED" : "bits equal to the heap model", allocated,
              MAE_COUNTS_ALLOCATIONS ? "" : " (not counted here)", Mae::required_bytes, Encoder::required_bytes,
              static_cast<std::size_t>(mae_weights_size));
  return failures ? 1 : 0;
}
