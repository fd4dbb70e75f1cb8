#pragma once
// Backend tags (namespace mae::backends). A tensor's backend is part of its type; kernels are customisation points
// (`kernels<Backend>`) that each backend header under mae/backend/ specialises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace mae {

namespace backends {
struct cpu {};  // host memory, Eigen GEMM, OpenMP loops (kernels in namespace mae::cpu)
}  // namespace backends

template <class B> struct backend_traits;  // memory and accessibility of one backend

template <>
struct backend_traits<backends::cpu> {
  static constexpr bool host_accessible = true;
  static constexpr std::size_t alignment = 64;  // one cache line, one AVX-512 register
  static void* allocate(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    void* p = std::aligned_alloc(alignment, (bytes + alignment - 1) / alignment * alignment);
    if (!p) throw std::bad_alloc();
    return p;
  }
  static void deallocate(void* p) noexcept { std::free(p); }
  // The contents of [p, p + bytes) are dead: the whole pages inside it go back to the system (they read as
  // zeros when touched again), so memory a step no longer needs stops counting in its resident size.
  static void discard(void* p, std::size_t bytes) noexcept {
#if defined(__linux__)
    constexpr std::uintptr_t page = 4096;
    const auto begin = (reinterpret_cast<std::uintptr_t>(p) + page - 1) & ~(page - 1);
    const auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(page - 1);
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
#else
    (void)p, (void)bytes;
#endif
  }
};

template <class B>
concept host_backend = backend_traits<B>::host_accessible;

template <class B> struct kernels;  // specialised in mae/backend/<name>.hpp

}  // namespace mae
