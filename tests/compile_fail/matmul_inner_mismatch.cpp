// (7,13) x (12,5): inner extents that differ statically must not compile, and the diagnostic must name
// both shapes.
// EXPECT: matmul: inner extents differ
// EXPECT: matmul_shapes_must_agree<mae::Shape<7, 13>, mae::Shape<12, 5> >
#include <mae/core/matmul.hpp>

int main() {
  mae::Tensor<float, mae::Shape<7, 13>> a;
  mae::Tensor<float, mae::Shape<12, 5>> b;
  auto c = mae::matmul(a, b);
  (void)c;
}
