#pragma once
// Float GEMM for AVX-512 CPUs: a 12 x 32 register-blocked micro-kernel that reads op(A) where it lies and
// op(B) packed once per call. Eigen's GEBP (the other CPU path) packs both operands, op(A) once per tile, and
// ran the MAE's linear layers at 62-73% of a core's peak with packing a fifth of the step; here op(A) is never
// copied: a row-major activation gives each row's k-th value at a[r * lda + k], the transposed one of a
// weight gradient (dYᵀ X) gives 12 adjacent values of a row. Compiled for AVX-512F through function
// attributes whatever the build's -march (GCC and Clang on x86-64), and taken at run time when the CPU has
// AVX-512F (avx512_gemm_active); elsewhere float products take Eigen's path.
#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define MAE_AVX512_GEMM 1
#define MAE_AVX512_TARGET [[gnu::target("avx512f")]]
#include <immintrin.h>

#include <cstdlib>
#include <cstring>
#else
#define MAE_AVX512_GEMM 0
#endif

#include "mae/backend/cpu/vecmath.hpp"
#include "mae/core/parallel.hpp"

namespace mae::cpu::detail {

// Whether float GEMMs run on this kernel: the CPU has AVX-512F (and the OS saves its registers), and the
// environment variable MAE_CPU_GEMM is not "eigen" (which keeps Eigen's GEBP, to compare the two). Decided
// once per process, so every product of a run, the embedded path's included, takes the same kernel.
inline bool avx512_gemm_active() {
#if MAE_AVX512_GEMM
  static const bool active = [] {
    const char* choice = std::getenv("MAE_CPU_GEMM");
    return cpu_has_avx512f() && !(choice && std::strcmp(choice, "eigen") == 0);
  }();
  return active;
#else
  return false;
#endif
}

// Micro-tile: 12 rows x 32 columns of C in 24 zmm accumulators (plus two of op(B) and one broadcast).
inline constexpr std::size_t avx512_mr = 12, avx512_nr = 32;
// K block: one packed 32-column panel of op(B) is 32 KB and 12 rows of op(A) 12 KB, both in a 48 KB L1.
inline constexpr std::size_t avx512_kc_max = 256;
constexpr std::size_t avx512_kc(std::size_t K) { return K == 0 ? 1 : std::min(K, avx512_kc_max); }

// One packed (kc x tile_n) block of op(B): tile_n rounded up to whole panels.
constexpr std::size_t avx512_b_slot(std::size_t tile_n, std::size_t K) {
  return (tile_n + avx512_nr - 1) / avx512_nr * avx512_nr * avx512_kc(K);
}
constexpr std::size_t avx512_packed_b_elems(std::size_t tiles_n, std::size_t tile_n, std::size_t K) {
  const std::size_t kc = avx512_kc(K);
  return (K + kc - 1) / kc * tiles_n * avx512_b_slot(tile_n, K);
}

#if MAE_AVX512_GEMM

// Lane masks of the two vectors of a 32-column panel row of which the first w columns are used.
struct avx512_masks {
  __mmask16 lo, hi;
  explicit avx512_masks(std::size_t w)
      : lo(static_cast<__mmask16>(w >= 16 ? 0xFFFFu : (1u << w) - 1)),
        hi(static_cast<__mmask16>(w >= 32 ? 0xFFFFu : w > 16 ? (1u << (w - 16)) - 1 : 0u)) {}
};

// r[c] <- column c of the 16 x 16 block whose rows are r[0..15]. (GCC 12 flags the unpack and shuffle
// intrinsics' own undefined source operand as maybe uninitialized once they are inlined here.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
[[gnu::always_inline]] MAE_AVX512_TARGET inline void avx512_transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {  // per 128-bit lane: (a0 b0 a1 b1), (a2 b2 a3 b3) of rows i, i + 1
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // r[i + e], lane q: element 4q + e of rows i..i+3
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int e = 0; e < 4; ++e) {  // column 4q + e: lane q of r[e], r[4 + e], r[8 + e], r[12 + e]
    const __m512 s0 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0x44), s1 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0xEE);
    const __m512 s2 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0x44);
    const __m512 s3 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0xEE);
    t[e] = _mm512_shuffle_f32x4(s0, s2, 0x88);
    t[4 + e] = _mm512_shuffle_f32x4(s0, s2, 0xDD);
    t[8 + e] = _mm512_shuffle_f32x4(s1, s3, 0x88);
    t[12 + e] = _mm512_shuffle_f32x4(s1, s3, 0xDD);
  }
  for (int c = 0; c < 16; ++c) r[c] = t[c];
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// op(B) rows k0..k0+depth, columns j0..j0+n, into panels of 32 columns: panel p holds depth rows of 32 floats
// at dst + p * 32 * depth, columns past n zero (they multiply into lanes that are never stored).
template <bool TransB>
MAE_AVX512_TARGET inline void avx512_pack_b(const float* B, std::size_t ldb, std::size_t k0, std::size_t depth,
                                            std::size_t j0, std::size_t n, float* dst) {
  for (std::size_t p = 0; p < n; p += avx512_nr, dst += avx512_nr * depth) {
    const std::size_t w = std::min(avx512_nr, n - p);
    if constexpr (!TransB) {  // a row of the panel: two masked loads, zeros past w
      const avx512_masks mask(w);
      for (std::size_t k = 0; k < depth; ++k) {
        const float* src = B + (k0 + k) * ldb + j0 + p;
        _mm512_storeu_ps(dst + k * avx512_nr, _mm512_maskz_loadu_ps(mask.lo, src));
        _mm512_storeu_ps(dst + k * avx512_nr + 16, _mm512_maskz_loadu_ps(mask.hi, src + 16));
      }
    } else {  // op(B)[k, j] = B[j * ldb + k]: 16 x 16 blocks transposed in registers, scalar edges
      std::size_t jj = 0;
      for (; jj + 16 <= w; jj += 16) {
        const float* src = B + (j0 + p + jj) * ldb + k0;
        std::size_t k = 0;
        for (; k + 16 <= depth; k += 16) {
          __m512 r[16];
          for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * ldb + k);
          avx512_transpose16(r);
          for (int c = 0; c < 16; ++c) _mm512_storeu_ps(dst + (k + c) * avx512_nr + jj, r[c]);
        }
        for (; k < depth; ++k)
          for (std::size_t i = 0; i < 16; ++i) dst[k * avx512_nr + jj + i] = src[i * ldb + k];
      }
      for (; jj < w; ++jj) {
        const float* src = B + (j0 + p + jj) * ldb + k0;
        for (std::size_t k = 0; k < depth; ++k) dst[k * avx512_nr + jj] = src[k];
      }
      if (w < avx512_nr)
        for (std::size_t k = 0; k < depth; ++k) std::fill(dst + k * avx512_nr + w, dst + (k + 1) * avx512_nr, 0.0f);
    }
  }
}

