#pragma once
// thrust_backend::kernels<System, Self>: the whole kernels<> surface (see mae/backend/cpu.hpp) written once with
// Thrust algorithms over the functors of this directory, generic over the system it runs on.
//
// System supplies what Thrust cannot: exec() (the execution policy), allocate/deallocate (temporaries),
// to_host/from_host (bytes between host and backend memory) and gemm/gemm_strided_batched (row-major,
// cuBLAS-style arguments) — see host_system.hpp (Eigen) and mae/backend/cuda/system.hpp (cuBLAS).
// Self is the final kernels<> specialisation: ops that compose others (attention, linear) call through it, so
// a backend that overrides e.g. the softmax with its own kernel gets it everywhere.
#include <thrust/copy.h>
#include <thrust/fill.h>
#include <thrust/find.h>
#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/sort.h>
#include <thrust/transform_reduce.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "mae/backend/thrust/adamw.hpp"
#include "mae/backend/thrust/elementwise.hpp"
#include "mae/backend/thrust/layers.hpp"
#include "mae/backend/thrust/loss.hpp"
#include "mae/backend/thrust/masking.hpp"
#include "mae/backend/thrust/tokens.hpp"
#include "mae/core/error.hpp"
#include "mae/core/masking.hpp"

namespace mae::thrust_backend {

// n elements of T from System::allocate, returned on scope exit.
template <class System, class T>
class temp_buffer {
 public:
  explicit temp_buffer(std::size_t n) : data_(static_cast<T*>(System::allocate(n * sizeof(T)))) {}
  temp_buffer(const temp_buffer&) = delete;
  temp_buffer& operator=(const temp_buffer&) = delete;
  ~temp_buffer() { System::deallocate(data_); }
  T* data() const noexcept { return data_; }

 private:
  T* data_;
};

template <class System, class Self>
struct kernels {
 protected:
  // f(i) for i in [0, n) on the system.
  template <class F>
  static void for_n(std::size_t n, const F& f) {
    if (n) ::thrust::for_each_n(System::exec(), ::thrust::counting_iterator<std::size_t>(0), n, f);
  }

  // Σ terms[i] in double: a fixed number of chunks, each summed in order, then the chunks in order on the host.
  // The result is the same on every system and for every thread count.
  template <class T>
  static double fixed_order_sum(const T* terms, std::size_t n) {
    constexpr std::size_t chunks = 64;
    temp_buffer<System, double> partial(chunks);
    for_n(chunks, chunk_sum<T>{terms, partial.data(), n, chunks});
    double host[chunks];
    System::to_host(host, partial.data(), sizeof host);
    double total = 0;
    for (double s : host) total += s;
    return total;
  }

  template <class T>
  static T read(const T* p) {
    T v;
    System::to_host(&v, p, sizeof(T));
    return v;
  }

  // Throws if an index in idx[0, n) lies outside [0, bound), naming the first one as (row, position).
  static void check_indices(const char* op, const char* what, const std::int32_t* idx, std::size_t n,
                            std::size_t per_row, std::size_t bound) {
    if (n == 0) return;
    const std::int32_t* bad = ::thrust::find_if(System::exec(), idx, idx + n, index_out_of_range{bound});
    if (bad == idx + n) return;
    const std::size_t at = static_cast<std::size_t>(bad - idx);
    throw error(std::string(op) + ": " + what + " " + std::to_string(read(bad)) + " at (batch " +
                std::to_string(at / per_row) + ", position " + std::to_string(at % per_row) + ") is outside [0, " +
                std::to_string(bound) + ")");
  }

  template <class T>
  static double mask_sum(const char* op, const T* mask, std::size_t n) {
    const double s = fixed_order_sum(mask, n);
    MAE_CHECK(s != 0, std::string(op) + ": the mask sums to 0 over " + std::to_string(n) +
                          " entries, so the masked mean is undefined");
    return s;
  }

