#pragma once
// The forward kernels of the embedded path, bit-identical to the CPU backend's (mae/backend/cpu/), with no
// allocation and no thread in any build:
// - GEMM packing goes to a caller's workspace instead of the backend's thread_local vector; linear_forward and
//   attention_forward run cpu::linear_forward's tiled product (gemm_tiled_with) and follow cpu::attention_forward
//   step by step (same Eigen blocking and kernels, same order), tiles and (batch, head) pairs one after the other;
// - the row and element-wise kernels are the backend's loops without their OpenMP regions (in an OpenMP build
//   libgomp allocates on entering them), computing the same expressions with the same helpers (cpu::detail).
// The bit-equality tests (tests/test_embedded_bits.cpp, tests/embedded/) guard against drift from the backend.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "mae/backend/cpu/activation.hpp"
#include "mae/backend/cpu/gemm.hpp"
#include "mae/backend/cpu/vecmath.hpp"
#include "mae/models/static_status.hpp"

namespace mae::embedded::detail {

constexpr std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }
constexpr std::size_t round_up(std::size_t a, std::size_t b) { return ceil_div(a, b) * b; }

// --- sizes, at compile time ------------------------------------------------------------------------

// L1 size that cpu::detail::tune_eigen_caches gives Eigen (its blocking reads it).
inline constexpr std::size_t eigen_l1_bytes = 48 * 1024;

// Eigen's K blocking (kc) for a single-threaded T product of depth K, from the L1 size above
// (evaluateProductBlockingSizesHeuristic). The M and N blocks never exceed the product's extents.
template <class T>
constexpr std::size_t eigen_kc(std::size_t K) {
  using Traits = Eigen::internal::gebp_traits<T, T>;
  std::size_t l1 = eigen_l1_bytes;
#ifdef EIGEN_VECTORIZE_AVX512
  l1 *= 4;  // as Eigen does
#endif
  constexpr std::size_t k_peeling = 8, k_div = (Traits::mr + Traits::nr) * sizeof(T),
                        k_sub = Traits::mr * Traits::nr * sizeof(T);
  const std::size_t max_kc = std::max<std::size_t>(((l1 - k_sub) / k_div) & ~(k_peeling - 1), 1);
  if (K <= max_kc) return K;
  return K % max_kc == 0 ? max_kc : max_kc - k_peeling * ((max_kc - 1 - K % max_kc) / (k_peeling * (K / max_kc + 1)));
}

// Packing elements one gemm_accumulate of C[M, N] (depth K) needs: the layout of cpu::detail::gemm_accumulate_eigen
// or, for float, one packed op(B) of cpu::detail::avx512_gemm_serial (chosen at run time): room for either.
inline constexpr std::size_t packing_align = 64;  // elements, as the backend's buffer
template <class T>
constexpr std::size_t gemm_workspace(std::size_t M, std::size_t N, std::size_t K) {
  if (M * N * K <= cpu::detail::small_gemm_madds) return 0;
  const std::size_t kc = eigen_kc<T>(K), eigen = round_up(kc * N, packing_align) + kc * M;
  if constexpr (std::is_same_v<T, float> && MAE_AVX512_GEMM) return std::max(eigen, cpu::detail::avx512_b_slot(N, K));
  return eigen;
}
// ... and one linear_forward of `rows` rows, In -> Out: one tile's packed blocks (cpu::detail::gemm_tiled_with
// without a shared packed weight).
template <class T>
constexpr std::size_t linear_workspace(std::size_t rows, std::size_t in, std::size_t out) {
  return cpu::detail::gemm_unshared_tile_elems<T>(cpu::detail::make_gemm_tiling(rows, out, in), in, eigen_kc<T>(in));
}

// --- kernels, at run time --------------------------------------------------------------------------

template <class T>
struct Workspace {
  T* data;
  std::size_t size;  // elements
};

