#pragma once
// Fuzz target: SafetensorsFile::from_memory, then every typed read, then a write/re-read round trip.
#include <cstring>
#include <map>

#include "mae/io/safetensors.hpp"
#include "target.hpp"

namespace mae::fuzz {

inline Stages safetensors(std::span<const std::byte> bytes) {
  Stages out;
  run_stage(out, "parse", {"safetensors '"}, [&] {
    const SafetensorsFile f = SafetensorsFile::from_memory(bytes, "fuzz.safetensors");
    const std::byte* const lo = bytes.data();
    const std::byte* const hi = bytes.data() + bytes.size();
    SafetensorsWriter w;
    for (const TensorInfo& t : f.tensors()) {
      const std::span<const std::byte> b = f.bytes(t);
      require(b.data() >= lo && b.data() + b.size() <= hi, "tensor '" + t.name + "' outside the input");
      require(b.size() == t.numel() * safetensors_dtype_size(t.dtype),
              "tensor '" + t.name + "': byte count != numel * dtype size");
      require(f.find(t.name) == &t, "find('" + t.name + "') does not return its entry");
      const bool is_float = t.dtype == "F32" || t.dtype == "F64" || t.dtype == "F16" || t.dtype == "BF16";
      const bool is_int = t.dtype == "I64" || t.dtype == "I32";
      // Typed reads succeed exactly for the dtypes they document; otherwise a clean mae::error.
      const auto typed = [&](bool expected, auto read) {
        try {
          require(read().size() == t.numel(), "typed read of '" + t.name + "' has the wrong size");
          require(expected, "typed read of '" + t.name + "' (" + t.dtype + ") should have failed");
        } catch (const mae::error&) {
          require(!expected, "typed read of '" + t.name + "' (" + t.dtype + ") failed");
        }
      };
      typed(is_float, [&] { return f.read_f32(t.name); });
      typed(is_float, [&] { return f.read_f64(t.name); });
      typed(is_int, [&] { return f.read_i64(t.name); });
      w.add_raw(t.name, t.dtype, t.shape, b);
    }
    // Whatever the reader accepts, the writer writes back and the reader reads again unchanged.
    for (const auto& [k, v] : f.metadata()) w.set_metadata(k, v);
    const std::vector<std::byte> again = w.to_bytes();
    const SafetensorsFile g = SafetensorsFile::from_memory(again, "fuzz-rewritten.safetensors");
    require(g.tensors().size() == f.tensors().size(), "round trip changed the tensor count");
    for (std::size_t i = 0; i < f.tensors().size(); ++i) {
      const TensorInfo &a = f.tensors()[i], &b = g.tensors()[i];
      const auto ba = f.bytes(a), bb = g.bytes(b);
      require(a.name == b.name && a.dtype == b.dtype && a.shape == b.shape && ba.size() == bb.size() &&
                  (ba.empty() || std::memcmp(ba.data(), bb.data(), ba.size()) == 0),
              "round trip changed tensor '" + a.name + "'");
    }
    std::map<std::string, std::string> meta = f.metadata();
    meta.emplace("format", "pt");  // the writer adds it when absent
    require(g.metadata() == meta, "round trip changed the metadata");
  });
  return out;
}

}  // namespace mae::fuzz
