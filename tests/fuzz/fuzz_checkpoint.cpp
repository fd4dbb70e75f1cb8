// libFuzzer harness: see target_checkpoint.hpp and docs/reliability.md (scripts/fuzz.sh builds and runs it).
#include "target_checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mae::fuzz::checkpoint(mae::fuzz::as_bytes(data, size));
  return 0;
}
