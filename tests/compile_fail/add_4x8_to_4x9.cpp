// Adding a (4,8) tensor to a (4,9) tensor: static extents that do not broadcast must not compile, and the
// diagnostic must name both shapes.
// EXPECT: static extents do not broadcast
// EXPECT: Shape<4, 8>
// EXPECT: Shape<4, 9>
#include <mae/core/tensor.hpp>

int main() {
  mae::Tensor<float, mae::Shape<4, 8>> a;
  mae::Tensor<float, mae::Shape<4, 9>> b;
  mae::Tensor<float, mae::Shape<4, 8>> c;
  c = a + b;
}
