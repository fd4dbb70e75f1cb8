#pragma once
// Batched matrix product: (..., M, K) x (..., K, N) -> (..., M, N), both operands of rank >= 2; the batch
// axes broadcast by numpy rules (equal, or 1, or missing). A static K mismatch does not compile (the two
// shapes appear in the diagnostic); a run-time one throws "matmul: (128x64) x (32x16)".
//
// The per-matrix product is Eigen's (row-major maps, any row stride). This is the simple, general entry
// point of the tensor core; the training path goes through kernels<Backend>, whose CPU GEMM is
// mae::cpu::gemm (mae/backend/cpu/gemm.hpp): core does not include backend headers.
#include <Eigen/Core>

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "mae/core/broadcast.hpp"
#include "mae/core/error.hpp"
#include "mae/core/expr.hpp"
#include "mae/core/tensor.hpp"
#include "mae/core/parallel.hpp"

namespace mae {

template <std::size_t RA, std::size_t RB>
constexpr bool matmul_inner_extents_match(const std::array<std::size_t, RA>& a, const std::array<std::size_t, RB>& b) {
  if constexpr (RA < 2 || RB < 2) return true;  // the rank check reports it
  else return a[RA - 1] == dyn || b[RB - 2] == dyn || a[RA - 1] == b[RB - 2];
}

template <std::size_t RA, std::size_t RB>
constexpr bool matmul_batch_extents_broadcast(const std::array<std::size_t, RA>& a,
                                              const std::array<std::size_t, RB>& b) {
  if constexpr (RA < 2 || RB < 2) return true;
  else return extents_broadcast(leading_extents<RA - 2>(a), leading_extents<RB - 2>(b));
}

// (broadcast batch..., M, N)
template <std::size_t RA, std::size_t RB>
constexpr auto matmul_extents(const std::array<std::size_t, RA>& a, const std::array<std::size_t, RB>& b) {
  if constexpr (RA < 2 || RB < 2) {
    return std::array<std::size_t, 2>{1, 1};
  } else {
    constexpr std::size_t R = std::max(RA, RB);
    const auto batch = broadcast_extents(leading_extents<RA - 2>(a), leading_extents<RB - 2>(b));
    std::array<std::size_t, R> out{};
    for (std::size_t i = 0; i < R - 2; ++i) out[i] = batch[i];
    out[R - 2] = a[RA - 2];
    out[R - 1] = b[RB - 1];
    return out;
  }
}

// The two shapes are this template's arguments, so g++ prints them in the "required from" lines.
template <class SA, class SB>
struct matmul_shapes_must_agree {
  static_assert(SA::rank >= 2 && SB::rank >= 2, "matmul: both operands need rank >= 2: (..., rows, cols)");
  static_assert(matmul_inner_extents_match(SA::extents, SB::extents),
                "matmul: inner extents differ: (..., M, K) x (..., K, N) needs the same K (the two shapes are the "
                "template arguments of mae::matmul_shapes_must_agree)");
  static_assert(matmul_batch_extents_broadcast(SA::extents, SB::extents),
                "matmul: batch extents do not broadcast (the two shapes are the template arguments of "
                "mae::matmul_shapes_must_agree)");
  using type = shape_from_extents<matmul_extents(SA::extents, SB::extents)>;
};

namespace detail {

// C (M x N, dense) = A (M x K, row stride lda) * B (K x N, row stride ldb), all row-major.
template <class T>
void gemm_rowmajor(std::size_t M, std::size_t N, std::size_t K, const T* a, std::size_t lda, const T* b,
                   std::size_t ldb, T* c) {
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Input = Eigen::Map<const Matrix, Eigen::Unaligned, Eigen::OuterStride<>>;
  const auto m = static_cast<Eigen::Index>(M), n = static_cast<Eigen::Index>(N), k = static_cast<Eigen::Index>(K);
  Eigen::Map<Matrix> out(c, m, n);
  out.noalias() = Input(a, m, k, Eigen::OuterStride<>(static_cast<Eigen::Index>(lda))) *
                  Input(b, k, n, Eigen::OuterStride<>(static_cast<Eigen::Index>(ldb)));
}

// An operand whose matrices have unit column stride (what a row-major map needs): the tensor's own
// elements when they do, else an evaluated copy. A transposed view (permute) is copied once here.
template <class E>
struct matrix_operand {
  using T = value_of<E>;
  using S = typename E::shape;
  static constexpr std::size_t rank = S::rank;
  std::optional<Tensor<T, S, typename E::backend>> copy;
  TensorView<const T, S, typename E::backend> view;

