#pragma once
// A bump allocator whose memory survives reset(): a training step allocates the same sequence of buffers
// every time, so after the first step it never touches the heap again. rewind() starts again at the newest
// chunk's beginning, for buffers whose lives do not overlap (the tape's backward scratch); allocations made
// before it stay valid until reset().
#include <algorithm>
#include <cstddef>
#include <vector>

#include "mae/core/backend.hpp"

namespace mae {

template <class B>
class Arena {
 public:
  static constexpr std::size_t alignment = 64;

  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() { release(); }

  static constexpr std::size_t aligned(std::size_t bytes) { return (bytes + alignment - 1) / alignment * alignment; }

  void* allocate(std::size_t bytes) {
    bytes = aligned(bytes);
    if (chunk_ < chunks_.size() && used_ + bytes > chunks_[chunk_].capacity) { ++chunk_; used_ = 0; }
    if (chunk_ == chunks_.size()) {
      const std::size_t last = chunks_.empty() ? 0 : chunks_.back().capacity;
      const std::size_t cap = std::max({bytes, 2 * last, std::size_t{1} << 20});
      chunks_.push_back({static_cast<std::byte*>(backend_traits<B>::allocate(cap)), cap});
      ++allocations_;
    }
    void* p = chunks_[chunk_].data + used_;
    used_ += bytes;
    since_rewind_ += bytes;
    peak_ = std::max(peak_, since_rewind_);
    return p;
  }

  void rewind() {
    chunk_ = chunks_.empty() ? 0 : chunks_.size() - 1;
    used_ = since_rewind_ = 0;
  }

  // Forget every allocation. If the last cycle spilled over several chunks, merge them into one that holds
  // the most it used at once, so the next cycle of the same sizes fits in a single chunk.
  void reset() {
    if (chunks_.size() > 1) {
      release();
      chunks_.push_back({static_cast<std::byte*>(backend_traits<B>::allocate(peak_)), peak_});
      ++allocations_;
    }
    chunk_ = 0;
    used_ = since_rewind_ = 0;
  }

  // Gives every chunk back (allocations since reset() are gone); the next cycle starts from the backend.
  void free_memory() {
    release();
    chunk_ = used_ = since_rewind_ = 0;
  }

  std::size_t capacity() const {
    std::size_t total = 0;
    for (auto& c : chunks_) total += c.capacity;
    return total;
  }
  // How many times this arena went to the backend's allocator (for allocation tests and benchmarks).
  std::size_t backend_allocations() const { return allocations_; }

 private:
  struct Chunk { std::byte* data; std::size_t capacity; };
  void release() {
    for (auto& c : chunks_) backend_traits<B>::deallocate(c.data);
    chunks_.clear();
  }
  std::vector<Chunk> chunks_;
  std::size_t chunk_ = 0, used_ = 0, since_rewind_ = 0, peak_ = 0, allocations_ = 0;
};

}  // namespace mae
