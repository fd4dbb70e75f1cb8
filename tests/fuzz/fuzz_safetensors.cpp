// libFuzzer harness: see target_safetensors.hpp and docs/reliability.md (scripts/fuzz.sh builds and runs it).
#include "target_safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mae::fuzz::safetensors(mae::fuzz::as_bytes(data, size));
  return 0;
}
