// Storage (heap Tensor, views over a caller's buffer, InlineTensor) and views (reshape, permute, slice).
#include <doctest/doctest.h>

#include <cstdint>
#include <type_traits>
#include <vector>

#include "mae/core/inline_tensor.hpp"
#include "mae/core/tensor.hpp"
#include "mae/core/views.hpp"

using mae::dyn;
using mae::Shape;
using mae::Tensor;
using mae::TensorView;

namespace {
// x[i] = i, so every element names its own flat index.
template <class X>
void iota(X& x) {
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(i);
}
}  // namespace

TEST_CASE("Tensor: heap storage, aligned, element access, fill, copy_from, move") {
  Tensor<float, Shape<dyn, 3, 5>> t({2, 3, 5});
  CHECK(t.dims() == std::array<std::size_t, 3>{2, 3, 5});
  CHECK(t.size() == 30);
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  iota(t);
  CHECK(t(1, 2, 4) == 29.f);
  CHECK(t(0, 1, 0) == 5.f);
  t.fill(2.5f);
  CHECK(t(1, 1, 1) == 2.5f);
  Tensor<float, Shape<dyn, 3, 5>> u({2, 3, 5});
  u.copy_from(t);
  CHECK(u(0, 2, 3) == 2.5f);
  Tensor<float, Shape<dyn, 3, 5>> v(std::move(u));
  CHECK(v(1, 0, 0) == 2.5f);
  CHECK(u.data() == nullptr);
  Tensor<float, Shape<dyn, 3, 5>> w({3, 3, 5});
  CHECK_THROWS_WITH_AS(w.copy_from(v), "copy_from: shapes (3,3,5) and (2,3,5) differ", mae::error);
  using T35 = Tensor<float, Shape<dyn, 3, 5>>;
  CHECK_THROWS_AS(T35({2, 4, 5}), mae::error);  // static extent 3 violated
}

TEST_CASE("make_view: a non-owning view over a caller's buffer") {
  std::vector<float> buffer(12);
  auto v = mae::make_view<Shape<dyn, 4>>(buffer.data(), {3, 4});
  static_assert(std::is_same_v<decltype(v), TensorView<float, Shape<dyn, 4>>>);
  CHECK(v.strides() == std::array<std::size_t, 2>{4, 1});
  v(2, 1) = 7.f;
  CHECK(buffer[9] == 7.f);
  v.fill(1.f);
  CHECK(buffer[0] == 1.f);
  CHECK(buffer[11] == 1.f);
  auto s = mae::make_view<Shape<3, 4>>(buffer.data());
  CHECK(s.dims() == std::array<std::size_t, 2>{3, 4});
  const std::vector<float>& cbuffer = buffer;
  auto cv = mae::make_view<Shape<12>>(cbuffer.data());
  static_assert(std::is_same_v<decltype(cv), TensorView<const float, Shape<12>>>);
  TensorView<const float, Shape<dyn, 4>> converted = v;  // writable -> read-only
  CHECK(converted(1, 1) == 1.f);
}

TEST_CASE("reshape: same elements, static or inferred extents, checked sizes") {
  Tensor<float, Shape<dyn, 3, 4>> t({2, 3, 4});
  iota(t);
  auto flat = mae::reshape<Shape<dyn, 4>>(t);  // dyn inferred: 6
  static_assert(std::is_same_v<decltype(flat), TensorView<float, Shape<dyn, 4>>>);
  CHECK(flat.dims() == std::array<std::size_t, 2>{6, 4});
  CHECK(flat(5, 3) == 23.f);
  auto fixed = mae::reshape<Shape<4, 6>>(t);
  CHECK(fixed(3, 5) == 23.f);
  fixed(0, 1) = -1.f;  // writes through to t
  CHECK(t(0, 0, 1) == -1.f);
  auto explicit_dims = mae::reshape<Shape<dyn, dyn>>(t, {3, 8});
  CHECK(explicit_dims(2, 7) == 23.f);
  using Any2 = Shape<dyn, dyn>;
  using Dyn5 = Shape<dyn, 5>;
  CHECK_THROWS_WITH_AS(mae::reshape<Any2>(t, {5, 5}), "reshape: (2,3,4) to (5,5) changes the number of elements",
                       mae::error);
  CHECK_THROWS_WITH_AS(mae::reshape<Dyn5>(t), "reshape: (2,3,4) to (?,5) changes the number of elements", mae::error);
  auto transposed = mae::permute<1, 0>(flat);
  CHECK_THROWS_WITH_AS(mae::reshape<Shape<24>>(transposed),
                       "reshape: the view of (4,6) with strides (1,4) is not contiguous; eval() it first", mae::error);
  const auto& ct = t;
  auto ro = mae::reshape<Shape<24>>(ct);
  static_assert(std::is_same_v<decltype(ro), TensorView<const float, Shape<24>>>);
  CHECK(ro(23) == 23.f);
}

