// One expression over tensors of two backends must not compile; the diagnostic names both backends.
// EXPECT: mixes two backends
// EXPECT: backends_must_match<mae::backends::cpu, other_backend>
#include <mae/core/tensor.hpp>

struct other_backend {};  // a second host backend, only for this test
template <>
struct mae::backend_traits<other_backend> : mae::backend_traits<mae::backends::cpu> {};

int main() {
  mae::Tensor<float, mae::Shape<4, 8>> a;
  mae::Tensor<float, mae::Shape<4, 8>, other_backend> b;
  mae::Tensor<float, mae::Shape<4, 8>> c;
  c = a + b;
}
