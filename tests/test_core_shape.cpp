// Shapes and broadcasting rules: constexpr (checked by static_assert) and at run time.
#include <doctest/doctest.h>

#include <array>
#include <string>
#include <type_traits>

#include "mae/core/broadcast.hpp"
#include "mae/core/matmul.hpp"
#include "mae/core/shape.hpp"

using mae::dyn;
using mae::Shape;
using A2 = std::array<std::size_t, 2>;
using A3 = std::array<std::size_t, 3>;

// --- compile time ---
static_assert(Shape<>::rank == 0 && Shape<4, 8>::rank == 2);
static_assert(mae::is_static_shape<Shape<4, 8>> && !mae::is_static_shape<Shape<dyn, 8>> && mae::is_static_shape<Shape<>>);
static_assert(mae::static_size<Shape<4, 8>> == 32 && mae::static_size<Shape<dyn, 8>> == 8 &&
              mae::static_size<Shape<>> == 1);
static_assert(mae::product(A3{2, 3, 4}) == 24);
static_assert(mae::dense_strides(A3{2, 3, 4}) == A3{12, 4, 1});
static_assert(mae::count_dyn(Shape<dyn, 3, dyn>::extents) == 2);
static_assert(mae::drop_axis(A3{2, 3, 4}, 1) == A2{2, 4});
static_assert(mae::set_axis(A3{2, 3, 4}, 2, dyn) == A3{2, 3, dyn});
static_assert(mae::leading_extents<1>(A3{2, 3, 4}) == std::array<std::size_t, 1>{2});
static_assert(std::is_same_v<mae::shape_from_extents<A3{5, dyn, 7}>, Shape<5, dyn, 7>>);
static_assert(std::is_same_v<mae::shape_from_extents<std::array<std::size_t, 0>{}>, Shape<>>);
static_assert(mae::extents_compatible(A2{dyn, 3}, A2{4, 3}) && !mae::extents_compatible(A2{4, 3}, A2{4, 2}));

// Broadcasting of static shapes: right-aligned, 1 stretches, dyn decided at run time.
static_assert(std::is_same_v<mae::broadcast_t<Shape<4, 8>, Shape<4, 8>>, Shape<4, 8>>);
static_assert(std::is_same_v<mae::broadcast_t<Shape<dyn, 49, 128>, Shape<128>>, Shape<dyn, 49, 128>>);
static_assert(std::is_same_v<mae::broadcast_t<Shape<3, 1, 5>, Shape<4, 1>>, Shape<3, 4, 5>>);
static_assert(std::is_same_v<mae::broadcast_t<Shape<dyn, 1>, Shape<7>>, Shape<dyn, 7>>);
static_assert(std::is_same_v<mae::broadcast_t<Shape<dyn>, Shape<7>>, Shape<7>>);  // dyn must be 7 or 1
static_assert(std::is_same_v<mae::broadcast_t<Shape<dyn>, Shape<1>>, Shape<dyn>>);
static_assert(std::is_same_v<mae::broadcast_t<Shape<dyn>, Shape<dyn>>, Shape<dyn>>);
static_assert(std::is_same_v<mae::broadcast_t<Shape<>, Shape<2, 3>>, Shape<2, 3>>);
static_assert(!mae::extents_broadcast(Shape<4, 8>::extents, Shape<4, 9>::extents));
static_assert(mae::extents_broadcast(Shape<4, dyn>::extents, Shape<4, 9>::extents));
static_assert(mae::extents_broadcast_to(Shape<1, 8>::extents, Shape<4, 8>::extents));
static_assert(mae::extents_broadcast_to(Shape<8>::extents, Shape<dyn, 8>::extents));
static_assert(!mae::extents_broadcast_to(Shape<4, 8>::extents, Shape<8>::extents));  // more axes than dst
static_assert(!mae::extents_broadcast_to(Shape<4, 9>::extents, Shape<4, 8>::extents));
static_assert(!mae::extents_broadcast_to(Shape<4, 8>::extents, Shape<1, 8>::extents));  // dst never stretches