// C[Rows, 16 * Vecs] (lanes masked by m0, m1) = addend + alpha * op(A)[Rows, depth] * panel[depth, 32 columns,
// the first 16 * Vecs used], where row r of the addend is at add + r * add_ld (C itself to accumulate; a bias
// with add_ld = 0; zeros when add is null). op(A)[r, k] is a[r * lda + k], or a[k * lda + r] when TransA. One
// vector (Vecs = 1) serves a last panel of at most 16 columns at half the cost.
template <int Rows, int Vecs, bool TransA>
MAE_AVX512_TARGET inline void avx512_micro(std::size_t depth, const float* a, std::size_t lda, const float* panel,
                                           float* c, std::size_t ldc, const float* add, std::size_t add_ld,
                                           float alpha, __mmask16 m0, __mmask16 m1) {
  __m512 acc[Rows][Vecs];
#pragma GCC unroll 12
  for (int r = 0; r < Rows; ++r)
    for (int v = 0; v < Vecs; ++v) acc[r][v] = _mm512_setzero_ps();
  for (std::size_t k = 0; k < depth; ++k, panel += avx512_nr) {
    __m512 b[Vecs];
    for (int v = 0; v < Vecs; ++v) b[v] = _mm512_loadu_ps(panel + 16 * v);
    const float* ak = TransA ? a + k * lda : a + k;
    // The transposed op(A) steps one dY row (up to 3 KB) per k, past what the hardware prefetchers follow: ask
    // for the row 8 steps ahead (both lines its `Rows` values may straddle). Measured: weight-gradient products
    // 5-17% faster (bench_ops gemm/*_dw).
    if constexpr (TransA) {
      _mm_prefetch(reinterpret_cast<const char*>(ak + 8 * lda), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ak + 8 * lda + Rows - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 12
    for (int r = 0; r < Rows; ++r) {
      const __m512 av = _mm512_set1_ps(TransA ? ak[r] : ak[r * lda]);
      for (int v = 0; v < Vecs; ++v) acc[r][v] = _mm512_fmadd_ps(av, b[v], acc[r][v]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha);
  const __mmask16 mask[2] = {m0, m1};
#pragma GCC unroll 12
  for (int r = 0; r < Rows; ++r)
    for (int v = 0; v < Vecs; ++v) {
      const __m512 addend = add ? _mm512_maskz_loadu_ps(mask[v], add + r * add_ld + 16 * v) : _mm512_setzero_ps();
      _mm512_mask_storeu_ps(c + r * ldc + 16 * v, mask[v], _mm512_fmadd_ps(acc[r][v], va, addend));
    }
}

template <bool TransA>
using avx512_micro_fn = void (*)(std::size_t, const float*, std::size_t, const float*, float*, std::size_t,
                                 const float*, std::size_t, float, __mmask16, __mmask16);

// The micro-kernels for 1..12 rows (index rows - 1) of Vecs vectors: the last rows of a tile take a shorter one.
template <int Vecs, bool TransA, std::size_t... R>
constexpr auto avx512_micro_table(std::index_sequence<R...>) {
  return std::array<avx512_micro_fn<TransA>, sizeof...(R)>{&avx512_micro<int(R) + 1, Vecs, TransA>...};
}

// C[i0.., j0..] tile (m x n) += alpha * op(A) op(B) over every K block in order; with set_rows, the first K block
// writes row_init + alpha * (its product) instead of adding to C, row_init being a row of n values from column
// j0 on (a bias) or, when null, zeros: C is not written before the product. The tile's packed op(B) for
// K block kb is at packed + kb * block_stride; with pack_each_block the tile packs each block into `packed`
// itself first (the embedded path: no buffer for the whole of op(B)). Same data, same order: same bits.
template <bool TransA, bool TransB>
MAE_AVX512_TARGET void avx512_tile(std::size_t m, std::size_t n, std::size_t K, float alpha, const float* A,
                                   std::size_t lda, const float* B, std::size_t ldb, float* C, std::size_t ldc,
                                   std::size_t i0, std::size_t j0, float* packed, std::size_t block_stride,
                                   bool pack_each_block, bool set_rows, const float* row_init) {
  static constexpr auto micro2 = avx512_micro_table<2, TransA>(std::make_index_sequence<avx512_mr>{});
  static constexpr auto micro1 = avx512_micro_table<1, TransA>(std::make_index_sequence<avx512_mr>{});
  const std::size_t kc = avx512_kc(K);
  for (std::size_t k0 = 0, kb = 0; k0 < K; k0 += kc, ++kb) {
    const std::size_t depth = std::min(kc, K - k0);
    float* block = pack_each_block ? packed : packed + kb * block_stride;
    if (pack_each_block) avx512_pack_b<TransB>(B, ldb, k0, depth, j0, n, block);
    // Rows in equal blocks of at most 12 (M = 50: 5 x 10, not 4 x 12 + 2; a 13-token head: 7 + 6): a block of
    // one or two rows would wait on its loads. Where a row falls never changes its sums.
    const std::size_t row_blocks = (m + avx512_mr - 1) / avx512_mr, short_rows = m / row_blocks;
    for (std::size_t rb = 0, i = 0, rows = 0; rb < row_blocks; ++rb, i += rows) {
      rows = short_rows + (rb < m % row_blocks ? 1 : 0);
      const float* a = TransA ? A + k0 * lda + i0 + i : A + (i0 + i) * lda + k0;
      for (std::size_t p = 0; p < n; p += avx512_nr) {
        const std::size_t w = std::min(avx512_nr, n - p);
        const avx512_masks mask(w);
        float* c = C + (i0 + i) * ldc + j0 + p;
        const bool first_sets = set_rows && kb == 0;
        const float* add = first_sets ? (row_init ? row_init + p : nullptr) : c;
        (w > 16 ? micro2 : micro1)[rows - 1](depth, a, lda, block + p * depth, c, ldc, add, first_sets ? 0 : ldc,
                                             alpha, mask.lo, mask.hi);
      }
    }
  }
}

// C[M, N] += alpha * op(A) op(B) on the calling thread (with overwrite: C = alpha * op(A) op(B), C never read),
// op(B) packed into `buffer` (avx512_b_slot(N, K) elements): the small per-head products of attention.
template <bool TransA, bool TransB>
void avx512_gemm_serial(std::size_t M, std::size_t N, std::size_t K, float alpha, const float* A, std::size_t lda,
                        const float* B, std::size_t ldb, float* C, std::size_t ldc, float* buffer,
                        bool overwrite = false) {
  avx512_tile<TransA, TransB>(M, N, K, alpha, A, lda, B, ldb, C, ldc, 0, 0, buffer, 0, true, overwrite, nullptr);
}

#endif  // MAE_AVX512_GEMM

}  // namespace mae::cpu::detail
