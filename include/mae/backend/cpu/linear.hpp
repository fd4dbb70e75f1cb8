#pragma once
// Linear layer in PyTorch's layout: W is (out, in), y = x·Wᵀ + b.
#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "mae/backend/cpu/elementwise.hpp"
#include "mae/backend/cpu/gemm.hpp"

namespace mae::cpu {

// y[rows, out] = x[rows, in] · W[out, in]ᵀ + b[out]; b may be null. The bias is the GEMM's row init: the AVX-512
// kernel adds it in the stores of its first K block, Eigen's path broadcasts it into each tile just before.
template <class T>
void linear_forward(const T* x, const T* W, const T* b, T* y, std::size_t rows, std::size_t in, std::size_t out) {
  detail::gemm_tiled(false, true, rows, out, in, T(1), x, in, W, in, y, out, detail::row_init<T>{b, out});
}

// One weight's Wᵀ as the AVX-512 kernel packs it for one input shape, kept for the next forwards of an inference
// tape with frozen weights (Tape::freeze_weights): batch-1 inference spent about a fifth of its time packing.
struct packed_weight {
  const float* weight = nullptr;
  std::size_t rows = 0, in = 0, out = 0;
  std::vector<float, Eigen::aligned_allocator<float>> data;
};

// Every frozen weight of a tape, found by address (a model has a few dozen).
struct weight_cache {
  std::vector<packed_weight> entries;
  void clear() noexcept { entries.clear(); }
  packed_weight& find(const float* weight) {
    for (auto& e : entries)
      if (e.weight == weight) return e;
    return entries.emplace_back();
  }
};

// linear_forward, W's packing taken from `cache` when it was made from this weight for this shape, and made
// there otherwise. The same packed data feeds the same kernel: the bits of linear_forward. Where the AVX-512
// kernel does not run (other CPUs, double), plain linear_forward: Eigen's path has no packing to keep.
template <class T>
void linear_forward(const T* x, const T* W, const T* b, T* y, std::size_t rows, std::size_t in, std::size_t out,
                    weight_cache& cache) {
  if constexpr (std::is_same_v<T, float>) {
    if (detail::avx512_gemm_active()) {
      packed_weight& p = cache.find(W);
      const bool ready = p.weight == W && p.rows == rows && p.in == in && p.out == out;
      if (!ready) p = {W, rows, in, out, {}};
      detail::gemm_tiled_with(
          false, true, rows, out, in, 1.0f, x, in, W, in, y, out,
          [&](std::size_t elems) {
            if (p.data.size() < elems) p.data.resize(elems);
            return p.data.data();
          },
          [](std::size_t elems) { return detail::packing_buffer<float>(elems); }, true,
          detail::row_init<float>{b, out}, ready);
      return;
    }
  }
  (void)cache;
  linear_forward(x, W, b, y, rows, in, out);
}

// dx = dx_beta dx + dy·W, dW += dyᵀ·x, db += Σ_rows dy. dx and db may be null (skipped); dx_beta 0 overwrites dx
// (a gradient buffer with no earlier writer, e.g. inside the fused MLP) instead of adding to it.
template <class T>
void linear_backward(const T* x, const T* W, const T* dy, T* dx, T* dW, T* db, std::size_t rows, std::size_t in,
                     std::size_t out, T dx_beta = T(1)) {
  if (dx) gemm(false, false, rows, in, out, T(1), dy, out, W, in, dx_beta, dx, in);
  gemm(true, false, out, in, rows, T(1), dy, out, x, in, T(1), dW, in);
  if (db) sum_outer_accumulate(dy, db, rows, out);
}

}  // namespace mae::cpu
