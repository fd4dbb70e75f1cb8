#pragma once
// Lazy element-wise expressions. `a + b * 2.f` builds a small Expr tree (views and scalars by value, no
// element is touched); assign(dst, expr) (or `tensor = expr`) evaluates the whole tree in ONE loop
// (mae/core/loop.hpp). Shapes broadcast by numpy rules: a conflict between static extents does not compile
// (the two shapes appear in the diagnostic), one involving a dyn extent throws mae::error when the
// expression is built. Mixing backends or element types does not compile.
//
// An Expr refers to its tensors: evaluate it in the statement that builds it, or while they live.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "mae/core/broadcast.hpp"
#include "mae/core/loop.hpp"
#include "mae/core/view.hpp"

namespace mae {

template <class F, class... Ops>
class Expr;

template <class X>
inline constexpr bool is_expr = false;
template <class F, class... Ops>
inline constexpr bool is_expr<Expr<F, Ops...>> = true;

// Anything that has elements: views, tensors, expressions.
template <class X>
concept expression = is_tensor_like<std::remove_cvref_t<X>> || is_expr<std::remove_cvref_t<X>>;
// An expression or a number (broadcast to any shape).
template <class X>
concept operand = expression<X> || std::is_arithmetic_v<std::remove_cvref_t<X>>;

template <class X>
using value_of = std::remove_cv_t<typename X::value_type>;

namespace detail {

// A number inside an expression: rank 0, no backend (it goes with any).
template <class T>
struct scalar_operand {
  using value_type = T;
  using shape = Shape<>;
  using backend = void;
  static constexpr std::size_t rank = 0;
  T value;
  dims_t<Shape<>> dims() const noexcept { return {}; }
};

// Leaves are stored as read-only views; expressions as themselves.
template <class X>
auto as_operand(const X& x) {
  if constexpr (is_expr<X>) return x;
  else if constexpr (is_tensor_view<X>)
    return TensorView<const value_of<X>, typename X::shape, typename X::backend>(x);
  else return as_operand(x.view());
}
template <class X>
using operand_t = decltype(as_operand(std::declval<const X&>()));

// Numbers passed to map() keep their own type.
template <class X>
auto as_map_operand(const X& x) {
  if constexpr (std::is_arithmetic_v<X>) return scalar_operand<X>{x};
  else return as_operand(x);
}

template <class T, class S, class B, std::size_t R>
auto bind_operand(const TensorView<T, S, B>& v, const index_t<R>&) {
  return bind_strided<R>(v.data(), v.dims(), v.strides());
}
template <class T, std::size_t R>
bound_scalar<T> bind_operand(const scalar_operand<T>& s, const index_t<R>&) {
  return {s.value};
}
template <class F, class... Ops, std::size_t R>
auto bind_operand(const Expr<F, Ops...>& e, const index_t<R>& out) {
  return e.bind(out);
}

// Type-level folds over the operands; the failing static_assert sits in a class template whose template
// arguments are the two offending shapes, backends or element types.
template <class S>
struct shape_tag {
  using type = S;
};
template <class SA, class SB>
shape_tag<broadcast_t<SA, SB>> operator|(shape_tag<SA>, shape_tag<SB>);

template <class B1, class B2>
struct backends_must_match {
  static_assert(std::is_void_v<B1> || std::is_void_v<B2> || std::is_same_v<B1, B2>,
                "one expression mixes two backends (the template arguments of mae::detail::backends_must_match): "
                "copy one operand to the other backend explicitly");
  using type = std::conditional_t<std::is_void_v<B1>, B2, B1>;
  static constexpr bool value = true;
};
template <class B>
struct backend_tag {
  using type = B;
};
template <class B1, class B2>
backend_tag<typename backends_must_match<B1, B2>::type> operator|(backend_tag<B1>, backend_tag<B2>);

template <class T1, class T2>
struct element_types_must_match {
  static_assert(std::is_same_v<T1, T2>,
                "one expression mixes two element types (the template arguments of "
                "mae::detail::element_types_must_match): convert one operand with mae::cast<T>(x)");
  static constexpr bool value = true;
};

// Run-time broadcast of the operands' dims, left to right; the op's name goes into the error message.
template <std::size_t R>
struct dims_fold {
  const char* op;
  index_t<R> dims;
};
template <std::size_t RA, std::size_t RB>
dims_fold<std::max(RA, RB)> operator|(const dims_fold<RA>& a, const dims_fold<RB>& b) {
  return {a.op, broadcast_dims(a.op, a.dims, b.dims)};
}

}  // namespace detail

// A node: F applied element-wise to the broadcast operands.
template <class F, class... Ops>
class Expr {
 public:
  using value_type = std::remove_cvref_t<std::invoke_result_t<const F&, value_of<Ops>...>>;
  using shape = typename decltype((detail::shape_tag<typename Ops::shape>{} | ...))::type;
  using backend = typename decltype((detail::backend_tag<typename Ops::backend>{} | ...))::type;
  static constexpr std::size_t rank = shape::rank;

