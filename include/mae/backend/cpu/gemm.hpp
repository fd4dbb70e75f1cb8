#pragma once
// Row-major GEMM on Eigen's packed GEBP kernels: C[M,N] = alpha * op(A) * op(B) + beta * C.
//
// Why not `Map * Map`: Eigen's own parallel product picks its K blocking from the thread count (so bits
// change with OMP_NUM_THREADS) and heap-allocates its packing buffers on every large call. Here C is cut
// into tiles by a rule that depends on the shape only and the K blocking depends on K only; the shared
// operand (a layer's weight) is packed once per call, each tile packs its own rows of the other and runs
// Eigen's GEBP kernel, and tiles run in parallel (packed_gemm). Results are bit-identical for any thread
// count, and packing uses per-thread buffers that grow on first use only (no steady-state allocation).
// Small per-head products (attention) call one single-threaded Eigen product (gemm_serial). Both use Eigen
// 3.4's internal packing routines and GEBP kernel; EIGEN_USE_BLAS would void both guarantees. Where the CPU
// has AVX-512F, float products of both kinds run on our own kernel instead (gemm_avx512.hpp), with the same
// tiling and the same guarantees.
#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "mae/backend/cpu/gemm_avx512.hpp"
#include "mae/core/parallel.hpp"

namespace mae::cpu {
namespace detail {

// Eigen sizes its blocks for the whole L3 it detects (508 MB on this socket) and drops to ~20 GFLOP/s
// near N = 256; per-core sizes restore 90-140 GFLOP/s (DESIGN_NOTES).
inline void tune_eigen_caches() {
  static const bool tuned = [] {
    Eigen::setCpuCacheSizes(48 * 1024, 1024 * 1024, 32 * 1024 * 1024);
    return true;
  }();
  (void)tuned;
}

// Tag: one buffer per use (the shared packed op(B) of gemm_tiled must not be a tile's own buffer).
template <class T, class Tag = void>
T* packing_buffer(std::size_t elems) {
  thread_local std::vector<T, Eigen::aligned_allocator<T>> buffer;
  if (buffer.size() < elems) buffer.resize(elems);
  return buffer.data();
}

// Eigen's blocking descriptor pointed at our own packing buffers.
template <class T>
struct tile_blocking : Eigen::internal::level3_blocking<T, T> {
  tile_blocking(Eigen::Index kc, Eigen::Index mc, Eigen::Index nc, T* block_a, T* block_b) {
    this->m_kc = kc;
    this->m_mc = mc;
    this->m_nc = nc;
    this->m_blockA = block_a;
    this->m_blockB = block_b;
  }
};

// C[M,N] += alpha * op(A) * op(B) on one thread. A transposed operand is the same memory read column-major.
template <class T, int OrderA, int OrderB>
void gemm_accumulate_eigen(Eigen::Index M, Eigen::Index N, Eigen::Index K, T alpha, const T* A, Eigen::Index lda,
                           const T* B, Eigen::Index ldb, T* C, Eigen::Index ldc) {
  // Eigen computes a row-major product as the transposed column-major one: its rows are our N.
  Eigen::Index kc = K, mc = N, nc = M;
  Eigen::internal::computeProductBlockingSizes<T, T, 1>(kc, mc, nc, Eigen::Index(1));
  constexpr std::size_t align = 64;  // elements: keeps the second block aligned for any packet size
  const std::size_t size_a = (static_cast<std::size_t>(kc * mc) + align - 1) / align * align;
  T* buffer = packing_buffer<T>(size_a + static_cast<std::size_t>(kc * nc));
  tile_blocking<T> blocking(kc, mc, nc, buffer, buffer + size_a);
  Eigen::internal::general_matrix_matrix_product<Eigen::Index, T, OrderA, false, T, OrderB, false, Eigen::RowMajor,
                                                 1>::run(M, N, K, A, lda, B, ldb, C, 1, ldc, alpha, blocking, nullptr);
}

// Below this many multiply-adds, Eigen's packing costs more than it saves (measured: Eigen is ahead from
// about 5 x 5 x 5 on, 4-8x ahead at attention-head sizes such as 50 x 50 x 16): plain loops.
inline constexpr std::size_t small_gemm_madds = 64;

template <class T>
void gemm_accumulate_small(bool transA, bool transB, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                           std::size_t lda, const T* B, std::size_t ldb, T* C, std::size_t ldc) {
  for (std::size_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    for (std::size_t k = 0; k < K; ++k) {
      const T a = alpha * (transA ? A[k * lda + i] : A[i * lda + k]);
      if (transB) {
#pragma omp simd
        for (std::size_t j = 0; j < N; ++j) c[j] += a * B[j * ldb + k];
      } else {
#pragma omp simd
        for (std::size_t j = 0; j < N; ++j) c[j] += a * B[k * ldb + j];
      }
    }
  }
}

// C = beta * C on an M x N block; beta == 0 never reads C.
template <class T>
void scale_block(T beta, std::size_t M, std::size_t N, T* C, std::size_t ldc) {
  if (beta == T(1)) return;
  for (std::size_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0))
      std::fill(c, c + N, T(0));
    else
#pragma omp simd
      for (std::size_t j = 0; j < N; ++j) c[j] *= beta;
  }
}

