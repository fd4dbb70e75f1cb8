#pragma once
// The CPU backend: binds the kernels<backends::cpu> customisation point to the kernels in mae/backend/cpu/
// (Eigen GEMM, OpenMP loops) and adds the few data-movement loops the autograd ops need.
// Every loop writes disjoint outputs and every reduction has a fixed order: bits do not depend on thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "mae/backend/cpu/kernels.hpp"
#include "mae/core/backend.hpp"
#include "mae/core/philox.hpp"
#include "mae/core/masking.hpp"

namespace mae {

template <>
struct kernels<backends::cpu> {
  // --- memory ---
  // Large buffers are zeroed and copied in 16K-element chunks over the threads (gradient buffers, token copies).
  template <class Fn> static void for_chunks(std::size_t n, const Fn& fn) {
    detail::parallel_chunks(n, std::size_t(1) << 14, n > cpu::detail::parallel_elems, fn);
  }
  template <class T> static void zero(T* p, std::size_t n) {
    for_chunks(n, [=](std::size_t i, std::size_t len) { std::memset(p + i, 0, len * sizeof(T)); });
  }
  template <class T> static void fill(T* p, std::size_t n, T v) { for (std::size_t i = 0; i < n; ++i) p[i] = v; }
  template <class T> static double read_scalar(const T* p) { return static_cast<double>(*p); }
  template <class T> static void copy(const T* src, T* dst, std::size_t n) {
    for_chunks(n, [=](std::size_t i, std::size_t len) { std::memcpy(dst + i, src + i, len * sizeof(T)); });
  }
  template <class T> static bool all_finite(const T* p, std::size_t n) {
    bool ok = true;
    for (std::size_t i = 0; i < n; ++i) ok &= std::isfinite(p[i]);
    return ok;
  }
  // `count` blocks of `len` elements: dst[k*dst_stride + i] = src[k*src_stride + i] (src_stride 0 repeats one block).
  template <class T>
  static void copy_blocks(const T* src, std::size_t src_stride, T* dst, std::size_t dst_stride, std::size_t len,
                          std::size_t count) {
    detail::parallel_for(count, count * len > cpu::detail::parallel_elems, [=](std::size_t k) {
      std::memcpy(dst + k * dst_stride, src + k * src_stride, len * sizeof(T));
    });
  }
  template <class T>
  static void accumulate_blocks(const T* src, std::size_t src_stride, T* dst, std::size_t dst_stride, std::size_t len,
                                std::size_t count) {
    detail::parallel_for(count, count * len > cpu::detail::parallel_elems, [=](std::size_t k) {
      for (std::size_t i = 0; i < len; ++i) dst[k * dst_stride + i] += src[k * src_stride + i];
    });
  }

