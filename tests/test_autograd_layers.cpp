// Gradchecks (float64 central differences) of the layer ops through the tape, at two shapes each,
// including odd sizes and a batch of 1.
#include "support/gradcheck.hpp"

#include "mae/autograd/ops.hpp"

using namespace mae;
using test::Buffer;
using test::gradcheck;

TEST_CASE_TEMPLATE("linear: gradcheck", Dims, std::integral_constant<int, 0>, std::integral_constant<int, 1>) {
  std::mt19937_64 rng(11 + Dims::value);
  const std::size_t batch = Dims::value ? 1 : 3;
  Buffer x(batch * 7 * 13, rng), w(5 * 13, rng), b(5, rng);
  auto f = [&](Tape<>& t) {
    return linear(t, x.var<Shape<dyn, 7, 13>>({batch, 7, 13}), w.var<Shape<5, 13>>(), b.var<Shape<5>>());
  };
  CHECK(gradcheck({&x, &w, &b}, f, 11) <= 1e-6);
}

TEST_CASE("layer_norm: gradcheck at odd and batch-1 shapes") {
  for (std::size_t batch : {1u, 3u}) {
    std::mt19937_64 rng(batch);
    Buffer x(batch * 5 * 13, rng, -2, 2), w(13, rng), b(13, rng);
    auto f = [&](Tape<>& t) {
      return layer_norm(t, x.var<Shape<dyn, 5, 13>>({batch, 5, 13}), w.var<Shape<13>>(), b.var<Shape<13>>(), 1e-6);
    };
    CHECK(gradcheck({&x, &w, &b}, f, batch) <= 1e-6);
  }
}

TEST_CASE("gelu and softmax: gradcheck") {
  for (std::size_t batch : {1u, 4u}) {
    std::mt19937_64 rng(batch + 100);
    Buffer x(batch * 9 * 7, rng, -3, 3);
    auto g = [&](Tape<>& t) { return gelu(t, x.var<Shape<dyn, 9, 7>>({batch, 9, 7})); };
    CHECK(gradcheck({&x}, g, batch + 100) <= 1e-6);
    auto s = [&](Tape<>& t) { return softmax(t, x.var<Shape<dyn, 9, 7>>({batch, 9, 7})); };
    CHECK(gradcheck({&x}, s, batch + 200) <= 1e-6);
  }
}

TEST_CASE("mlp (fc1, GELU, fc2 in one node): gradcheck, also with a constant input") {
  for (std::size_t batch : {1u, 3u}) {
    std::mt19937_64 rng(batch + 300);
    Buffer x(batch * 5 * 6, rng, -2, 2), w1(11 * 6, rng), b1(11, rng), w2(4 * 11, rng), b2(4, rng);
    auto f = [&](Tape<>& t) {
      return mlp(t, x.var<Shape<dyn, 5, 6>>({batch, 5, 6}), w1.var<Shape<11, 6>>(), b1.var<Shape<11>>(),
                 w2.var<Shape<4, 11>>(), b2.var<Shape<4>>());
    };
    CHECK(gradcheck({&x, &w1, &b1, &w2, &b2}, f, batch + 300) <= 1e-6);
    Buffer r(batch * 5 * 4, rng);
    auto with_residual = [&](Tape<>& t) {
      return mlp(t, x.var<Shape<dyn, 5, 6>>({batch, 5, 6}), w1.var<Shape<11, 6>>(), b1.var<Shape<11>>(),
                 w2.var<Shape<4, 11>>(), b2.var<Shape<4>>(), r.var<Shape<dyn, 5, 4>>({batch, 5, 4}));
    };
    CHECK(gradcheck({&x, &w1, &b1, &w2, &b2, &r}, with_residual, batch + 350) <= 1e-6);
    x.needs_grad = false;
    CHECK(gradcheck({&w1, &b1, &w2, &b2}, f, batch + 400) <= 1e-6);
  }
}

