// Gradchecks of the token plumbing, the patch ops and the losses.
#include "support/gradcheck.hpp"

#include <algorithm>
#include <numeric>

#include "mae/autograd/ops.hpp"

using namespace mae;
using test::Buffer;
using test::gradcheck;

TEST_CASE("gather_tokens: gradcheck, and a permutation's backward is the inverse gather") {
  for (std::size_t batch : {1u, 3u}) {
    std::mt19937_64 rng(batch);
    Buffer x(batch * 9 * 5, rng);
    std::vector<std::int32_t> idx(batch * 4);
    for (std::size_t b = 0; b < batch; ++b) {
      std::vector<std::int32_t> perm(9);
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), rng);
      std::copy(perm.begin(), perm.begin() + 4, idx.begin() + b * 4);
    }
    auto f = [&](Tape<>& t) { return gather_tokens<4>(t, x.var<Shape<dyn, 9, 5>>({batch, 9, 5}), idx.data()); };
    CHECK(gradcheck({&x}, f, batch) <= 1e-6);
  }
}

TEST_CASE("slice, concat and expand along tokens: gradcheck") {
  std::mt19937_64 rng(5);
  const std::size_t batch = 2;
  Buffer a(batch * 3 * 4, rng), b(batch * 2 * 4, rng), tok(4, rng);
  using A = Shape<dyn, 3, 4>;
  using Bs = Shape<dyn, 2, 4>;
  CHECK(gradcheck({&a, &b}, [&](Tape<>& t) { return concat_tokens(t, a.var<A>({batch, 3, 4}), b.var<Bs>({batch, 2, 4})); },
                  1) <= 1e-6);
  CHECK(gradcheck({&a}, [&](Tape<>& t) { return slice_tokens<2>(t, a.var<A>({batch, 3, 4}), 1); }, 2) <= 1e-6);
  CHECK(gradcheck({&tok}, [&](Tape<>& t) { return expand_token<3>(t, tok.var<Shape<1, 1, 4>>(), batch); }, 3) <= 1e-6);
  // Dynamic token counts behave the same.
  CHECK(gradcheck({&a}, [&](Tape<>& t) { return slice_tokens<dyn>(t, a.var<A>({batch, 3, 4}), 0, 2); }, 4) <= 1e-6);
}

TEST_CASE("patchify and unpatchify: gradcheck and exact inverse") {
  std::mt19937_64 rng(9);
  const std::size_t batch = 2;
  Buffer img(batch * 3 * 6 * 4, rng);  // C 3, H 6, W 4, p 2
  CHECK(gradcheck({&img}, [&](Tape<>& t) { return patchify<2>(t, img.var<Shape<dyn, 3, 6, 4>>({batch, 3, 6, 4})); },
                  1) <= 1e-6);
  Buffer patches(batch * 6 * 12, rng);
  CHECK(gradcheck({&patches},
                  [&](Tape<>& t) { return unpatchify<3, 6, 4, 2>(t, patches.var<Shape<dyn, 6, 12>>({batch, 6, 12})); },
                  2) <= 1e-6);
  Tape<> t(false);
  img.needs_grad = false;
  auto round = unpatchify<3, 6, 4, 2>(t, patchify<2>(t, img.var<Shape<dyn, 3, 6, 4>>({batch, 3, 6, 4})));
  for (std::size_t i = 0; i < img.value.size(); ++i) REQUIRE(round.value[i] == img.value[i]);
}

TEST_CASE("masked MSE (norm-pix and plain), masked L1, cross-entropy: gradcheck") {
  for (std::size_t batch : {1u, 3u}) {
    std::mt19937_64 rng(batch + 40);
    Buffer pred(batch * 5 * 6, rng), target(batch * 5 * 6, rng);
    target.needs_grad = false;
    std::vector<double> mask(batch * 5);
    for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = (i % 3 == 0) ? 0.0 : 1.0;
    using S = Shape<dyn, 5, 6>;
    const dims_t<S> d{batch, 5, 6};
    for (bool norm_pix : {true, false}) {
      auto f = [&](Tape<>& t) { return masked_mse(t, pred.var<S>(d), target.var<S>(d), mask.data(), norm_pix); };
      CHECK(gradcheck({&pred}, f, batch) <= 1e-6);
    }
    auto l1 = [&](Tape<>& t) { return masked_l1(t, pred.var<S>(d), target.var<S>(d), mask.data()); };
    CHECK(gradcheck({&pred}, l1, batch + 1) <= 1e-6);
    Buffer logits(batch * 7, rng, -2, 2);
    std::vector<std::int32_t> labels(batch);
    for (std::size_t i = 0; i < batch; ++i) labels[i] = static_cast<std::int32_t>((3 * i + 1) % 7);
    auto ce = [&](Tape<>& t) { return cross_entropy(t, logits.var<Shape<dyn, 7>>({batch, 7}), labels.data()); };
    CHECK(gradcheck({&logits}, ce, batch + 2) <= 1e-6);
  }
}