  // --- element-wise; `row` broadcasts over the outer axis ---
  template <class T> static void accumulate(T* dst, const T* src, std::size_t n) { cpu::accumulate(dst, src, n); }
  template <class T> static void multiply(T* dst, const T* src, std::size_t n) { cpu::multiply(dst, src, n); }
  template <class T> static void axpy(T a, const T* x, T* y, std::size_t n) { cpu::axpy(a, x, y, n); }
  template <class T> static void add_rowvec(const T* x, const T* row, T* y, std::size_t outer, std::size_t inner) {
    cpu::add_rowvec(x, row, y, outer, inner);
  }
  template <class T> static void sub_rowvec(const T* x, const T* row, T* y, std::size_t outer, std::size_t inner) {
    detail::parallel_for(outer, outer * inner > cpu::detail::parallel_elems, [=](std::size_t o) {
      for (std::size_t i = 0; i < inner; ++i) y[o * inner + i] = x[o * inner + i] - row[i];
    });
  }
  template <class T> static void mul_rowvec(const T* x, const T* row, T* y, std::size_t outer, std::size_t inner) {
    detail::parallel_for(outer, outer * inner > cpu::detail::parallel_elems, [=](std::size_t o) {
      for (std::size_t i = 0; i < inner; ++i) y[o * inner + i] = x[o * inner + i] * row[i];
    });
  }
  template <class T>
  static void mul_rowvec_accumulate(const T* x, const T* row, T* y, std::size_t outer, std::size_t inner) {
    detail::parallel_for(outer, outer * inner > cpu::detail::parallel_elems, [=](std::size_t o) {
      for (std::size_t i = 0; i < inner; ++i) y[o * inner + i] += x[o * inner + i] * row[i];
    });
  }
  template <class T> static void sum_outer_accumulate(const T* dy, T* drow, std::size_t outer, std::size_t inner) {
    cpu::sum_outer_accumulate(dy, drow, outer, inner);
  }
  // out[0] = factor * Σ x, summed serially in double (a fixed order).
  template <class T> static void sum(const T* x, std::size_t n, T factor, T* out) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += x[i];
    out[0] = static_cast<T>(s * factor);
  }
  template <class T> static double sum_squares(const T* x, std::size_t n) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    return s;
  }
  template <class T> static void scale(T* x, T a, std::size_t n) { for (std::size_t i = 0; i < n; ++i) x[i] *= a; }
  template <class T> static void add_scalar_from(const T* s, T factor, T* dst, std::size_t n) {
    const T v = s[0] * factor;
    for (std::size_t i = 0; i < n; ++i) dst[i] += v;
  }

  // --- layers ---
  template <class T>
  static void linear_forward(const T* x, const T* w, const T* b, T* y, std::size_t rows, std::size_t in,
                             std::size_t out) {
    cpu::linear_forward(x, w, b, y, rows, in, out);
  }
  // Packed weights of an inference tape with frozen weights (Tape::freeze_weights).
  using weight_cache = cpu::weight_cache;
  template <class T>
  static void linear_forward(const T* x, const T* w, const T* b, T* y, std::size_t rows, std::size_t in,
                             std::size_t out, weight_cache& cache) {
    cpu::linear_forward(x, w, b, y, rows, in, out, cache);
  }
  template <class T>
  static void linear_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t rows,
                              std::size_t in, std::size_t out, T dx_beta = T(1)) {
    cpu::linear_backward(x, w, dy, dx, dw, db, rows, in, out, dx_beta);
  }
  template <class T>
  static void layernorm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, std::size_t rows,
                                std::size_t cols, T eps) {
    cpu::layernorm_forward(x, w, b, y, mean, rstd, rows, cols, eps);
  }
  template <class T>
  static void layernorm_backward(const T* x, const T* w, const T* mean, const T* rstd, const T* dy, T* dx, T* dw,
                                 T* db, std::size_t rows, std::size_t cols) {
    cpu::layernorm_backward(x, w, mean, rstd, dy, dx, dw, db, rows, cols);
  }
  template <class T> static void gelu_forward(const T* x, T* y, std::size_t n) { cpu::gelu_forward(x, y, n); }
  template <class T> static void gelu_backward(const T* x, const T* dy, T* dx, std::size_t n) {
    cpu::gelu_backward(x, dy, dx, n);
  }
  template <class T> static void gelu_value_slope(T* x, T* y, std::size_t n) {
    cpu::gelu_value_slope(x, y, n);
  }
  template <class T> static void softmax_forward(const T* x, T* y, std::size_t rows, std::size_t cols) {
    cpu::softmax_forward(x, y, rows, cols);
  }
  template <class T>
  static void softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols) {
    cpu::softmax_backward(y, dy, dx, rows, cols);
  }
  static std::size_t attention_scratch_elems(std::size_t b, std::size_t n, std::size_t h, std::size_t hd) {
    return cpu::attention_scratch_elems(b, n, h, hd);
  }
  template <class T>
  static void attention_forward(const T* qkv, T* out, T* probs, std::size_t b, std::size_t n, std::size_t h,
                                std::size_t hd) {
    cpu::attention_forward(qkv, out, probs, b, n, h, hd);
  }
  template <class T>
  static void attention_backward(const T* qkv, const T* probs, const T* dout, T* dqkv, std::size_t b, std::size_t n,
                                 std::size_t h, std::size_t hd, T* scratch, T dqkv_beta = T(1)) {
    cpu::attention_backward(qkv, probs, dout, dqkv, b, n, h, hd, scratch, dqkv_beta);
  }

  // --- tokens and patches ---
  template <class T>
  static void gather_tokens(const T* x, const std::int32_t* idx, T* y, std::size_t b, std::size_t nin,
                            std::size_t nout, std::size_t d) {
    cpu::gather_tokens(x, idx, y, b, nin, nout, d);
  }
  template <class T>
  static void scatter_add_tokens(const T* dy, const std::int32_t* idx, T* dx, std::size_t b, std::size_t nin,
                                 std::size_t nout, std::size_t d) {
    cpu::scatter_add_tokens(dy, idx, dx, b, nin, nout, d);
  }
  template <class T>
  static void patchify(const T* img, T* out, std::size_t b, std::size_t c, std::size_t h, std::size_t w,
                       std::size_t p) {
    cpu::patchify(img, out, b, c, h, w, p);
  }
  template <class T>
  static void unpatchify(const T* patches, T* img, std::size_t b, std::size_t c, std::size_t h, std::size_t w,
                         std::size_t p) {
    cpu::unpatchify(patches, img, b, c, h, w, p);
  }
  template <class T>
  static void patchify_conv(const T* img, T* out, std::size_t b, std::size_t c, std::size_t h, std::size_t w,
                            std::size_t p) {
    cpu::patchify_conv(img, out, b, c, h, w, p);
  }

  // --- losses (scalars live in backend memory: here, host pointers) ---
  template <class T>
  static void masked_mse_forward(const T* pred, const T* target, const T* mask, T* target_norm, T* loss,
                                 std::size_t b, std::size_t l, std::size_t p, bool norm_pix, T eps) {
    loss[0] = cpu::masked_mse_forward(pred, target, mask, target_norm, b, l, p, norm_pix, eps);
  }
  template <class T>
  static void masked_mse_backward(const T* pred, const T* target_norm, const T* mask, const T* dloss, T* dpred,
                                  std::size_t b, std::size_t l, std::size_t p) {
    cpu::masked_mse_backward(pred, target_norm, mask, dloss[0], dpred, b, l, p);
  }
  template <class T>
  static void l1_forward(const T* pred, const T* target, const T* mask, T* loss, std::size_t rows, std::size_t p) {
    loss[0] = cpu::l1_forward(pred, target, mask, rows, p);
  }
  template <class T>
  static void l1_backward(const T* pred, const T* target, const T* mask, const T* dloss, T* dpred, std::size_t rows,
                          std::size_t p) {
    cpu::l1_backward(pred, target, mask, dloss[0], dpred, rows, p);
  }
  template <class T>
  static void cross_entropy_forward(const T* logits, const std::int32_t* labels, T* probs, T* loss, std::size_t rows,
                                    std::size_t classes) {
    loss[0] = cpu::cross_entropy_forward(logits, labels, probs, rows, classes);
  }
  template <class T>
  static void cross_entropy_backward(const T* probs, const std::int32_t* labels, const T* dloss, T* dlogits,
                                     std::size_t rows, std::size_t classes) {
    cpu::cross_entropy_backward(probs, labels, dloss[0], dlogits, rows, classes);
  }

  // --- masking ---
  static void fill_uniform(float* out, std::size_t n, std::uint64_t seed, std::uint64_t stream) {
    mae::fill_uniform(out, n, seed, stream);
  }
  template <class T>
  static void random_masking(const float* noise, std::size_t batch, std::size_t tokens, std::size_t keep,
                             MaskIndices<T> out) {
    mae::random_masking(noise, batch, tokens, keep, out);
  }

  // --- optimiser ---
  // Hyperparameters are doubles, as Python floats in PyTorch's AdamW: float results then match it bit for bit.
  template <class T>
  static void adamw_step(T* param, const T* grad, T* m, T* v, std::size_t n, double lr, double beta1, double beta2,
                         double eps, double wd, long step) {
    cpu::adamw_step(param, grad, m, v, n, lr, beta1, beta2, eps, wd, step);
  }
};

}  // namespace mae
