// The layer and element-wise ops against PyTorch 1.13 (op fixtures, docs/fixtures.md): forward output and every
// input gradient for the file's dy, float32 against the _f32 file and float64 against the _f64 file.
// Case 0 runs with a run-time batch (as the model does), case 1 with a fully static shape.
// Not covered here: `matmul` and `mean_tokens` have fixtures but no autograd op yet.
#include "support/op_fixture.hpp"

#include <string>

#include "mae/autograd/ops_activation.hpp"
#include "mae/autograd/ops_attention.hpp"
#include "mae/autograd/ops_elementwise.hpp"
#include "mae/autograd/ops_linear.hpp"
#include "mae/autograd/ops_norm.hpp"

using namespace mae;
using test::input;
using test::OpFixture;

namespace {

template <class T, std::size_t Bt, std::size_t N, std::size_t In, std::size_t Out>
void linear_case(int id, std::size_t batch) {
  OpFixture<T> f("linear", id);
  auto x = input<Shape<Bt, N, In>>(f, "x", {batch, N, In});
  auto w = input<Shape<Out, In>>(f, "w", {Out, In});
  auto b = input<Shape<Out>>(f, "b", {Out});
  Tape<> tape;
  auto y = linear(tape, x.var(), w.var(), b.var());
  f.expect("y", y);
  f.backward(tape, y);
  f.expect_grad("dx", x);
  f.expect_grad("dw", w);
  f.expect_grad("db", b);
  f.expect_all_compared();
}

template <class T, std::size_t Bt, std::size_t N, std::size_t D>
void layernorm_case(int id, std::size_t batch) {
  OpFixture<T> f("layernorm", id);
  const double eps = std::stod(f.meta("eps"));
  CHECK(eps == 1e-6);  // MAE's LayerNorm eps (MAE_SPEC §4)
  auto x = input<Shape<Bt, N, D>>(f, "x", {batch, N, D});
  auto w = input<Shape<D>>(f, "w", {D});
  auto b = input<Shape<D>>(f, "b", {D});
  Tape<> tape;
  auto y = layer_norm(tape, x.var(), w.var(), b.var(), static_cast<T>(eps));
  f.expect("y", y);
  f.backward(tape, y);
  f.expect_grad("dx", x);
  f.expect_grad("dw", w);
  f.expect_grad("db", b);
  f.expect_all_compared();
}

// gelu, softmax, scale: y = op(x), one gradient.
template <class T, std::size_t Bt, std::size_t N, std::size_t D, class Op>
void unary_case(const std::string& op, int id, std::size_t batch, Op run) {
  OpFixture<T> f(op, id);
  auto x = input<Shape<Bt, N, D>>(f, "x", {batch, N, D});
  Tape<> tape;
  auto y = run(f, tape, x.var());
  f.expect("y", y);
  f.backward(tape, y);
  f.expect_grad("dx", x);
  f.expect_all_compared();
}

template <class T, std::size_t Bt, std::size_t N, std::size_t D>
void unary_ops(int id, std::size_t batch) {
  using X = Var<T, Shape<Bt, N, D>>;
  unary_case<T, Bt, N, D>("gelu", id, batch, [](auto&, Tape<>& t, X x) { return gelu(t, x); });
  unary_case<T, Bt, N, D>("softmax", id, batch, [](auto&, Tape<>& t, X x) { return softmax(t, x); });
  unary_case<T, Bt, N, D>("scale", id, batch, [](auto& f, Tape<>& t, X x) {
    const double s = std::stod(f.meta("scale"));
    CHECK(s == 0.125);
    return scale(t, x, static_cast<T>(s));
  });
  // Full reductions to a scalar.
  unary_case<T, Bt, N, D>("sum", id, batch, [](auto&, Tape<>& t, X x) { return sum(t, x); });
  unary_case<T, Bt, N, D>("mean", id, batch, [](auto&, Tape<>& t, X x) { return mean(t, x); });
}

template <std::size_t Heads, class T, std::size_t Bt, std::size_t N, std::size_t D>
void attention_case(int id, std::size_t batch) {
  OpFixture<T> f("attention", id);
  CHECK(f.meta("heads") == std::to_string(Heads));
  auto qkv = input<Shape<Bt, N, 3 * D>>(f, "qkv", {batch, N, 3 * D});
  Tape<> tape;
  auto y = attention<Heads>(tape, qkv.var());
  f.expect("y", y);
  f.backward(tape, y);
  f.expect_grad("dqkv", qkv);
  f.expect_all_compared();
}

// add: x + pos, the (1, N, D) table broadcast over the batch (our second operand is the suffix shape (N, D)).
// sub, mul: operands of equal shape.
template <class T, std::size_t Bt, std::size_t N, std::size_t D>
void binary_ops(int id, std::size_t batch) {
  using X = Shape<Bt, N, D>;
  {
    OpFixture<T> f("add", id);
    auto x = input<X>(f, "x", {batch, N, D});
    auto pos = input<Shape<N, D>>(f, "pos", {N, D}, true, {1, N, D});
    Tape<> tape;
    auto y = add(tape, x.var(), pos.var());
    f.expect("y", y);
    f.backward(tape, y);
    f.expect_grad("dx", x);
    f.expect_grad("dpos", pos);
    f.expect_all_compared();
  }
  for (const char* op : {"sub", "mul"}) {
    OpFixture<T> f(op, id);
    auto x = input<X>(f, "x", {batch, N, D});
    auto w = input<X>(f, "w", {batch, N, D});
    Tape<> tape;
    auto y = std::string(op) == "sub" ? sub(tape, x.var(), w.var()) : mul(tape, x.var(), w.var());
    f.expect("y", y);
    f.backward(tape, y);
    f.expect_grad("dx", x);
    f.expect_grad("dw", w);
    f.expect_all_compared();
  }
}

}  // namespace

TEST_CASE_TEMPLATE("linear vs PyTorch", T, float, double) {
  linear_case<T, dyn, 7, 13, 5>(0, 3);
  linear_case<T, 1, 4, 8, 16>(1, 1);
}

TEST_CASE_TEMPLATE("layer_norm vs PyTorch", T, float, double) {
  layernorm_case<T, dyn, 5, 7>(0, 3);
  layernorm_case<T, 1, 4, 16>(1, 1);
}

TEST_CASE_TEMPLATE("gelu, softmax, scale, sum, mean vs PyTorch", T, float, double) {
  unary_ops<T, dyn, 5, 7>(0, 3);
  unary_ops<T, 1, 4, 16>(1, 1);
}

TEST_CASE_TEMPLATE("attention vs PyTorch", T, float, double) {
  attention_case<3, T, dyn, 7, 15>(0, 3);
  attention_case<4, T, 1, 4, 16>(1, 1);
}

TEST_CASE_TEMPLATE("add (broadcast position table), sub, mul vs PyTorch", T, float, double) {
  binary_ops<T, dyn, 5, 7>(0, 3);
  binary_ops<T, 1, 4, 16>(1, 1);
}
