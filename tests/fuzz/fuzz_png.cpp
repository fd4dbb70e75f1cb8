// libFuzzer harness: see target_png.hpp and docs/reliability.md (scripts/fuzz.sh builds and runs it).
#include "target_png.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mae::fuzz::png(mae::fuzz::as_bytes(data, size));
  return 0;
}