// Matmul shape rules.
static_assert(std::is_same_v<mae::matmul_shapes_must_agree<Shape<7, 13>, Shape<13, 5>>::type, Shape<7, 5>>);
static_assert(std::is_same_v<mae::matmul_shapes_must_agree<Shape<3, 7, 13>, Shape<13, 5>>::type, Shape<3, 7, 5>>);
static_assert(
    std::is_same_v<mae::matmul_shapes_must_agree<Shape<2, 1, 7, 13>, Shape<4, 13, 5>>::type, Shape<2, 4, 7, 5>>);
static_assert(std::is_same_v<mae::matmul_shapes_must_agree<Shape<dyn, 7, dyn>, Shape<13, 5>>::type, Shape<dyn, 7, 5>>);
static_assert(!mae::matmul_inner_extents_match(Shape<7, 13>::extents, Shape<12, 5>::extents));
static_assert(mae::matmul_inner_extents_match(Shape<7, dyn>::extents, Shape<12, 5>::extents));
static_assert(!mae::matmul_batch_extents_broadcast(Shape<3, 7, 13>::extents, Shape<4, 13, 5>::extents));

// --- run time ---
TEST_CASE("to_string prints dims, dyn as ?, with a chosen separator") {
  CHECK(mae::to_string(A3{64, 49, 128}) == "(64,49,128)");
  CHECK(mae::to_string(A2{dyn, 3}) == "(?,3)");
  CHECK(mae::to_string(A2{128, 64}, 'x') == "(128x64)");
  CHECK(mae::to_string(std::array<std::size_t, 0>{}) == "()");
}

TEST_CASE("resolve_dims fills dyn extents and rejects a conflict with a static one") {
  using S = Shape<dyn, 49, 128>;
  CHECK(mae::resolve_dims<S>({64, 49, 128}, "op") == A3{64, 49, 128});
  CHECK_THROWS_WITH_AS(mae::resolve_dims<S>({64, 50, 128}, "op"),
                       "op: run-time shape (64,50,128) does not fit static shape (?,49,128)", mae::error);
}

TEST_CASE("broadcast_dims: numpy rules on concrete dims") {
  CHECK(mae::broadcast_dims("add", A3{64, 49, 128}, std::array<std::size_t, 1>{128}) == A3{64, 49, 128});
  CHECK(mae::broadcast_dims("add", A3{3, 1, 5}, A2{4, 1}) == A3{3, 4, 5});
  CHECK(mae::broadcast_dims("add", A2{1, 1}, A2{1, 1}) == A2{1, 1});
  CHECK(mae::broadcast_dims("add", A2{0, 3}, A2{1, 3}) == A2{0, 3});
  CHECK_THROWS_WITH_AS(mae::broadcast_dims("add", A3{64, 49, 128}, A3{64, 50, 128}),
                       "add: shapes (64,49,128) and (64,50,128) do not broadcast", mae::error);
  CHECK_THROWS_WITH_AS(mae::broadcast_dims("mul", A2{2, 3}, std::array<std::size_t, 1>{2}),
                       "mul: shapes (2,3) and (2) do not broadcast", mae::error);
}

TEST_CASE("check_broadcast_to: the source stretches, the destination never does") {
  CHECK_NOTHROW(mae::check_broadcast_to("assign", A2{1, 8}, A3{5, 4, 8}));
  CHECK_NOTHROW(mae::check_broadcast_to("assign", std::array<std::size_t, 0>{}, A2{4, 8}));
  CHECK_THROWS_WITH_AS(mae::check_broadcast_to("assign", A2{4, 9}, A2{4, 8}), "assign: cannot broadcast (4,9) to (4,8)",
                       mae::error);
  CHECK_THROWS_WITH_AS(mae::check_broadcast_to("assign", A2{4, 8}, A2{1, 8}), "assign: cannot broadcast (4,8) to (1,8)",
                       mae::error);
  CHECK_THROWS_AS(mae::check_broadcast_to("assign", A3{1, 4, 8}, A2{4, 8}), mae::error);
}