TEST_CASE("permute: a strided view with axes reordered") {
  Tensor<float, Shape<2, 3, 4>> t;
  iota(t);
  auto p = mae::permute<2, 0, 1>(t);
  static_assert(std::is_same_v<decltype(p), TensorView<float, Shape<4, 2, 3>>>);
  CHECK(p.strides() == std::array<std::size_t, 3>{1, 12, 4});
  CHECK(!p.is_contiguous());
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t k = 0; k < 4; ++k) CHECK(p(k, i, j) == t(i, j, k));
  auto back = mae::permute<1, 2, 0>(p);
  CHECK(back.is_contiguous());
  CHECK(back(1, 2, 3) == t(1, 2, 3));
  Tensor<float, Shape<dyn, 5>> d({3, 5});
  auto dt = mae::permute<1, 0>(d);
  static_assert(std::is_same_v<decltype(dt), TensorView<float, Shape<5, dyn>>>);
  CHECK(dt.dims() == std::array<std::size_t, 2>{5, 3});
}

TEST_CASE("slice: a dyn or static range along one axis") {
  Tensor<float, Shape<dyn, 5, 4>> t({3, 5, 4});
  iota(t);
  auto s = mae::slice<1>(t, 1, 3);
  static_assert(std::is_same_v<decltype(s), TensorView<float, Shape<dyn, dyn, 4>>>);
  CHECK(s.dims() == std::array<std::size_t, 3>{3, 3, 4});
  CHECK(s(2, 0, 1) == t(2, 1, 1));
  CHECK(s(0, 2, 3) == t(0, 3, 3));
  auto fixed = mae::slice<2, 2>(t, 2);
  static_assert(std::is_same_v<decltype(fixed), TensorView<float, Shape<dyn, 5, 2>>>);
  CHECK(fixed(1, 4, 1) == t(1, 4, 3));
  auto nested = mae::slice<0>(s, 2, 1);  // slice of a slice
  CHECK(nested(0, 1, 2) == t(2, 2, 2));
  nested.fill(-1.f);  // writes only the selected elements
  CHECK(t(2, 1, 0) == -1.f);
  CHECK(t(2, 3, 3) == -1.f);
  CHECK(t(2, 0, 0) == 40.f);
  CHECK(t(2, 4, 3) == 59.f);
  CHECK(t(1, 2, 2) == 30.f);
  CHECK(mae::slice<1>(t, 5, 0).size() == 0);  // an empty range at the end is valid
  CHECK_THROWS_WITH_AS(mae::slice<1>(t, 3, 3), "slice: [3, 6) is out of range for axis 1 of (3,5,4)", mae::error);
  CHECK_THROWS_AS((mae::slice<0, 2>(t, 2)), mae::error);
}

TEST_CASE("TensorView copy_from: between different strides, same dims") {
  Tensor<float, Shape<3, 4>> a;
  iota(a);
  Tensor<float, Shape<4, 3>> b;
  mae::permute<1, 0>(b).copy_from(a.view());  // b = aᵀ through a strided destination
  CHECK(b(3, 2) == a(2, 3));
  CHECK(b(1, 0) == a(0, 1));
  // Differing static shapes do not compile; differing run-time dims throw.
  auto any_b = mae::make_view<Shape<dyn, dyn>>(b.data(), {4, 3});
  CHECK_THROWS_WITH_AS(any_b.copy_from(mae::make_view<Shape<dyn, dyn>>(a.data(), {3, 4})),
                       "copy_from: shapes (4,3) and (3,4) differ", mae::error);
}

TEST_CASE("InlineTensor: inline storage within a byte budget") {
  using Small = mae::InlineTensor<float, Shape<4, 4>>;
  static_assert(sizeof(Small) >= 64 && sizeof(Small) <= 128);  // the elements are inside the object
  static_assert(alignof(Small) == 64);
  static_assert(Small::max_bytes == 4096);
  static_assert(sizeof(mae::InlineTensor<double, Shape<512>>) == 4096);  // exactly the default budget
  static_assert(mae::InlineTensor<float, Shape<64, 64>, 16384>::size() == 4096);  // budget raised explicitly
  Small a;
  CHECK(a(3, 3) == 0.f);  // zero-filled
  a(1, 2) = 5.f;
  Small b = a;  // value semantics: a real copy
  b(1, 2) = 6.f;
  CHECK(a(1, 2) == 5.f);
  CHECK(b(1, 2) == 6.f);
  a.fill(2.f);
  b = a * 3.f + 1.f;  // expressions evaluate into inline storage too
  CHECK(b(0, 0) == 7.f);
  Tensor<float, Shape<dyn, 4, 4>> heap({2, 4, 4});
  heap = b;  // broadcast inline -> heap
  CHECK(heap(1, 3, 2) == 7.f);
  auto row = mae::slice<0, 1>(b, 2);
  row.fill(0.f);
  CHECK(b(2, 1) == 0.f);
  CHECK(b(1, 1) == 7.f);
  b.copy_from(a);
  CHECK(b(2, 1) == 2.f);
}
