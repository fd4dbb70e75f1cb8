#pragma once
// add, sub, mul with broadcasting of the second operand over leading axes (its shape is a suffix of the first's:
// bias, position table), scale, and the full reductions sum and mean.
#include "mae/autograd/shapes.hpp"
#include "mae/autograd/tape.hpp"

namespace mae {

namespace detail {
template <class Sa, class Sb>
std::size_t broadcast_inner(const char* op, const dims_t<Sa>& a, const dims_t<Sb>& b) {
  static_assert(is_static_suffix<Sa, Sb>,
                "binary op: the second operand's extents must equal the first operand's trailing extents");
  for (std::size_t i = 0; i < Sb::rank; ++i)
    if (a[Sa::rank - Sb::rank + i] != b[i])
      throw error(std::string(op) + ": shapes " + to_string(a) + " and " + to_string(b) + " do not broadcast");
  return product(b);
}
}  // namespace detail

template <class T, class Sa, class Sb, class B>
Var<T, Sa, B> add(Tape<B>& tape, Var<T, Sa, B> a, Var<T, Sb, B> b) {
  const std::size_t inner = detail::broadcast_inner<Sa, Sb>("add", a.dims, b.dims), outer = a.size() / inner;
  auto y = tape.template output<T, Sa>(a.dims, a, b);
  kernels<B>::add_rowvec(a.value, b.value, y.value, outer, inner);
  if (y.grad) {
    struct Node {
      T *da, *db;
      const T* dy;
      std::size_t outer, inner;
      void backward() const {
        if (da) kernels<B>::accumulate(da, dy, outer * inner);
        if (db) kernels<B>::sum_outer_accumulate(dy, db, outer, inner);
      }
    };
    tape.record(Node{a.grad, b.grad, y.grad, outer, inner});
  }
  tape.check("add", y);
  return y;
}

template <class T, class Sa, class Sb, class B>
Var<T, Sa, B> sub(Tape<B>& tape, Var<T, Sa, B> a, Var<T, Sb, B> b) {
  const std::size_t inner = detail::broadcast_inner<Sa, Sb>("sub", a.dims, b.dims), outer = a.size() / inner;
  auto y = tape.template output<T, Sa>(a.dims, a, b);
  kernels<B>::sub_rowvec(a.value, b.value, y.value, outer, inner);
  if (y.grad) {
    struct Node {
      T *da, *db, *neg;
      const T* dy;
      std::size_t outer, inner;
      void backward() const {
        if (da) kernels<B>::accumulate(da, dy, outer * inner);
        if (db) {
          kernels<B>::zero(neg, inner);
          kernels<B>::sum_outer_accumulate(dy, neg, outer, inner);
          kernels<B>::axpy(T(-1), neg, db, inner);
        }
      }
    };
    tape.record(Node{a.grad, b.grad, b.grad ? tape.template scratch<T>(inner) : nullptr, y.grad, outer, inner});
  }
  tape.check("sub", y);
  return y;
}

template <class T, class Sa, class Sb, class B>
Var<T, Sa, B> mul(Tape<B>& tape, Var<T, Sa, B> a, Var<T, Sb, B> b) {
  const std::size_t inner = detail::broadcast_inner<Sa, Sb>("mul", a.dims, b.dims), outer = a.size() / inner;
  auto y = tape.template output<T, Sa>(a.dims, a, b);
  kernels<B>::mul_rowvec(a.value, b.value, y.value, outer, inner);
  if (y.grad) {
    struct Node {
      Var<T, Sa, B> a;
      Var<T, Sb, B> b;
      const T* dy;
      T* scratch;  // dy * a, before it is summed over the broadcast axes
      std::size_t outer, inner;
      void backward() const {
        if (a.grad) kernels<B>::mul_rowvec_accumulate(dy, b.value, a.grad, outer, inner);
        if (b.grad) {
          kernels<B>::mul_rowvec(dy, a.value, scratch, 1, outer * inner);
          kernels<B>::sum_outer_accumulate(scratch, b.grad, outer, inner);
        }
      }
    };
    tape.record(Node{a, b, y.grad, b.grad ? tape.template scratch<T>(a.size()) : nullptr, outer, inner});
  }
  tape.check("mul", y);
  return y;
}

template <class T, class S, class B>
Var<T, S, B> scale(Tape<B>& tape, Var<T, S, B> x, T s) {
  auto y = tape.template output<T, S>(x.dims, x);
  kernels<B>::zero(y.value, y.size());
  kernels<B>::axpy(s, x.value, y.value, x.size());
  if (y.grad) {
    struct Node {
      T* dx;
      const T* dy;
      T s;
      std::size_t n;
      void backward() const { kernels<B>::axpy(s, dy, dx, n); }
    };
    tape.record(Node{x.grad, y.grad, s, x.size()});
  }
  tape.check("scale", y);
  return y;
}

template <class T, class S, class B>
Var<T, Shape<>, B> sum(Tape<B>& tape, Var<T, S, B> x, T factor = T(1)) {
  auto y = tape.template output<T, Shape<>>({}, x);
  kernels<B>::sum(x.value, x.size(), factor, y.value);
  if (y.grad) {
    struct Node {
      T* dx;
      const T* dy;
      T factor;
      std::size_t n;
      void backward() const { kernels<B>::add_scalar_from(dy, factor, dx, n); }
    };
    tape.record(Node{x.grad, y.grad, factor, x.size()});
  }
  tape.check("sum", y);
  return y;
}

template <class T, class S, class B>
Var<T, Shape<>, B> mean(Tape<B>& tape, Var<T, S, B> x) {
  return sum(tape, x, T(1) / static_cast<T>(x.size()));
}

}  // namespace mae