// C[M,N] += alpha * A * op(B), A row-major (M x K), op(B) = B (K x N) or Bᵀ (B stored N x K):
// cpu::detail::gemm_accumulate with the packing buffers in `ws`.
template <bool TransB, class T>
Status gemm_accumulate(std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda, const T* B,
                       std::size_t ldb, T* C, std::size_t ldc, Workspace<T> ws) noexcept {
  if (M == 0 || N == 0 || K == 0 || alpha == T(0)) return Status::ok;
  if (M * N * K <= cpu::detail::small_gemm_madds) {
    cpu::detail::gemm_accumulate_small(false, TransB, M, N, K, alpha, A, lda, B, ldb, C, ldc);
    return Status::ok;
  }
#if MAE_AVX512_GEMM
  if constexpr (std::is_same_v<T, float>) {
    if (cpu::detail::avx512_gemm_active()) {
      if (cpu::detail::avx512_b_slot(N, K) > ws.size) return Status::workspace_too_small;
      cpu::detail::avx512_gemm_serial<false, TransB>(M, N, K, alpha, A, lda, B, ldb, C, ldc, ws.data);
      return Status::ok;
    }
  }
#endif
  cpu::detail::tune_eigen_caches();
  Eigen::Index kc = static_cast<Eigen::Index>(K), mc = static_cast<Eigen::Index>(N), nc = static_cast<Eigen::Index>(M);
  Eigen::internal::computeProductBlockingSizes<T, T, 1>(kc, mc, nc, Eigen::Index(1));
  const std::size_t size_a = round_up(static_cast<std::size_t>(kc * mc), packing_align);
  if (size_a + static_cast<std::size_t>(kc * nc) > ws.size) return Status::workspace_too_small;
  cpu::detail::tile_blocking<T> blocking(kc, mc, nc, ws.data, ws.data + size_a);
  constexpr int OrderB = TransB ? Eigen::ColMajor : Eigen::RowMajor;
  using Product = Eigen::internal::general_matrix_matrix_product<Eigen::Index, T, Eigen::RowMajor, false, T, OrderB,
                                                                 false, Eigen::RowMajor, 1>;
  const auto idx = [](std::size_t v) { return static_cast<Eigen::Index>(v); };
  Product::run(idx(M), idx(N), idx(K), A, idx(lda), B, idx(ldb), C, 1, idx(ldc), alpha, blocking, nullptr);
  return Status::ok;
}

// y[rows, out] = x[rows, in] · W[out, in]ᵀ + b[out]: cpu::linear_forward (gemm_tiled), its tiles run in order,
// each packing its slice of W into `ws` (the backend packs W once for all tiles: the same bits).
template <class T>
Status linear_forward(const T* x, const T* W, const T* b, T* y, std::size_t rows, std::size_t in, std::size_t out,
                      Workspace<T> ws) noexcept {
  if (rows == 0 || out == 0) return Status::ok;
  cpu::detail::tune_eigen_caches();  // before gemm_kc: the blocking reads the cache sizes
  const cpu::detail::gemm_tiling t = cpu::detail::make_gemm_tiling(rows, out, in);
  if (cpu::detail::gemm_unshared_tile_elems<T>(t, in, cpu::detail::gemm_kc<T>(in)) > ws.size)
    return Status::workspace_too_small;
  cpu::detail::gemm_tiled_with(
      false, true, rows, out, in, T(1), x, in, W, in, y, out, [](std::size_t) { return static_cast<T*>(nullptr); },
      [&](std::size_t) { return ws.data; }, false, cpu::detail::row_init<T>{b, out});
  return Status::ok;
}

// Multi-head self-attention over a packed qkv (B, N, 3D) into out (B, N, D): cpu::attention_forward, with one
// N x N `probs` buffer reused by every (batch, head) pair instead of B*H saved ones.
template <class T>
Status attention_forward(const T* qkv, T* out, T* probs, std::size_t B, std::size_t N, std::size_t H, std::size_t hd,
                         Workspace<T> ws) noexcept {
  const std::size_t D = H * hd, ld = 3 * D;
  const T scale = T(1) / std::sqrt(T(hd));
  for (std::size_t pair = 0; pair < B * H; ++pair) {
    const std::size_t b = pair / H, h = pair % H;
    const T* q = qkv + b * N * ld + h * hd;
    T* o = out + b * N * D + h * hd;
    cpu::detail::scale_block(T(0), N, N, probs, N);
    MAE_RETURN_IF_ERROR(gemm_accumulate<true>(N, N, hd, scale, q, ld, q + D, ld, probs, N, ws));
    for (std::size_t i = 0; i < N; ++i) cpu::detail::softmax_row(probs + i * N, probs + i * N, N);
    cpu::detail::scale_block(T(0), N, hd, o, D);
    MAE_RETURN_IF_ERROR(gemm_accumulate<false>(N, hd, N, T(1), probs, N, q + 2 * D, ld, o, D, ws));
  }
  return Status::ok;
}