// f(std::bool_constant<transA>{}, std::bool_constant<transB>{}): the product instantiated for run-time flags.
template <class F>
void with_transposes(bool transA, bool transB, const F& f) {
  using yes = std::true_type;
  using no = std::false_type;
  if (!transA && !transB) f(no{}, no{});
  else if (!transA) f(no{}, yes{});
  else if (!transB) f(yes{}, no{});
  else f(yes{}, yes{});
}

// C += alpha * op(A) * op(B) on the calling thread. With overwrite, C = alpha * op(A) * op(B) instead: the
// AVX-512 kernel then stores its first K block without reading C; elsewhere C is zeroed first (the same bits).
template <class T>
void gemm_accumulate(bool transA, bool transB, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                     std::size_t lda, const T* B, std::size_t ldb, T* C, std::size_t ldc, bool overwrite = false) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0) || M * N * K <= small_gemm_madds) {
    if (overwrite) scale_block(T(0), M, N, C, ldc);
    if (K != 0 && alpha != T(0)) gemm_accumulate_small(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc);
    return;
  }
  with_transposes(transA, transB, [&](auto ta, auto tb) {
    constexpr bool TransA = decltype(ta)::value, TransB = decltype(tb)::value;
#if MAE_AVX512_GEMM
    if constexpr (std::is_same_v<T, float>) {
      if (avx512_gemm_active()) {
        avx512_gemm_serial<TransA, TransB>(M, N, K, alpha, A, lda, B, ldb, C, ldc,
                                           packing_buffer<float>(avx512_b_slot(N, K)), overwrite);
        return;
      }
    }
#endif
    if (overwrite) scale_block(T(0), M, N, C, ldc);
    tune_eigen_caches();
    const auto idx = [](std::size_t v) { return static_cast<Eigen::Index>(v); };
    gemm_accumulate_eigen<T, TransA ? Eigen::ColMajor : Eigen::RowMajor, TransB ? Eigen::ColMajor : Eigen::RowMajor>(
        idx(M), idx(N), idx(K), alpha, A, idx(lda), B, idx(ldb), C, idx(ldc));
  });
}

// One product on the calling thread (for kernels that parallelise over something else, e.g. attention heads).
template <class T>
void gemm_serial(bool transA, bool transB, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                 std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  if (beta != T(0)) scale_block(beta, M, N, C, ldc);
  gemm_accumulate(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc, beta == T(0));
}

// The tiling of C is a function of the shape only. It aims at >= `target` tiles so that 2..16 threads
// balance, with tiles large enough that packing (about (m + n) K per tile, against 2 m n K flops) stays
// small; with a deep K the fixed cost per tile vanishes and smaller tiles are fine.
struct gemm_tiling {
  std::size_t tile_m, tile_n, tiles_m, tiles_n;
  constexpr std::size_t count() const { return tiles_m * tiles_n; }
};

