// libFuzzer harness: see target_idx.hpp and docs/reliability.md (scripts/fuzz.sh builds and runs it).
#include "target_idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mae::fuzz::idx(mae::fuzz::as_bytes(data, size));
  return 0;
}
