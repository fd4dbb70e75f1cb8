// A steady-state training step (forward, backward, AdamW) makes no heap allocation: the global allocator is
// replaced in this test binary and counts every call.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "support/tiny_model.hpp"

namespace {
std::atomic<long> allocations{0};
}

// The replacements pair malloc with free; g++ cannot see that and warns about new/free pairs.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept { return operator new(n, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

TEST_CASE("the second and later training steps allocate nothing, on the heap or in the tape's arenas") {
  using namespace mae;
  auto images = test::random_images(4, 1);
  test::TinyModel model(1);
  optim::Pretrainer<test::TinyModel> trainer(model, {});
  trainer.step(test::image_var(images), 0, 1e-3);  // warm-up: arenas and the OpenMP pool are created here
  trainer.step(test::image_var(images), 1, 1e-3);  // the arenas merge their chunks once, at the first reset
  const auto arena_before = trainer.tape().backend_allocations();
  const long before = allocations.load();
  for (std::uint64_t it = 2; it < 6; ++it) trainer.step(test::image_var(images), it, 1e-3);
  CHECK(allocations.load() - before == 0);
  CHECK(trainer.tape().backend_allocations() == arena_before);
  CHECK(trainer.tape().node_count() > 30);  // the steps did record a whole model (31 nodes, 3 blocks)
}

TEST_CASE("backward scratch: every node's starts at the same place, the largest node sizes the region") {
  using namespace mae;
  Tape<> tape;
  struct Noop {
    void backward() const {}
  };
  float* first = tape.scratch<float>(100);
  tape.record(Noop{});
  float* second = tape.scratch<float>(100);
  float* second_more = tape.scratch<float>(10);  // the same node's next buffer comes after its first
  tape.record(Noop{});
  CHECK(second == first);
  CHECK(second_more >= second + 100);
  float* spilled = tape.scratch<float>(1 << 20);  // more than the region holds: a new chunk, earlier ones kept
  CHECK(spilled != first);
  tape.record(Noop{});
  tape.reset();  // one chunk again, holding the largest node's scratch
  const auto allocations = tape.backend_allocations();
  tape.scratch<float>(100);
  tape.record(Noop{});
  tape.scratch<float>(1 << 20);
  CHECK(tape.backend_allocations() == allocations);
}

TEST_CASE("an arena merges its chunks into one of the most it held at once") {
  mae::Arena<mae::backends::cpu> arena;
  void* a = arena.allocate(1000);
  arena.rewind();
  CHECK(arena.allocate(512) == a);
  void* big = arena.allocate(4 << 20);  // spills: a chunk of its own; the 512 bytes before it stay valid
  CHECK(big != a);
  arena.rewind();
  CHECK(arena.allocate(64) == big);  // rewinding starts at the newest chunk
  arena.reset();
  CHECK(arena.capacity() == 512 + (4 << 20));
  const auto allocations = arena.backend_allocations();
  CHECK(arena.allocate(512) != nullptr);
  CHECK(arena.allocate(4 << 20) != nullptr);
  CHECK(arena.backend_allocations() == allocations);  // the same cycle again fits without the backend
}
