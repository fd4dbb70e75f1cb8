// The token, patch and loss ops against PyTorch 1.13 (op fixtures, docs/fixtures.md): forward output and every
// input gradient for the file's dy, float32 against the _f32 file and float64 against the _f64 file.
// Case 0 runs with a run-time batch (as the model does), case 1 with a fully static shape.
#include "support/op_fixture.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "mae/autograd/ops_loss.hpp"
#include "mae/autograd/ops_patch.hpp"
#include "mae/autograd/ops_tokens.hpp"

using namespace mae;
using test::input;
using test::OpFixture;

namespace {

template <class T, std::size_t Bt, std::size_t N, std::size_t D, std::size_t K>
void gather_case(int id, std::size_t batch) {
  OpFixture<T> f("gather", id);
  auto x = input<Shape<Bt, N, D>>(f, "x", {batch, N, D});
  const auto idx = f.indices("idx", {std::int64_t(batch), K});
  Tape<> tape;
  auto y = gather_tokens<K>(tape, x.var(), idx.data());
  f.expect("y", y);
  f.backward(tape, y);
  f.expect_grad("dx", x);
  f.expect_all_compared();
}

// PyTorch's scatter (zeros, then y[b, idx[b, k]] = x[b, k]) has no op of its own in mae; it is covered twice:
// - as the backward of gather_tokens (a scatter-add by the same indices) seeded with x;
// - as the MAE decoder computes it: x followed by zero tokens, gathered by the inverse permutation (the index
//   that puts token k at idx[b, k] and the zero tokens everywhere else), forward and backward.
template <class T, std::size_t Bt, std::size_t N, std::size_t D, std::size_t K>
void scatter_case(int id, std::size_t batch) {
  OpFixture<T> f("scatter", id);
  CHECK(f.meta("tokens") == std::to_string(N));
  auto x = input<Shape<Bt, K, D>>(f, "x", {batch, K, D});
  const auto idx = f.indices("idx", {std::int64_t(batch), K});
  {
    std::vector<T> zeros(batch * N * D, T(0)), dzeros(zeros.size(), T(0));
    Tape<> tape;
    auto g = gather_tokens<K>(tape, Var<T, Shape<Bt, N, D>>{zeros.data(), dzeros.data(), {batch, N, D}}, idx.data());
    tape.backward(g, x.value.data());
    f.expect("y", dzeros.data(), {std::int64_t(batch), N, D});
  }
  std::vector<std::int32_t> inverse(batch * N, -1);
  for (std::size_t b = 0; b < batch; ++b) {
    for (std::size_t k = 0; k < K; ++k) {
      auto& slot = inverse[b * N + static_cast<std::size_t>(idx[b * K + k])];
      REQUIRE(slot == -1);  // distinct indices within a row
      slot = static_cast<std::int32_t>(k);
    }
    std::int32_t next_zero = K;
    for (std::size_t n = 0; n < N; ++n)
      if (inverse[b * N + n] == -1) inverse[b * N + n] = next_zero++;
  }
  Tape<> tape;
  std::vector<T> zeros(batch * (N - K) * D, T(0));
  auto y = [&] {
    if constexpr (K == N) {
      return gather_tokens<N>(tape, x.var(), inverse.data());
    } else {
      auto padded = concat_tokens(tape, x.var(), Var<T, Shape<Bt, N - K, D>>{zeros.data(), nullptr, {batch, N - K, D}});
      return gather_tokens<N>(tape, padded, inverse.data());
    }
  }();
  f.expect("y", y);
  f.backward(tape, y);
  f.expect_grad("dx", x);
  f.expect_all_compared();
}

template <class T, std::size_t Bt, std::size_t Na, std::size_t Nb, std::size_t D>
void concat_case(int id, std::size_t batch) {
  OpFixture<T> f("concat", id);
  auto a = input<Shape<Bt, Na, D>>(f, "a", {batch, Na, D});
  auto b = input<Shape<Bt, Nb, D>>(f, "b", {batch, Nb, D});
  Tape<> tape;
  auto y = concat_tokens(tape, a.var(), b.var());
  f.expect("y", y);
  f.backward(tape, y);
  f.expect_grad("da", a);
  f.expect_grad("db", b);
  f.expect_all_compared();
}

template <class T, std::size_t C, std::size_t H, std::size_t W, std::size_t P>
void check_patch_meta(const OpFixture<T>& f) {
  CHECK(f.meta("p") == std::to_string(P));
  CHECK(f.meta("C") == std::to_string(C));
  CHECK(f.meta("H") == std::to_string(H));
  CHECK(f.meta("W") == std::to_string(W));
}

template <class T, std::size_t Bt, std::size_t C, std::size_t H, std::size_t W, std::size_t P>
void patch_cases(int id, std::size_t batch) {
  using G = patch_grid<C, H, W, P>;
  {
    OpFixture<T> f("patchify", id);
    check_patch_meta<T, C, H, W, P>(f);
    auto img = input<Shape<Bt, C, H, W>>(f, "img", {batch, C, H, W});
    Tape<> tape;
    auto y = patchify<P>(tape, img.var());
    f.expect("y", y);
    f.backward(tape, y);
    f.expect_grad("dimg", img);
    f.expect_all_compared();
  }
  {
    OpFixture<T> f("unpatchify", id);
    check_patch_meta<T, C, H, W, P>(f);
    auto x = input<Shape<Bt, G::tokens, G::width>>(f, "x", {batch, G::tokens, G::width});
    Tape<> tape;
    auto y = unpatchify<C, H, W, P>(tape, x.var());
    f.expect("y", y);
    f.backward(tape, y);
    f.expect_grad("dx", x);
    f.expect_all_compared();
  }
}

template <class T, std::size_t Bt, std::size_t L, std::size_t P>
void mse_norm_pix_case(int id, std::size_t batch) {
  OpFixture<T> f("mse_norm_pix", id);
  const double eps = std::stod(f.meta("eps"));
  CHECK(eps == 1e-6);  // MAE_SPEC §6
  auto pred = input<Shape<Bt, L, P>>(f, "pred", {batch, L, P});
  auto target = input<Shape<Bt, L, P>>(f, "target", {batch, L, P}, false);
  const auto mask = f.read("mask", {std::int64_t(batch), L});
  Tape<> tape;
  auto y = masked_mse(tape, pred.var(), target.var(), mask.data(), true, static_cast<T>(eps));
  f.expect("y", y);
  f.backward(tape, y);
  f.expect_grad("dpred", pred);
  f.expect_all_compared();
}

// PyTorch's mean |pred - target| is masked_l1 without a mask.
template <class T, std::size_t Bt, std::size_t N, std::size_t D>
void l1_case(int id, std::size_t batch) {
  OpFixture<T> f("l1", id);
  CHECK(f.meta("reduction") == "mean");
  auto pred = input<Shape<Bt, N, D>>(f, "pred", {batch, N, D});
  auto target = input<Shape<Bt, N, D>>(f, "target", {batch, N, D}, false);
  Tape<> tape;
  auto y = masked_l1(tape, pred.var(), target.var(), static_cast<const T*>(nullptr));
  f.expect("y", y);
  f.backward(tape, y);
  f.expect_grad("dpred", pred);
  f.expect_all_compared();
}

template <class T, std::size_t Bt, std::size_t C>
void cross_entropy_case(int id, std::size_t batch) {
  OpFixture<T> f("cross_entropy", id);
  CHECK(f.meta("reduction") == "mean");
  auto logits = input<Shape<Bt, C>>(f, "logits", {batch, C});
  const auto labels = f.indices("labels", {std::int64_t(batch)});
  for (auto l : labels) REQUIRE(static_cast<std::size_t>(l) < C);
  Tape<> tape;
  auto y = cross_entropy(tape, logits.var(), labels.data());
  f.expect("y", y);
  f.backward(tape, y);
  f.expect_grad("dlogits", logits);
  f.expect_all_compared();
}

}  // namespace