  explicit Expr(F f, Ops... ops)
      : f_(std::move(f)), ops_(ops...), dims_((detail::dims_fold<Ops::rank>{F::name, ops.dims()} | ...).dims) {}

  const dims_t<shape>& dims() const noexcept { return dims_; }
  std::size_t dim(std::size_t i) const noexcept { return dims_[i]; }
  std::size_t size() const noexcept { return product(dims_); }

  // The evaluator of this tree for an output of rank R (>= rank).
  template <std::size_t R>
  auto bind(const detail::index_t<R>& out) const {
    return std::apply(
        [&](const auto&... o) {
          return detail::bound_expr<F, decltype(detail::bind_operand(o, out))...>{f_, {detail::bind_operand(o, out)...}};
        },
        ops_);
  }

 private:
  F f_;
  std::tuple<Ops...> ops_;
  dims_t<shape> dims_;
};

// The element-wise functions; `name` is the op in run-time broadcast errors.
namespace op {
struct add {
  static constexpr const char* name = "add";
  template <class T> constexpr T operator()(T a, T b) const { return a + b; }
};
struct sub {
  static constexpr const char* name = "sub";
  template <class T> constexpr T operator()(T a, T b) const { return a - b; }
};
struct mul {
  static constexpr const char* name = "mul";
  template <class T> constexpr T operator()(T a, T b) const { return a * b; }
};
struct div {
  static constexpr const char* name = "div";
  template <class T> constexpr T operator()(T a, T b) const { return a / b; }
};
// NaN-propagating, like torch.maximum / numpy.maximum.
struct maximum {
  static constexpr const char* name = "maximum";
  template <class T> constexpr T operator()(T a, T b) const { return (a < b || b != b) ? b : a; }
};
struct minimum {
  static constexpr const char* name = "minimum";
  template <class T> constexpr T operator()(T a, T b) const { return (b < a || b != b) ? b : a; }
};
struct neg {
  static constexpr const char* name = "neg";
  template <class T> T operator()(T a) const { return -a; }
};
struct exp {
  static constexpr const char* name = "exp";
  template <class T> T operator()(T a) const { return std::exp(a); }
};
struct log {
  static constexpr const char* name = "log";
  template <class T> T operator()(T a) const { return std::log(a); }
};
struct sqrt {
  static constexpr const char* name = "sqrt";
  template <class T> T operator()(T a) const { return std::sqrt(a); }
};
struct abs {
  static constexpr const char* name = "abs";
  template <class T> T operator()(T a) const { return std::abs(a); }
};
struct tanh {
  static constexpr const char* name = "tanh";
  template <class T> T operator()(T a) const { return std::tanh(a); }
};
struct erf {
  static constexpr const char* name = "erf";
  template <class T> T operator()(T a) const { return std::erf(a); }
};
struct square {
  static constexpr const char* name = "square";
  template <class T> T operator()(T a) const { return a * a; }
};

template <class U>
struct cast {
  static constexpr const char* name = "cast";
  template <class T> constexpr U operator()(T a) const { return static_cast<U>(a); }
};

template <class F>
struct mapped {
  static constexpr const char* name = "map";
  F f;
  template <class... A> auto operator()(A... a) const { return f(a...); }
};
}  // namespace op

namespace detail {

template <class A, class B>
concept binary_operands = (expression<A> && operand<B>) || (std::is_arithmetic_v<A> && expression<B>);

// A number takes the element type of the other operand (so `x * 2.0` stays float for float x).
template <class F, class A, class B>
auto make_binary(const A& a, const B& b) {
  if constexpr (!expression<A>) {
    using T = value_of<B>;
    return Expr<F, scalar_operand<T>, operand_t<B>>(F{}, scalar_operand<T>{static_cast<T>(a)}, as_operand(b));
  } else if constexpr (!expression<B>) {
    using T = value_of<A>;
    return Expr<F, operand_t<A>, scalar_operand<T>>(F{}, as_operand(a), scalar_operand<T>{static_cast<T>(b)});
  } else {
    static_assert(element_types_must_match<value_of<A>, value_of<B>>::value);
    return Expr<F, operand_t<A>, operand_t<B>>(F{}, as_operand(a), as_operand(b));
  }
}

template <class F, class E>
auto make_unary(const E& e) {
  return Expr<F, operand_t<E>>(F{}, as_operand(e));
}

}  // namespace detail

template <class A, class B> requires detail::binary_operands<A, B>
auto operator+(const A& a, const B& b) { return detail::make_binary<op::add>(a, b); }
template <class A, class B> requires detail::binary_operands<A, B>
auto operator-(const A& a, const B& b) { return detail::make_binary<op::sub>(a, b); }
template <class A, class B> requires detail::binary_operands<A, B>
auto operator*(const A& a, const B& b) { return detail::make_binary<op::mul>(a, b); }
template <class A, class B> requires detail::binary_operands<A, B>
auto operator/(const A& a, const B& b) { return detail::make_binary<op::div>(a, b); }
template <class A, class B> requires detail::binary_operands<A, B>
auto maximum(const A& a, const B& b) { return detail::make_binary<op::maximum>(a, b); }
template <class A, class B> requires detail::binary_operands<A, B>
auto minimum(const A& a, const B& b) { return detail::make_binary<op::minimum>(a, b); }

template <expression E> auto operator-(const E& e) { return detail::make_unary<op::neg>(e); }
template <expression E> auto exp(const E& e) { return detail::make_unary<op::exp>(e); }
template <expression E> auto log(const E& e) { return detail::make_unary<op::log>(e); }
template <expression E> auto sqrt(const E& e) { return detail::make_unary<op::sqrt>(e); }
template <expression E> auto abs(const E& e) { return detail::make_unary<op::abs>(e); }
template <expression E> auto tanh(const E& e) { return detail::make_unary<op::tanh>(e); }
template <expression E> auto erf(const E& e) { return detail::make_unary<op::erf>(e); }
template <expression E> auto square(const E& e) { return detail::make_unary<op::square>(e); }
template <class U, expression E> auto cast(const E& e) { return detail::make_unary<op::cast<U>>(e); }

// f applied element-wise to broadcast operands (tensors, views, expressions, numbers), e.g.
// map([](float x, float y) { return x > 0 ? y : 0.f; }, x, dy). f must not throw.
template <class F, class... Xs>
  requires(sizeof...(Xs) >= 1 && (operand<Xs> && ...) && (expression<Xs> || ...))
auto map(F f, const Xs&... xs) {
  return Expr<op::mapped<F>, decltype(detail::as_map_operand(xs))...>(op::mapped<F>{std::move(f)},
                                                                     detail::as_map_operand(xs)...);
}

namespace detail {
template <class D>
auto destination_view(D& dst) {
  if constexpr (is_tensor_view<std::remove_cv_t<D>>) return dst;
  else return dst.view();
}
}  // namespace detail

// dst = e, element by element, in one loop; e broadcasts to dst's shape (it may have fewer axes).
// dst: a view, or a tensor (its elements are written, it is never resized). e may read dst's own
// elements at the positions being written (x = x * 2), not others.
template <class D, class E>
  requires operand<E> && (is_tensor_like<std::remove_cvref_t<D>>)
void assign(D&& dst, const E& e) {
  auto v = detail::destination_view(dst);
  using V = decltype(v);
  using T = typename V::value_type;
  static_assert(!std::is_const_v<T>, "assign: the destination is read-only");
  static_assert(host_backend<typename V::backend>, "assign: this backend's memory is not host-accessible");
  constexpr std::size_t R = detail::loop_rank<V::rank>;
  const auto dims = detail::loop_extents(v.dims());
  const auto strides = detail::loop_extents(v.strides());
  if constexpr (std::is_arithmetic_v<E>) {
    detail::evaluate(v.data(), dims, strides, detail::bound_scalar<T>{static_cast<T>(e)});
  } else {
    static_assert(detail::element_types_must_match<T, value_of<E>>::value);
    static_assert(detail::backends_must_match<typename V::backend, typename E::backend>::value);
    static_assert(shape_must_broadcast_to<typename E::shape, typename V::shape>::value);
    const auto src = detail::as_operand(e);
    check_broadcast_to("assign", src.dims(), v.dims());
    detail::evaluate(v.data(), dims, strides, detail::bind_operand(src, detail::index_t<R>{}));
  }
}

}  // namespace mae