// y[o, i] = x[o, i] + row[i] (y may be x): cpu::add_rowvec.
template <class T>
void add_rowvec(const T* x, const T* row, T* y, std::size_t outer, std::size_t inner) noexcept {
  for (std::size_t o = 0; o < outer; ++o) {
    const T* xo = x + o * inner;
    T* yo = y + o * inner;
#pragma omp simd
    for (std::size_t i = 0; i < inner; ++i) yo[i] = xo[i] + row[i];
  }
}

// y = x Φ(x) (y may be x): cpu::gelu_forward.
template <class T>
void gelu_forward(const T* x, T* y, std::size_t n) noexcept {
  cpu::detail::gelu_forward_rows(x, y, n);
}

// LayerNorm of each row: cpu::layernorm_forward without the saved statistics.
template <class T>
void layernorm_forward(const T* x, const T* w, const T* b, T* y, std::size_t rows, std::size_t cols, T eps) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    const T mu = cpu::detail::sum(xr, cols) / T(cols);
    const T rs = T(1) / std::sqrt(cpu::detail::sum_sq_dev(xr, mu, cols) / T(cols) + eps);
#pragma omp simd
    for (std::size_t c = 0; c < cols; ++c) yr[c] = (xr[c] - mu) * rs * w[c] + b[c];
  }
}

// MAE's per-sample masking from given noise: mae::random_masking (a stable argsort; the order is unique, so any
// correct sort gives the same indices).
template <class T>
void random_masking(const float* noise, std::size_t batch, std::size_t tokens, std::size_t keep,
                    std::int32_t* ids_shuffle, std::int32_t* ids_restore, std::int32_t* ids_keep, T* mask) noexcept {
  for (std::size_t b = 0; b < batch; ++b) {
    std::int32_t* shuffle = ids_shuffle + b * tokens;
    const float* nz = noise + b * tokens;
    for (std::size_t t = 0; t < tokens; ++t) shuffle[t] = static_cast<std::int32_t>(t);
    std::sort(shuffle, shuffle + tokens,
              [nz](std::int32_t a, std::int32_t c) { return nz[a] < nz[c] || (nz[a] == nz[c] && a < c); });
    std::copy(shuffle, shuffle + keep, ids_keep + b * keep);
    for (std::size_t k = 0; k < tokens; ++k) {
      ids_restore[b * tokens + static_cast<std::size_t>(shuffle[k])] = static_cast<std::int32_t>(k);
      mask[b * tokens + static_cast<std::size_t>(shuffle[k])] = k < keep ? T(0) : T(1);
    }
  }
}

// Patches in Conv2d weight order (channel, row, col), the rows of the patch embedding: cpu::patchify_conv.
template <class T>
void patch_rows_conv(const T* img, T* out, std::size_t B, std::size_t C, std::size_t H, std::size_t W,
                     std::size_t p) noexcept {
  const std::size_t gh = H / p, gw = W / p, P = p * p * C;
  for (std::size_t row = 0; row < B * gh * gw; ++row) {
    const std::size_t b = row / (gh * gw), i = row / gw % gh, j = row % gw;
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t pi = 0; pi < p; ++pi)
        for (std::size_t pj = 0; pj < p; ++pj)
          out[row * P + (c * p + pi) * p + pj] = img[((b * C + c) * H + i * p + pi) * W + j * p + pj];
  }
}

}  // namespace mae::embedded::detail
