#pragma once
// Loops that enter OpenMP only when they fork. `#pragma omp parallel for if (false)` still calls into
// libgomp, which builds a team of one (a malloc and a few hundred ns): on the tiny tensors of a small model
// that was most of the tape's cost per op. Below the threshold these run as plain loops instead.
// Iteration i runs the same code on either path, so results never depend on which one ran.
#include <cstddef>

namespace mae::detail {

// body(i) for i in [0, n), on OpenMP threads (static schedule) when `parallel`.
template <class Body>
inline void parallel_for(std::size_t n, bool parallel, const Body& body) {
  if (parallel) {
#pragma omp parallel for schedule(static)
    for (std::size_t i = 0; i < n; ++i) body(i);
  } else {
    for (std::size_t i = 0; i < n; ++i) body(i);
  }
}

// The same, handing out iterations one at a time: for a few heavy items (GEMM tiles) whose threads may run at
// different speeds. Which thread runs an item never changes what the item computes.
template <class Body>
inline void parallel_for_dynamic(std::size_t n, bool parallel, const Body& body) {
  if (parallel) {
#pragma omp parallel for schedule(dynamic, 1)
    for (std::size_t i = 0; i < n; ++i) body(i);
  } else {
    for (std::size_t i = 0; i < n; ++i) body(i);
  }
}

// body(begin, count) over [0, n) in pieces of `chunk` elements, on OpenMP threads when `parallel`: element-wise
// kernels whose inner loop is a function of its own (a memset, a loop compiled for wider vectors).
template <class Body>
inline void parallel_chunks(std::size_t n, std::size_t chunk, bool parallel, const Body& body) {
  parallel_for((n + chunk - 1) / chunk, parallel, [&](std::size_t c) {
    const std::size_t begin = c * chunk;
    body(begin, n - begin < chunk ? n - begin : chunk);
  });
}

// The same for an element-wise body the compiler should vectorise.
template <class Body>
inline void parallel_for_simd(std::size_t n, bool parallel, const Body& body) {
  if (parallel) {
#pragma omp parallel for simd schedule(static)
    for (std::size_t i = 0; i < n; ++i) body(i);
  } else {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) body(i);
  }
}

}  // namespace mae::detail