namespace {
// A two-layer op's inputs (x, W1, b1, W2, b2 and the output gradient), normal floats.
struct TwoLayerInputs {
  std::vector<float> x, w1, b1, w2, b2, dy;
};
TwoLayerInputs two_layer_inputs(std::uint64_t seed, float scale, std::size_t rows, std::size_t in, std::size_t mid1,
                                std::size_t mid2, std::size_t out) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.f, scale);
  const auto randoms = [&](std::size_t n) {
    std::vector<float> v(n);
    for (auto& e : v) e = nd(rng);
    return v;
  };
  auto x = randoms(rows * in), w1 = randoms(mid1 * in), b1 = randoms(mid1), w2 = randoms(out * mid2), b2 = randoms(out);
  return {std::move(x), std::move(w1), std::move(b1), std::move(w2), std::move(b2), randoms(rows * out)};
}
// Its value and every gradient, the gradients accumulated onto non-zero starting values. W1 is (Mid1, In), W2
// (Out, Mid2).
struct TwoLayerResult {
  std::vector<float> y, dx, dw1, db1, dw2, db2;
  bool operator==(const TwoLayerResult&) const = default;
};
template <std::size_t N, std::size_t In, std::size_t Mid1, std::size_t Mid2, std::size_t Out, class Op>
TwoLayerResult run_two_layer(TwoLayerInputs& p, std::size_t batch, const Op& op) {
  TwoLayerResult r{{}, std::vector<float>(p.x.size(), 0.5f), std::vector<float>(p.w1.size(), 0.25f),
                   std::vector<float>(p.b1.size()), std::vector<float>(p.w2.size()), std::vector<float>(p.b2.size(), -1.f)};
  Tape<> t;
  auto y = op(t, Var<float, Shape<dyn, N, In>>{p.x.data(), r.dx.data(), {batch, N, In}},
              Var<float, Shape<Mid1, In>>{p.w1.data(), r.dw1.data(), {Mid1, In}},
              Var<float, Shape<Mid1>>{p.b1.data(), r.db1.data(), {Mid1}},
              Var<float, Shape<Out, Mid2>>{p.w2.data(), r.dw2.data(), {Out, Mid2}},
              Var<float, Shape<Out>>{p.b2.data(), r.db2.data(), {Out}});
  r.y.assign(y.value, y.value + y.size());
  t.backward(y, p.dy.data());
  return r;
}
}  // namespace

TEST_CASE("mlp gives the bits of linear, gelu, linear (value and every gradient, float)") {
  constexpr std::size_t N = 13, In = 48, Hidden = 192, Out = 48, batch = 7;
  auto p = two_layer_inputs(17, 1.0f, batch * N, In, Hidden, Hidden, Out);
  const auto fused = run_two_layer<N, In, Hidden, Hidden, Out>(p, batch, [](Tape<>& t, auto x, auto w1, auto b1, auto w2,
                                                                     auto b2) { return mlp(t, x, w1, b1, w2, b2); });
  const auto unfused = run_two_layer<N, In, Hidden, Hidden, Out>(
      p, batch, [](Tape<>& t, auto x, auto w1, auto b1, auto w2, auto b2) {
        return linear(t, gelu(t, linear(t, x, w1, b1)), w2, b2);
      });
  CHECK(fused == unfused);
  // With the residual, as a pre-norm block uses it (x is its own residual here: In == Out).
  const auto fused_residual = run_two_layer<N, In, Hidden, Hidden, Out>(
      p, batch, [](Tape<>& t, auto x, auto w1, auto b1, auto w2, auto b2) { return mlp(t, x, w1, b1, w2, b2, x); });
  const auto unfused_residual = run_two_layer<N, In, Hidden, Hidden, Out>(
      p, batch, [](Tape<>& t, auto x, auto w1, auto b1, auto w2, auto b2) {
        return add(t, x, linear(t, gelu(t, linear(t, x, w1, b1)), w2, b2));
      });
  CHECK(fused_residual == unfused_residual);
  CHECK(fused_residual.y != fused.y);
}

TEST_CASE("self_attention (qkv, attention, proj in one node): gradcheck, also with a constant input") {
  for (std::size_t batch : {1u, 2u}) {
    std::mt19937_64 rng(batch + 500);
    Buffer x(batch * 5 * 6, rng, -2, 2), wq(18 * 6, rng), bq(18, rng), wp(6 * 6, rng), bp(6, rng);
    auto f = [&](Tape<>& t) {
      return self_attention<2>(t, x.var<Shape<dyn, 5, 6>>({batch, 5, 6}), wq.var<Shape<18, 6>>(),
                               bq.var<Shape<18>>(), wp.var<Shape<6, 6>>(), bp.var<Shape<6>>());
    };
    CHECK(gradcheck({&x, &wq, &bq, &wp, &bp}, f, batch + 500) <= 1e-6);
    Buffer r(batch * 5 * 6, rng);
    auto with_residual = [&](Tape<>& t) {
      return self_attention<2>(t, x.var<Shape<dyn, 5, 6>>({batch, 5, 6}), wq.var<Shape<18, 6>>(),
                               bq.var<Shape<18>>(), wp.var<Shape<6, 6>>(), bp.var<Shape<6>>(),
                               r.var<Shape<dyn, 5, 6>>({batch, 5, 6}));
    };
    CHECK(gradcheck({&x, &wq, &bq, &wp, &bp, &r}, with_residual, batch + 550) <= 1e-6);
    x.needs_grad = false;
    CHECK(gradcheck({&wq, &bq, &wp, &bp}, f, batch + 600) <= 1e-6);
  }
}