TEST_CASE_TEMPLATE("gather_tokens vs PyTorch gather", T, float, double) {
  gather_case<T, dyn, 7, 5, 3>(0, 3);
  gather_case<T, 1, 8, 4, 8>(1, 1);
}

TEST_CASE_TEMPLATE("PyTorch scatter as gather_tokens' backward and as a gather by the inverse permutation", T, float,
                   double) {
  scatter_case<T, dyn, 7, 5, 3>(0, 3);
  scatter_case<T, 1, 8, 4, 8>(1, 1);
}

TEST_CASE_TEMPLATE("concat_tokens vs PyTorch cat", T, float, double) {
  concat_case<T, dyn, 1, 5, 7>(0, 3);
  concat_case<T, 1, 3, 4, 16>(1, 1);
}

TEST_CASE_TEMPLATE("patchify, unpatchify vs PyTorch", T, float, double) {
  patch_cases<T, dyn, 3, 9, 9, 3>(0, 3);
  patch_cases<T, 1, 1, 8, 8, 4>(1, 1);
}

TEST_CASE_TEMPLATE("masked_mse (norm_pix) vs PyTorch MAE loss", T, float, double) {
  mse_norm_pix_case<T, dyn, 7, 12>(0, 3);
  mse_norm_pix_case<T, 1, 16, 16>(1, 1);
}

TEST_CASE_TEMPLATE("masked_l1 (no mask) vs PyTorch L1 mean", T, float, double) {
  l1_case<T, dyn, 5, 7>(0, 3);
  l1_case<T, 1, 4, 16>(1, 1);
}

TEST_CASE_TEMPLATE("cross_entropy vs PyTorch", T, float, double) {
  cross_entropy_case<T, dyn, 7>(0, 3);
  cross_entropy_case<T, 1, 10>(1, 1);
}
