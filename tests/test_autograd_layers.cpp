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
