#pragma once
// Fuzz target: decode_idx on plain or gzip'ed IDX bytes.
#include "mae/io/idx.hpp"
#include "target.hpp"

namespace mae::fuzz {

inline Stages idx(std::span<const std::byte> bytes) {
  Stages out;
  run_stage(out, "decode", {"IDX '"}, [&] {
    const IdxArray a = decode_idx(bytes, "fuzz.idx");
    std::size_t n = 1;
    for (std::size_t d : a.dims) n *= d;
    require(!a.dims.empty() && a.dims.size() <= 8, "decode_idx returned " + std::to_string(a.dims.size()) + " dims");
    require(a.data.size() == n, "decode_idx: data size != product of the dims");
  });
  return out;
}

}  // namespace mae::fuzz
