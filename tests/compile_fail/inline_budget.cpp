// A 64x64 float InlineTensor (16384 bytes) exceeds the default 4096-byte inline budget: must not compile,
// and the diagnostic states the bytes needed and the budget.
// EXPECT: exceeds its MaxBytes budget
// EXPECT: inline_bytes_within_budget<16384, 4096>
#include <mae/core/inline_tensor.hpp>

int main() {
  mae::InlineTensor<float, mae::Shape<32, 32>> fits;  // exactly 4096 bytes: allowed
  mae::InlineTensor<float, mae::Shape<64, 64>> too_big;
  fits.fill(1.f);
  too_big.fill(1.f);
}