TEST_CASE("self_attention gives the bits of linear, attention, linear (value and every gradient, float)") {
  constexpr std::size_t N = 13, D = 64, batch = 9;  // 4 heads of 16
  auto p = two_layer_inputs(19, 0.3f, batch * N, D, 3 * D, D, D);
  const auto fused = run_two_layer<N, D, 3 * D, D, D>(p, batch, [](Tape<>& t, auto x, auto wq, auto bq, auto wp,
                                                                auto bp) { return self_attention<4>(t, x, wq, bq, wp, bp); });
  const auto unfused = run_two_layer<N, D, 3 * D, D, D>(p, batch, [](Tape<>& t, auto x, auto wq, auto bq, auto wp, auto bp) {
    return linear(t, attention<4>(t, linear(t, x, wq, bq)), wp, bp);
  });
  CHECK(fused == unfused);
  const auto fused_residual = run_two_layer<N, D, 3 * D, D, D>(
      p, batch, [](Tape<>& t, auto x, auto wq, auto bq, auto wp, auto bp) {
        return self_attention<4>(t, x, wq, bq, wp, bp, x);
      });
  const auto unfused_residual = run_two_layer<N, D, 3 * D, D, D>(
      p, batch, [](Tape<>& t, auto x, auto wq, auto bq, auto wp, auto bp) {
        return add(t, x, linear(t, attention<4>(t, linear(t, x, wq, bq)), wp, bp));
      });
  CHECK(fused_residual == unfused_residual);
  CHECK(fused_residual.y != fused.y);
}

TEST_CASE("attention: gradcheck of the fused node") {
  std::mt19937_64 rng(7);
  Buffer a(2 * 5 * 3 * 12, rng);  // batch 2, 5 tokens, D = 12, 3 heads
  auto f3 = [&](Tape<>& t) { return attention<3>(t, a.var<Shape<dyn, 5, 36>>({2, 5, 36})); };
  CHECK(gradcheck({&a}, f3, 7) <= 1e-6);
  Buffer b(1 * 7 * 3 * 8, rng);  // batch 1, 7 tokens, D = 8, 2 heads
  auto f2 = [&](Tape<>& t) { return attention<2>(t, b.var<Shape<dyn, 7, 24>>({1, 7, 24})); };
  CHECK(gradcheck({&b}, f2, 8) <= 1e-6);
}

TEST_CASE("add, sub, mul with broadcasting and scale: gradcheck") {
  for (std::size_t batch : {1u, 3u}) {
    std::mt19937_64 rng(batch + 300);
    Buffer x(batch * 5 * 7, rng), y(batch * 5 * 7, rng), row(5 * 7, rng);
    using S = Shape<dyn, 5, 7>;
    const dims_t<S> d{batch, 5, 7};
    CHECK(gradcheck({&x, &y}, [&](Tape<>& t) { return add(t, x.var<S>(d), y.var<S>(d)); }, 1) <= 1e-6);
    CHECK(gradcheck({&x, &row}, [&](Tape<>& t) { return add(t, x.var<S>(d), row.var<Shape<5, 7>>()); }, 2) <= 1e-6);
    CHECK(gradcheck({&x, &row}, [&](Tape<>& t) { return sub(t, x.var<S>(d), row.var<Shape<5, 7>>()); }, 3) <= 1e-6);
    CHECK(gradcheck({&x, &row}, [&](Tape<>& t) { return mul(t, x.var<S>(d), row.var<Shape<5, 7>>()); }, 4) <= 1e-6);
    CHECK(gradcheck({&x, &y}, [&](Tape<>& t) { return mul(t, x.var<S>(d), y.var<S>(d)); }, 5) <= 1e-6);
    CHECK(gradcheck({&x}, [&](Tape<>& t) { return scale(t, x.var<S>(d), 0.37); }, 6) <= 1e-6);
    CHECK(gradcheck({&x}, [&](Tape<>& t) { return sum(t, x.var<S>(d)); }, 7) <= 1e-6);
    CHECK(gradcheck({&x}, [&](Tape<>& t) { return mean(t, x.var<S>(d)); }, 8) <= 1e-6);
  }
}

TEST_CASE("binary ops: a dynamic extent that does not broadcast throws with both shapes") {
  std::mt19937_64 rng(1);
  Buffer x(2 * 5 * 7, rng), y(2 * 5 * 7, rng);
  Tape<> t;
  auto a = x.var<Shape<dyn, 5, 7>>({2, 5, 7});
  auto b = y.var<Shape<dyn, 7>>({10, 7});
  CHECK_THROWS_WITH_AS(add(t, a, b), "add: shapes (2,5,7) and (10,7) do not broadcast", mae::error);
}
