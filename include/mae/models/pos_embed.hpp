#pragma once
// Fixed 2-D sin-cos position table (MAE_SPEC §2): (1 + grid², D), row 0 (cls) all zeros; for token
// t = i*grid + j: [sin(j ω), cos(j ω), sin(i ω), cos(i ω)] in blocks of D/4, ω_k = 10000^(-k/(D/4)) in float64.
#include <cmath>
#include <cstddef>

namespace mae {

template <class T>
void sincos_2d_table(T* table, std::size_t dim, std::size_t grid) {
  const std::size_t q = dim / 4;
  for (std::size_t k = 0; k < dim; ++k) table[k] = T(0);
  for (std::size_t i = 0; i < grid; ++i)
    for (std::size_t j = 0; j < grid; ++j) {
      T* row = table + (1 + i * grid + j) * dim;
      for (std::size_t k = 0; k < q; ++k) {
        const double omega = 1.0 / std::pow(10000.0, static_cast<double>(k) / static_cast<double>(q));
        const double col = static_cast<double>(j) * omega, rw = static_cast<double>(i) * omega;
        row[k] = static_cast<T>(static_cast<float>(std::sin(col)));
        row[q + k] = static_cast<T>(static_cast<float>(std::cos(col)));
        row[2 * q + k] = static_cast<T>(static_cast<float>(std::sin(rw)));
        row[3 * q + k] = static_cast<T>(static_cast<float>(std::cos(rw)));
      }
    }
}

}  // namespace mae