constexpr gemm_tiling make_gemm_tiling(std::size_t M, std::size_t N, std::size_t K, std::size_t target = 16) {
  const auto ceil_div = [](std::size_t a, std::size_t b) { return (a + b - 1) / b; };
  const auto round_up = [&](std::size_t a, std::size_t b) { return ceil_div(a, b) * b; };
  gemm_tiling t{M, N, 1, 1};
  if (target <= 1 || M == 0 || N == 0) return t;
  const bool deep = K >= 1024;
  const std::size_t min_m = deep ? 32 : 64, min_n = deep ? 32 : 96;
  // Rows in multiples of 8 (GEBP takes them 4 at a time): M = 16 x 104 gives 16 tiles, not 15 of 112, which
  // would leave one of 2 threads idle for a 16th of the product.
  t.tile_m = std::min(M, std::max(min_m, round_up(ceil_div(M, target), 8)));
  t.tiles_m = ceil_div(M, t.tile_m);
  if (t.tiles_m < target && N >= 2 * min_n) {
    // Column tiles in multiples of 16 floats: whole AVX2 / AVX-512 registers.
    t.tile_n = std::min(N, std::max(min_n, round_up(ceil_div(N, ceil_div(target, t.tiles_m)), 16)));
    t.tiles_n = ceil_div(N, t.tile_n);
  }
  return t;
}

// Work (multiply-adds) below which forking threads costs more than it gains.
inline constexpr std::size_t parallel_gemm_madds = std::size_t(1) << 19;

// Columns of a C tile that one packed block of op(A) covers: keeps that block (kc x 256) in L2.
inline constexpr std::size_t gemm_col_block = 256;

// Eigen's K blocking for a single-threaded product of depth K: a function of K alone (1 for K = 0).
template <class T>
std::size_t gemm_kc(std::size_t K) {
  Eigen::Index kc = static_cast<Eigen::Index>(K), mc = 1, nc = 1;
  Eigen::internal::computeProductBlockingSizes<T, T, 1>(kc, mc, nc, Eigen::Index(1));
  return std::max<std::size_t>(static_cast<std::size_t>(kc), 1);
}

// Packed blocks start 64 elements apart: GEBP reads packed op(B) with aligned loads (64 bytes for AVX-512).
inline constexpr std::size_t gemm_pack_align = 64;
constexpr std::size_t gemm_round_up(std::size_t n) {
  return (n + gemm_pack_align - 1) / gemm_pack_align * gemm_pack_align;
}

// One packed (kc x tile_n) block of op(B).
constexpr std::size_t gemm_b_slot(const gemm_tiling& t, std::size_t kc) { return gemm_round_up(t.tile_n * kc); }
// Elements of the buffer that holds op(B) packed once for all tiles.
constexpr std::size_t gemm_packed_b_elems(const gemm_tiling& t, std::size_t K, std::size_t kc) {
  return (K + kc - 1) / kc * t.tiles_n * gemm_b_slot(t, kc);
}
// Elements of one tile's buffer: its block of op(A), and its own block of op(B) when op(B) is not packed once.
constexpr std::size_t gemm_tile_buffer_elems(const gemm_tiling& t, std::size_t kc, bool shared_b) {
  return gemm_round_up(kc * std::min(t.tile_m, gemm_col_block)) + (shared_b ? 0 : gemm_b_slot(t, kc));
}

// One tiled product on Eigen's packing routines and GEBP kernel, in Eigen's column-major view of row-major C:
// Cᵀ (N x M) = op(B)ᵀ (N x K) · op(A)ᵀ (K x M). When shared_buffer(gemm_packed_b_elems) gives a buffer, op(B)
// — a layer's weight, shared by every tile — is packed into it once per call instead of once per tile; when it
// gives null (the embedded path, which keeps its workspace small), each tile packs its own slice. Each tile
// packs its rows of op(A) into tile_buffer(gemm_tile_buffer_elems), a buffer of the thread it runs on. Every
// GEBP call sees the same packed data either way, the blocking (kc, the tiles, 256-column blocks) depends on
// the shape alone, and every element of C sums its kc slices in order: the bits depend neither on the thread
// count nor on whether op(B) was packed once.
template <class T, bool TransA, bool TransB>
struct packed_gemm {
  using Index = Eigen::Index;
  using Traits = Eigen::internal::gebp_traits<T, T>;
  static constexpr int b_order = TransB ? Eigen::RowMajor : Eigen::ColMajor;  // op(B)ᵀ seen column-major
  static constexpr int a_order = TransA ? Eigen::RowMajor : Eigen::ColMajor;  // op(A)ᵀ seen column-major
  using BMapper = Eigen::internal::const_blas_data_mapper<T, Index, b_order>;
  using AMapper = Eigen::internal::const_blas_data_mapper<T, Index, a_order>;
  using CMapper = Eigen::internal::blas_data_mapper<T, Index, Eigen::ColMajor, Eigen::Unaligned, 1>;

