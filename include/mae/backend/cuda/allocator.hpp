#pragma once
// A caching device allocator: freed blocks are kept by size and handed out again, so once a training step has
// run, the next ones make no cudaMalloc/cudaFree (each is a device-wide synchronisation). Tensors, tape arenas,
// Thrust's temporaries (thrust_allocator below) and cuBLAS's workspace all come from here.
//
// Blocks are reused in the order the host frees them; that is safe because every kernel of the backend runs
// on one stream (the legacy default stream), which orders a reuse after the last use.
#include <cuda_runtime.h>

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "mae/backend/cuda/check.hpp"

namespace mae::cuda_backend {

class caching_allocator {
 public:
  struct statistics {
    std::size_t device_mallocs = 0;  // cudaMalloc calls so far
    std::size_t device_frees = 0;    // cudaFree calls so far
    std::size_t bytes_in_use = 0;    // handed out and not returned
    std::size_t bytes_cached = 0;    // returned, kept for reuse
  };

  static caching_allocator& instance() {
    static caching_allocator a;
    return a;
  }

  void* allocate(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    const std::size_t size = bin_size(bytes);
    std::lock_guard lock(mutex_);
    if (auto it = free_.find(size); it != free_.end()) {
      void* p = it->second;
      free_.erase(it);
      stats_.bytes_cached -= size;
      return hand_out(p, size);
    }
    void* p = nullptr;
    if (cudaMalloc(&p, size) != cudaSuccess) {
      (void)cudaGetLastError();  // an out-of-memory error is not sticky: clear it
      release_cached_locked();   // give the cache back to the driver, then try once more
      MAE_CUDA_CHECK(cudaMalloc(&p, size));
    }
    ++stats_.device_mallocs;
    return hand_out(p, size);
  }

  void deallocate(void* p) noexcept {
    if (!p) return;
    std::lock_guard lock(mutex_);
    const auto it = live_.find(p);
    if (it == live_.end()) return;  // not ours: nothing sensible to do in a noexcept path
    const std::size_t size = it->second;
    live_.erase(it);
    stats_.bytes_in_use -= size;
    stats_.bytes_cached += size;
    free_.emplace(size, p);
  }

  // Returns every cached (free) block to the driver.
  void release_cached() {
    std::lock_guard lock(mutex_);
    release_cached_locked();
  }

  statistics stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  // Sizes handed out: powers of two up to 1 MiB, then multiples of 2 MiB, so repeated requests of similar size
  // share blocks and the cache wastes at most half of a small block.
  static std::size_t bin_size(std::size_t bytes) {
    constexpr std::size_t small_limit = std::size_t(1) << 20, large_step = std::size_t(2) << 20;
    if (bytes > small_limit) return (bytes + large_step - 1) / large_step * large_step;
    std::size_t size = 512;
    while (size < bytes) size *= 2;
    return size;
  }

  caching_allocator(const caching_allocator&) = delete;
  caching_allocator& operator=(const caching_allocator&) = delete;

 private:
  caching_allocator() = default;
  // At process exit the runtime may already be shutting down: free what we can, ignore errors.
  ~caching_allocator() {
    for (auto& [size, p] : free_) (void)cudaFree(p);
    for (auto& [p, size] : live_) (void)cudaFree(p);
  }

  void* hand_out(void* p, std::size_t size) {
    live_.emplace(p, size);
    stats_.bytes_in_use += size;
    return p;
  }

  void release_cached_locked() {
    for (auto& [size, p] : free_) {
      MAE_CUDA_CHECK(cudaFree(p));
      ++stats_.device_frees;
      stats_.bytes_cached -= size;
    }
    free_.clear();
  }

  mutable std::mutex mutex_;
  std::multimap<std::size_t, void*> free_;
  std::unordered_map<void*, std::size_t> live_;
  statistics stats_;
};

// Thrust's temporary-storage allocator interface over the cache (thrust::cuda::par_nosync(alloc)).
struct thrust_allocator {
  using value_type = char;
  char* allocate(std::ptrdiff_t n) {
    return static_cast<char*>(caching_allocator::instance().allocate(static_cast<std::size_t>(n)));
  }
  void deallocate(char* p, std::size_t) noexcept { caching_allocator::instance().deallocate(p); }

  static thrust_allocator& instance() {
    static thrust_allocator a;
    return a;
  }
};

}  // namespace mae::cuda_backend