 public:
  // --- memory ---
  template <class T> static void zero(T* p, std::size_t n) { fill(p, n, T(0)); }
  template <class T> static void fill(T* p, std::size_t n, T v) {
    if (n) ::thrust::fill_n(System::exec(), p, n, v);
  }
  template <class T> static double read_scalar(const T* p) { return static_cast<double>(read(p)); }
  template <class T> static void copy(const T* src, T* dst, std::size_t n) {
    if (n) ::thrust::copy_n(System::exec(), src, n, dst);
  }
  template <class T> static bool all_finite(const T* p, std::size_t n) {
    return n == 0 || ::thrust::find_if(System::exec(), p, p + n, not_finite<T>{}) == p + n;
  }
  template <class T>
  static void copy_blocks(const T* src, std::size_t src_stride, T* dst, std::size_t dst_stride, std::size_t len,
                          std::size_t count) {
    for_n(len * count, block_copy<T, false>{src, dst, src_stride, dst_stride, len});
  }
  template <class T>
  static void accumulate_blocks(const T* src, std::size_t src_stride, T* dst, std::size_t dst_stride, std::size_t len,
                                std::size_t count) {
    for_n(len * count, block_copy<T, true>{src, dst, src_stride, dst_stride, len});
  }

  // --- element-wise ---
  template <class T> static void accumulate(T* dst, const T* src, std::size_t n) {
    for_n(n, axpy_op<T>{T(1), src, dst});
  }
  template <class T> static void multiply(T* dst, const T* src, std::size_t n) {
    for_n(n, rowvec<T, rowvec_op::mul>{dst, src, dst, n});
  }
  template <class T> static void axpy(T a, const T* x, T* y, std::size_t n) { for_n(n, axpy_op<T>{a, x, y}); }
  template <class T> static void add_rowvec(const T* x, const T* row, T* y, std::size_t outer, std::size_t inner) {
    for_n(outer * inner, rowvec<T, rowvec_op::add>{x, row, y, inner});
  }
  template <class T> static void sub_rowvec(const T* x, const T* row, T* y, std::size_t outer, std::size_t inner) {
    for_n(outer * inner, rowvec<T, rowvec_op::sub>{x, row, y, inner});
  }
  template <class T> static void mul_rowvec(const T* x, const T* row, T* y, std::size_t outer, std::size_t inner) {
    for_n(outer * inner, rowvec<T, rowvec_op::mul>{x, row, y, inner});
  }
  template <class T>
  static void mul_rowvec_accumulate(const T* x, const T* row, T* y, std::size_t outer, std::size_t inner) {
    for_n(outer * inner, rowvec<T, rowvec_op::mul_accumulate>{x, row, y, inner});
  }
  template <class T> static void sum_outer_accumulate(const T* dy, T* drow, std::size_t outer, std::size_t inner) {
    for_n(inner, column_sum<T>{dy, drow, outer, inner});
  }
  // out[0] = factor * Σ x (in double, fixed order)
  template <class T> static void sum(const T* x, std::size_t n, T factor, T* out) {
    fill(out, 1, static_cast<T>(fixed_order_sum(x, n) * factor));
  }
  template <class T> static double sum_squares(const T* x, std::size_t n) {
    return ::thrust::transform_reduce(System::exec(), x, x + n, square_to_double<T>{}, 0.0, ::thrust::plus<double>());
  }
  template <class T> static void scale(T* x, T a, std::size_t n) { for_n(n, scale_op<T>{x, a}); }
  template <class T> static void add_scalar_from(const T* s, T factor, T* dst, std::size_t n) {
    for_n(n, add_scalar_op<T>{s, factor, dst});
  }