  template <class Init, class SharedBuffer, class TileBuffer>
  static void run(std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda, const T* B,
                  std::size_t ldb, T* C, std::size_t ldc, const gemm_tiling& t, const SharedBuffer& shared_buffer,
                  const TileBuffer& tile_buffer, bool parallel, const Init& init) {
    const auto idx = [](std::size_t v) { return static_cast<Index>(v); };
    const std::size_t kc = gemm_kc<T>(K), k_blocks = (K + kc - 1) / kc, slot = gemm_b_slot(t, kc);
    T* packed_b = shared_buffer(gemm_packed_b_elems(t, K, kc));
    const BMapper b_map(B, idx(ldb));
    const AMapper a_map(A, idx(lda));
    const CMapper c_map(C, idx(ldc));
    // op(B)ᵀ rows j0..j0+n, depth k0..k0+kc, into dst.
    const auto pack_b = [&](std::size_t k0, std::size_t j0, T* dst) {
      Eigen::internal::gemm_pack_lhs<T, Index, BMapper, Traits::mr, Traits::LhsProgress,
                                     typename Traits::LhsPacket4Packing, b_order>
          pack;
      pack(dst, b_map.getSubMapper(idx(j0), idx(k0)), idx(std::min(kc, K - k0)), idx(std::min(t.tile_n, N - j0)));
    };
    if (packed_b)
      mae::detail::parallel_for(k_blocks * t.tiles_n, parallel && k_blocks * t.tiles_n > 1, [&](std::size_t item) {
        pack_b(item / t.tiles_n * kc, item % t.tiles_n * t.tile_n, packed_b + item * slot);
      });
    mae::detail::parallel_for_dynamic(t.count(), parallel && t.count() > 1, [&](std::size_t tile) {
      const std::size_t tm = tile / t.tiles_n, tn = tile % t.tiles_n;
      const std::size_t i0 = tm * t.tile_m, j0 = tn * t.tile_n;
      const std::size_t m = std::min(t.tile_m, M - i0), n = std::min(t.tile_n, N - j0);
      init(i0, m, j0, n, C + i0 * ldc + j0);
      T* packed_a = tile_buffer(gemm_tile_buffer_elems(t, kc, packed_b != nullptr));
      T* own_b = packed_a + gemm_round_up(kc * std::min(t.tile_m, gemm_col_block));
      Eigen::internal::gemm_pack_rhs<T, Index, AMapper, Traits::nr, a_order> pack_a;
      Eigen::internal::gebp_kernel<T, T, Index, CMapper, Traits::mr, Traits::nr, false, false> kernel;
      for (std::size_t c0 = 0; c0 < m; c0 += gemm_col_block) {
        const std::size_t cols = std::min(gemm_col_block, m - c0);
        for (std::size_t kb = 0; kb < k_blocks; ++kb) {
          const std::size_t k0 = kb * kc, depth = std::min(kc, K - k0);
          const T* b_block = packed_b ? packed_b + (kb * t.tiles_n + tn) * slot : own_b;
          if (!packed_b) pack_b(k0, j0, own_b);
          pack_a(packed_a, a_map.getSubMapper(idx(k0), idx(i0 + c0)), idx(depth), idx(cols));
          kernel(c_map.getSubMapper(idx(j0), idx(i0 + c0)), b_block, packed_a, idx(n), idx(depth), idx(cols), alpha);
        }
      }
    });
  }
};

// A tile init that sets every row of C to `row` (N values, e.g. a bias; zeros when null). The AVX-512 kernel
// folds it into the stores of its first K block instead of writing C before the product.
template <class T>
struct row_init {
  const T* row;
  std::size_t ldc;
  void operator()(std::size_t, std::size_t m, std::size_t j0, std::size_t n, T* c) const {
    for (std::size_t i = 0; i < m; ++i)
      if (row)
        std::copy(row + j0, row + j0 + n, c + i * ldc);
      else
        std::fill(c + i * ldc, c + i * ldc + n, T(0));
  }
};
template <class Init>
inline constexpr bool is_row_init = false;
template <class T>
inline constexpr bool is_row_init<row_init<T>> = true;