  explicit matrix_operand(const E& e) {
    if constexpr (is_tensor_like<E>) {
      view = as_operand(e);
      if (view.dim(rank - 1) == 1 || view.strides()[rank - 1] == 1) return;
    }
    view = copy.emplace(eval(e)).view();
  }
  std::size_t row_stride() const { return view.dim(rank - 2) > 1 ? view.strides()[rank - 2] : view.dim(rank - 1); }
  // Strides of the batch axes, right-aligned to Rb axes, 0 where the operand broadcasts.
  template <std::size_t Rb>
  std::array<std::size_t, Rb> batch_strides() const {
    std::array<std::size_t, Rb> s{};
    for (std::size_t k = 0; k + 2 < rank; ++k)
      s[Rb - (rank - 2) + k] = view.dim(k) == 1 ? 0 : view.strides()[k];
    return s;
  }
};

inline constexpr std::size_t matmul_parallel_min_madds = std::size_t(1) << 18;

}  // namespace detail

template <expression A, expression B>
auto matmul(const A& a, const B& b) {
  using SA = typename A::shape;
  using SB = typename B::shape;
  using SC = typename matmul_shapes_must_agree<SA, SB>::type;
  using T = value_of<A>;
  static_assert(detail::element_types_must_match<T, value_of<B>>::value);
  static_assert(detail::backends_must_match<typename A::backend, typename B::backend>::value);
  static_assert(host_backend<typename A::backend>, "matmul: this backend's memory is not host-accessible");
  constexpr std::size_t RA = SA::rank, RB = SB::rank, R = SC::rank, Rb = R - 2;

  const auto& da = a.dims();
  const auto& db = b.dims();
  dims_t<SC> dc{};
  std::array<std::size_t, Rb> batch{};
  const bool ok = da[RA - 1] == db[RB - 2] && try_broadcast_dims(leading_extents<RA - 2>(da),
                                                                   leading_extents<RB - 2>(db), batch);
  MAE_CHECK(ok, "matmul: " + to_string(da, 'x') + " x " + to_string(db, 'x'));
  for (std::size_t i = 0; i < Rb; ++i) dc[i] = batch[i];
  const std::size_t M = da[RA - 2], K = da[RA - 1], N = db[RB - 1];
  dc[R - 2] = M;
  dc[R - 1] = N;

  Tensor<T, SC, typename A::backend> c(dc);
  if (c.size() == 0) return c;
  const detail::matrix_operand<A> ma(a);
  const detail::matrix_operand<B> mb(b);
  const auto sa = ma.template batch_strides<Rb>(), sb = mb.template batch_strides<Rb>();
  const std::size_t lda = ma.row_stride(), ldb = mb.row_stride();
  std::size_t count = 1;
  for (auto d : batch) count *= d;

  // Matrices in parallel when there are several (Eigen then runs each on one thread), else Eigen's own.
  const bool parallel = count > 1 && count * M * N * K >= detail::matmul_parallel_min_madds;
  mae::detail::parallel_for(count, parallel, [&](std::size_t i) {
    std::size_t rest = i, oa = 0, ob = 0;
    for (std::size_t k = Rb; k-- > 0;) {
      const std::size_t idx = rest % batch[k];
      rest /= batch[k];
      oa += idx * sa[k];
      ob += idx * sb[k];
    }
    detail::gemm_rowmajor(M, N, K, ma.view.data() + oa, lda, mb.view.data() + ob, ldb, c.data() + i * M * N);
  });
  return c;
}

}  // namespace mae