  // --- layers ---
  // y = x Wᵀ + b: the bias broadcast into y, then one GEMM accumulating onto it.
  template <class T>
  static void linear_forward(const T* x, const T* w, const T* b, T* y, std::size_t rows, std::size_t in,
                             std::size_t out) {
    if (b) Self::copy_blocks(b, 0, y, out, out, rows);
    System::gemm(false, true, rows, out, in, T(1), x, in, w, in, b ? T(1) : T(0), y, out);
  }
  // Frozen weights (Tape::freeze_weights) keep nothing here: every forward runs the backend's GEMM as usual.
  struct weight_cache {
    void clear() noexcept {}
  };
  template <class T>
  static void linear_forward(const T* x, const T* w, const T* b, T* y, std::size_t rows, std::size_t in,
                             std::size_t out, weight_cache&) {
    Self::linear_forward(x, w, b, y, rows, in, out);
  }
  // dx = dx_beta dx + dy W, dW += dyᵀ x, db += Σ_rows dy (any may be null; dx_beta 0 overwrites dx).
  template <class T>
  static void linear_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t rows,
                              std::size_t in, std::size_t out, T dx_beta = T(1)) {
    if (dx) System::gemm(false, false, rows, in, out, T(1), dy, out, w, in, dx_beta, dx, in);
    if (dw) System::gemm(true, false, out, in, rows, T(1), dy, out, x, in, T(1), dw, in);
    if (db) Self::sum_outer_accumulate(dy, db, rows, out);
  }
  template <class T>
  static void layernorm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, std::size_t rows,
                                std::size_t cols, T eps) {
    for_n(rows, layernorm_forward_row<T>{x, w, b, y, mean, rstd, cols, eps});
  }
  template <class T>
  static void layernorm_backward(const T* x, const T* w, const T* mean, const T* rstd, const T* dy, T* dx, T* dw,
                                 T* db, std::size_t rows, std::size_t cols) {
    if (dx) for_n(rows, layernorm_backward_row<T>{x, w, mean, rstd, dy, dx, cols});
    if (dw || db) for_n(cols, layernorm_param_column<T>{x, mean, rstd, dy, dw, db, rows, cols});
  }
  template <class T> static void gelu_forward(const T* x, T* y, std::size_t n) { for_n(n, gelu_forward_op<T>{x, y}); }
  template <class T> static void gelu_backward(const T* x, const T* dy, T* dx, std::size_t n) {
    for_n(n, gelu_backward_op<T>{x, dy, dx});
  }
  template <class T> static void gelu_value_slope(T* x, T* y, std::size_t n) {
    for_n(n, gelu_value_slope_op<T>{x, y});
  }
  template <class T> static void softmax_forward(const T* x, T* y, std::size_t rows, std::size_t cols) {
    for_n(rows, softmax_forward_row<T>{x, y, cols});
  }
  template <class T>
  static void softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols) {
    for_n(rows, softmax_backward_row<T, true>{y, dy, dx, cols});
  }
  // dx = y ∘ (dy - rowsum(dy ∘ y)), overwriting; dx may be dy.
  template <class T>
  static void softmax_backward_overwrite(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols) {
    for_n(rows, softmax_backward_row<T, false>{y, dy, dx, cols});
  }

  // Attention over a packed qkv (B, N, 3D), as the CPU backend: probs (B, H, N, N) saved, heads merged in out.
  // Scratch holds dP, then dS, of every (batch, head) pair.
  static std::size_t attention_scratch_elems(std::size_t b, std::size_t n, std::size_t h, std::size_t /*hd*/) {
    return b * h * n * n;
  }
  template <class T>
  static void attention_forward(const T* qkv, T* out, T* probs, std::size_t b, std::size_t n, std::size_t h,
                                std::size_t hd) {
    const std::size_t D = h * hd, ld = 3 * D;
    const pair_layout L{b, h, n};
    const T scale = T(1) / std::sqrt(T(hd));
    // S = q kᵀ / √hd, P = softmax(S), O = P v
    L.gemm(false, true, n, n, hd, scale, {qkv, ld, n * ld, hd}, {qkv + D, ld, n * ld, hd}, T(0),
           {probs, n, h * n * n, n * n});
    Self::softmax_forward(probs, probs, b * h * n, n);
    L.gemm(false, false, n, hd, n, T(1), {probs, n, h * n * n, n * n}, {qkv + 2 * D, ld, n * ld, hd}, T(0),
           {out, D, n * D, hd});
  }
  // dv += Pᵀ dO, dP = dO vᵀ, dS = P ∘ (dP - rowsum(dP ∘ P)), dq += dS k / √hd, dk += dSᵀ q / √hd
  // (dqkv_beta 0: dqkv overwritten instead).
  template <class T>
  static void attention_backward(const T* qkv, const T* probs, const T* dout, T* dqkv, std::size_t b, std::size_t n,
                                 std::size_t h, std::size_t hd, T* scratch, T dqkv_beta = T(1)) {
    const std::size_t D = h * hd, ld = 3 * D;
    const pair_layout L{b, h, n};
    const T scale = T(1) / std::sqrt(T(hd));
    const operand<const T> P{probs, n, h * n * n, n * n}, dO{dout, D, n * D, hd};
    const operand<const T> q{qkv, ld, n * ld, hd}, k{qkv + D, ld, n * ld, hd}, v{qkv + 2 * D, ld, n * ld, hd};
    const operand<const T> dS{scratch, n, h * n * n, n * n};
    L.gemm(true, false, n, hd, n, T(1), P, dO, dqkv_beta, {dqkv + 2 * D, ld, n * ld, hd});
    L.gemm(false, true, n, n, hd, T(1), dO, v, T(0), {scratch, n, h * n * n, n * n});
    Self::softmax_backward_overwrite(probs, scratch, scratch, b * h * n, n);
    L.gemm(false, false, n, hd, n, scale, dS, k, dqkv_beta, {dqkv, ld, n * ld, hd});
    L.gemm(true, false, n, hd, n, scale, dS, q, dqkv_beta, {dqkv + D, ld, n * ld, hd});
  }

  // --- tokens and patches ---
  template <class T>
  static void gather_tokens(const T* x, const std::int32_t* idx, T* y, std::size_t b, std::size_t nin,
                            std::size_t nout, std::size_t d) {
    check_indices("gather_tokens", "index", idx, b * nout, nout, nin);
    for_n(b * nout * d, gather_tokens_op<T>{x, idx, y, nin, nout, d});
  }
  template <class T>
  static void scatter_add_tokens(const T* dy, const std::int32_t* idx, T* dx, std::size_t b, std::size_t nin,
                                 std::size_t nout, std::size_t d) {
    check_indices("scatter_add_tokens", "index", idx, b * nout, nout, nin);
    for_n(b * d, scatter_add_tokens_op<T>{dy, idx, dx, nin, nout, d});
  }
  template <class T>
  static void patchify(const T* img, T* out, std::size_t b, std::size_t c, std::size_t h, std::size_t w,
                       std::size_t p) {
    for_n(b * c * h * w, patch_copy<T, true>{checked_map("patchify", c, h, w, p, true), img, out});
  }
  template <class T>
  static void unpatchify(const T* patches, T* img, std::size_t b, std::size_t c, std::size_t h, std::size_t w,
                         std::size_t p) {
    for_n(b * c * h * w, patch_copy<T, false>{checked_map("unpatchify", c, h, w, p, true), patches, img});
  }
  template <class T>
  static void patchify_conv(const T* img, T* out, std::size_t b, std::size_t c, std::size_t h, std::size_t w,
                            std::size_t p) {
    for_n(b * c * h * w, patch_copy<T, true>{checked_map("patchify_conv", c, h, w, p, false), img, out});
  }

  // --- losses (scalars in backend memory) ---
  template <class T>
  static void masked_mse_forward(const T* pred, const T* target, const T* mask, T* target_norm, T* loss,
                                 std::size_t b, std::size_t l, std::size_t p, bool norm_pix, T eps) {
    MAE_CHECK(!norm_pix || p > 1, "masked_mse_forward: norm_pix needs patches of more than 1 value (P = " +
                                      std::to_string(p) + ") for the unbiased variance");
    const double denominator = mask_sum("masked_mse_forward", mask, b * l);
    temp_buffer<System, double> terms(b * l);
    for_n(b * l, masked_mse_row<T>{pred, target, mask, target_norm, terms.data(), p, norm_pix, eps});
    fill(loss, 1, static_cast<T>(fixed_order_sum(terms.data(), b * l) / denominator));
  }
  template <class T>
  static void masked_mse_backward(const T* pred, const T* target_norm, const T* mask, const T* dloss, T* dpred,
                                  std::size_t b, std::size_t l, std::size_t p) {
    const double denominator = static_cast<double>(p) * mask_sum("masked_mse_backward", mask, b * l);
    for_n(b * l * p, masked_mse_backward_op<T>{pred, target_norm, mask, dloss, dpred, p, denominator});
  }
  template <class T>
  static void l1_forward(const T* pred, const T* target, const T* mask, T* loss, std::size_t rows, std::size_t p) {
    const double denominator = (mask ? mask_sum("l1_forward", mask, rows) : double(rows)) * double(p);
    temp_buffer<System, double> terms(rows);
    for_n(rows, l1_row<T>{pred, target, mask, terms.data(), p});
    fill(loss, 1, static_cast<T>(fixed_order_sum(terms.data(), rows) / denominator));
  }
  template <class T>
  static void l1_backward(const T* pred, const T* target, const T* mask, const T* dloss, T* dpred, std::size_t rows,
                          std::size_t p) {
    const double denominator = (mask ? mask_sum("l1_backward", mask, rows) : double(rows)) * double(p);
    for_n(rows * p, l1_backward_op<T>{pred, target, mask, dloss, dpred, p, denominator});
  }
  template <class T>
  static void cross_entropy_forward(const T* logits, const std::int32_t* labels, T* probs, T* loss, std::size_t rows,
                                    std::size_t classes) {
    check_indices("cross_entropy_forward", "label", labels, rows, rows, classes);
    temp_buffer<System, double> terms(rows);
    for_n(rows, cross_entropy_row<T>{logits, labels, probs, terms.data(), classes});
    fill(loss, 1, static_cast<T>(fixed_order_sum(terms.data(), rows) / double(rows)));
  }
  template <class T>
  static void cross_entropy_backward(const T* probs, const std::int32_t* labels, const T* dloss, T* dlogits,
                                     std::size_t rows, std::size_t classes) {
    for_n(rows * classes, cross_entropy_backward_op<T>{probs, dloss, labels, dlogits, classes, rows});
  }

  // --- masking ---
  static void fill_uniform(float* out, std::size_t n, std::uint64_t seed, std::uint64_t stream) {
    for_n((n + 3) / 4, fill_uniform_block{out, n, seed, stream});
  }
  // Per-sample stable argsort as one stable sort of (sample, noise) keys; ids_shuffle receives the order.
  template <class T>
  static void random_masking(const float* noise, std::size_t batch, std::size_t tokens, std::size_t keep,
                             MaskIndices<T> out) {
    MAE_CHECK(keep <= tokens && batch <= (std::size_t(1) << 32),
              "random_masking: keep " + std::to_string(keep) + " of " + std::to_string(tokens) +
                  " tokens, batch " + std::to_string(batch));
    const std::size_t n = batch * tokens;
    if (n == 0) return;
    temp_buffer<System, std::uint64_t> keys(n);
    for_n(n, masking_keys{noise, keys.data(), out.ids_shuffle, tokens});
    ::thrust::stable_sort_by_key(System::exec(), keys.data(), keys.data() + n, out.ids_shuffle);
    for_n(n, masking_scatter<T>{out.ids_shuffle, out.ids_restore, out.ids_keep, out.mask, tokens, keep});
  }

  // --- optimiser ---
  template <class T>
  static void adamw_step(T* param, const T* grad, T* m, T* v, std::size_t n, double lr, double beta1, double beta2,
                         double eps, double wd, long step) {
    const adamw_factors<T> f(lr, beta1, beta2, eps, wd, step);
    for_n(n, adamw_op<T>{param, grad, m, v, f});
  }

 protected:
  // A matrix operand of every (batch, head) pair: pair (i, j) starts at data + i*batch_stride + j*head_stride.
  template <class T>
  struct operand {
    T* data;
    std::size_t ld, batch_stride, head_stride;
  };

  // One GEMM per (batch, head) pair as strided-batched GEMMs: the loop runs over the smaller of the two axes,
  // the batch over the other, whose stride is uniform.
  struct pair_layout {
    std::size_t batch, heads, n;
    template <class T>
    void gemm(bool ta, bool tb, std::size_t M, std::size_t N, std::size_t K, T alpha,
              std::type_identity_t<operand<const T>> A, std::type_identity_t<operand<const T>> B, T beta,
              std::type_identity_t<operand<T>> C) const {
      const bool over_heads = heads <= batch;  // loop over heads, batch over samples
      const std::size_t loops = over_heads ? heads : batch, count = over_heads ? batch : heads;
      for (std::size_t i = 0; i < loops; ++i) {
        const auto at = [&](auto o) { return o.data + i * (over_heads ? o.head_stride : o.batch_stride); };
        const auto stride = [&](auto o) { return over_heads ? o.batch_stride : o.head_stride; };
        System::gemm_strided_batched(ta, tb, M, N, K, alpha, at(A), A.ld, stride(A), at(B), B.ld, stride(B), beta,
                                     at(C), C.ld, stride(C), count);
      }
    }
  };

  static patch_map checked_map(const char* op, std::size_t c, std::size_t h, std::size_t w, std::size_t p,
                               bool channel_fastest) {
    MAE_CHECK(p > 0 && h % p == 0 && w % p == 0, std::string(op) + ": image " + std::to_string(h) + "x" +
                                                     std::to_string(w) + " is not a multiple of the patch size " +
                                                     std::to_string(p));
    return {c, h, w, p, channel_fastest};
  }
};

}  // namespace mae::thrust_backend