#if MAE_AVX512_GEMM
// The same tiled product on the AVX-512 micro-kernel (gemm_avx512.hpp): op(B) packed once per call into
// shared_buffer(avx512_packed_b_elems), or, when that gives null, per tile into tile_buffer(avx512_b_slot).
// With b_packed, shared_buffer already holds op(B) packed by an earlier call of the same shape (frozen weights).
// op(A) is read in place. Bits depend on the shape only, as with packed_gemm.
template <bool TransA, bool TransB>
struct avx512_gemm {
  template <class Init, class SharedBuffer, class TileBuffer>
  static void run(std::size_t M, std::size_t N, std::size_t K, float alpha, const float* A, std::size_t lda,
                  const float* B, std::size_t ldb, float* C, std::size_t ldc, const gemm_tiling& t,
                  const SharedBuffer& shared_buffer, const TileBuffer& tile_buffer, bool parallel, const Init& init,
                  bool b_packed = false) {
    const std::size_t kc = avx512_kc(K), k_blocks = (K + kc - 1) / kc, slot = avx512_b_slot(t.tile_n, K);
    float* packed = shared_buffer(avx512_packed_b_elems(t.tiles_n, t.tile_n, K));
    if (packed && !b_packed) {  // one 32-column panel per item: a single K block still packs on every thread
      const std::size_t panels = (t.tile_n + avx512_nr - 1) / avx512_nr, items = k_blocks * t.tiles_n * panels;
      mae::detail::parallel_for(items, parallel && items > 1, [&](std::size_t item) {
        const std::size_t block = item / panels, p = item % panels * avx512_nr;
        const std::size_t k0 = block / t.tiles_n * kc, depth = std::min(kc, K - k0);
        const std::size_t j0 = block % t.tiles_n * t.tile_n, n = std::min(t.tile_n, N - j0);
        if (p < n) avx512_pack_b<TransB>(B, ldb, k0, depth, j0 + p, std::min(avx512_nr, n - p),
                                         packed + block * slot + p * depth);
      });
    }
    mae::detail::parallel_for_dynamic(t.count(), parallel && t.count() > 1, [&](std::size_t tile) {
      const std::size_t tm = tile / t.tiles_n, tn = tile % t.tiles_n;
      const std::size_t i0 = tm * t.tile_m, j0 = tn * t.tile_n;
      const std::size_t m = std::min(t.tile_m, M - i0), n = std::min(t.tile_n, N - j0);
      const float* row = nullptr;
      if constexpr (is_row_init<Init>)
        row = init.row ? init.row + j0 : nullptr;
      else
        init(i0, m, j0, n, C + i0 * ldc + j0);
      float* blocks = packed ? packed + tn * slot : tile_buffer(slot);
      avx512_tile<TransA, TransB>(m, n, K, alpha, A, lda, B, ldb, C, ldc, i0, j0, blocks, t.tiles_n * slot, !packed,
                                  is_row_init<Init>, row);
    });
  }
};
#endif

// Elements of the per-tile buffer gemm_tiled_with asks for when op(B) is not packed once (the embedded path):
// enough for either kernel, since the AVX-512 one is chosen at run time.
template <class T>
constexpr std::size_t gemm_unshared_tile_elems(const gemm_tiling& t, std::size_t K, std::size_t eigen_kc) {
  const std::size_t eigen = gemm_tile_buffer_elems(t, eigen_kc, false);
  if constexpr (std::is_same_v<T, float> && MAE_AVX512_GEMM) return std::max(eigen, avx512_b_slot(t.tile_n, K));
  return eigen;
}

