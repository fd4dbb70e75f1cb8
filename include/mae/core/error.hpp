#pragma once
// The one exception type of mae: every message names the operation and the offending values.
#include <stdexcept>
#include <string>

namespace mae {

struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws in every build mode: run-time shape and input checks are never compiled out.
#define MAE_CHECK(cond, msg)                                   \
  do {                                                         \
    if (!(cond)) [[unlikely]] throw ::mae::error(msg);         \
  } while (0)

}  // namespace mae
