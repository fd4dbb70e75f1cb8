#pragma once
// What the fuzz harnesses (libFuzzer, clang) and the corpus replay test (doctest, g++) share: each
// target runs one input through mae's entry points and reports, per stage, whether it was accepted
// or the mae::error it raised. Anything else is a bug: a crash or sanitizer report, an exception that
// is not mae::error, or a broken invariant, which throws InvariantViolation (not a mae::error, so
// under libFuzzer it escapes and counts as a crash).
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <span>
#include <vector>

#include "mae/core/error.hpp"

namespace mae::fuzz {

struct InvariantViolation : std::logic_error {
  using std::logic_error::logic_error;
};

inline void require(bool ok, const std::string& what) {
  if (!ok) throw InvariantViolation("fuzz invariant broken: " + what);
}

struct Stage {
  std::string name;     // e.g. "parse", "weights", "checkpoint"
  bool accepted;
  std::string message;  // the mae::error's text when rejected
};

using Stages = std::vector<Stage>;

// Runs `f`; records it as accepted, or rejected with a clean mae::error whose text starts with one of
// `prefixes` (the operation and the file it names). Returns whether it was accepted.
template <class F>
bool run_stage(Stages& out, const std::string& name, std::initializer_list<const char*> prefixes, F&& f) {
  try {
    f();
    out.push_back({name, true, {}});
    return true;
  } catch (const mae::error& e) {
    const std::string what = e.what();
    bool named = false;
    for (const char* p : prefixes) named = named || what.rfind(p, 0) == 0;
    require(named, "stage '" + name + "': the message does not name the operation: " + what);
    out.push_back({name, false, what});
    return false;
  }
}

inline std::span<const std::byte> as_bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

}  // namespace mae::fuzz