// C = init, then C += alpha op(A) op(B), tile by tile: init(i0, m, j0, n, C_tile) prepares each tile (beta
// scaling, bias broadcast) right before it accumulates, while it is hot in cache. shared_buffer and tile_buffer
// as in packed_gemm; tiny products run as plain loops. With b_packed, shared_buffer already holds op(B) as the
// AVX-512 kernel packed it in an earlier call of this shape (frozen weights); Eigen's path packs it anyway.
template <class T, class Init, class SharedBuffer, class TileBuffer>
void gemm_tiled_with(bool transA, bool transB, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                     std::size_t lda, const T* B, std::size_t ldb, T* C, std::size_t ldc,
                     const SharedBuffer& shared_buffer, const TileBuffer& tile_buffer, bool parallel,
                     const Init& init, [[maybe_unused]] bool b_packed = false) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0) || M * N * K <= small_gemm_madds) {
    init(0, M, 0, N, C);
    if (K != 0 && alpha != T(0)) gemm_accumulate_small(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc);
    return;
  }
  tune_eigen_caches();
  const gemm_tiling t = make_gemm_tiling(M, N, K);
  parallel = parallel && M * N * K > parallel_gemm_madds;
  with_transposes(transA, transB, [&](auto ta, auto tb) {
    constexpr bool TransA = decltype(ta)::value, TransB = decltype(tb)::value;
#if MAE_AVX512_GEMM
    if constexpr (std::is_same_v<T, float>) {
      if (avx512_gemm_active()) {
        avx512_gemm<TransA, TransB>::run(M, N, K, alpha, A, lda, B, ldb, C, ldc, t, shared_buffer, tile_buffer,
                                         parallel, init, b_packed);
        return;
      }
    }
#endif
    packed_gemm<T, TransA, TransB>::run(M, N, K, alpha, A, lda, B, ldb, C, ldc, t, shared_buffer, tile_buffer,
                                        parallel, init);
  });
}

// gemm_tiled_with on OpenMP threads, with per-thread packing buffers that grow on first use only.
template <class T, class Init>
void gemm_tiled(bool transA, bool transB, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                std::size_t lda, const T* B, std::size_t ldb, T* C, std::size_t ldc, const Init& init) {
  gemm_tiled_with(
      transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc,
      [](std::size_t elems) { return packing_buffer<T, struct shared_packed_b>(elems); },
      [](std::size_t elems) { return packing_buffer<T>(elems); }, true, init);
}

}  // namespace detail

// Row-major C[M,N] = alpha * op(A) * op(B) + beta * C, op(X) = X or Xᵀ; op(A) is M x K, op(B) is K x N.
// lda/ldb/ldc are the row strides of A, B, C as stored. beta == 0 ignores C's old content (NaN-safe).
template <class T>
void gemm(bool transA, bool transB, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A, std::size_t lda,
          const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc) {
  if (beta == T(0)) {
    detail::gemm_tiled(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc, detail::row_init<T>{nullptr, ldc});
    return;
  }
  detail::gemm_tiled(
      transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc,
      [&](std::size_t, std::size_t m, std::size_t, std::size_t n, T* c) { detail::scale_block(beta, m, n, c, ldc); });
}

// `batch` independent products; product i reads A + i*strideA, B + i*strideB and writes C + i*strideC.
template <class T>
void gemm_batched(bool transA, bool transB, std::size_t M, std::size_t N, std::size_t K, T alpha, const T* A,
                  std::size_t lda, const T* B, std::size_t ldb, T beta, T* C, std::size_t ldc, std::size_t batch,
                  std::size_t strideA, std::size_t strideB, std::size_t strideC) {
  if (M == 0 || N == 0) return;
  // Tiles within a product only when the batch alone cannot feed the threads.
  const detail::gemm_tiling t = detail::make_gemm_tiling(M, N, K, batch >= 16 ? 1 : (16 + batch - 1) / batch);
  const std::size_t per_product = t.count(), tasks = batch * per_product;
  mae::detail::parallel_for(tasks, tasks > 1 && batch * M * N * K > detail::parallel_gemm_madds, [&](std::size_t task) {
    const std::size_t i = task / per_product, tile = task % per_product;
    const std::size_t i0 = tile / t.tiles_n * t.tile_m, j0 = tile % t.tiles_n * t.tile_n;
    const std::size_t m = std::min(t.tile_m, M - i0), n = std::min(t.tile_n, N - j0);
    const T* a = A + i * strideA + (transA ? i0 : i0 * lda);
    const T* b = B + i * strideB + (transB ? j0 * ldb : j0);
    detail::gemm_serial(transA, transB, m, n, K, alpha, a, lda, b, ldb, beta, C + i * strideC + i0 * ldc + j0, ldc);
  });
}

}  // namespace mae::cpu
