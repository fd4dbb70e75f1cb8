#pragma once
// Broadcasting (numpy rules): shapes are right-aligned, a missing axis counts as 1, and two extents
// broadcast when they are equal or one of them is 1. Static extents are checked at compile time, the
// rest at run time (always, also with NDEBUG).
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>

#include "mae/core/error.hpp"
#include "mae/core/shape.hpp"

namespace mae {

// False only when two STATIC extents conflict; a dyn extent is decided at run time.
template <std::size_t RA, std::size_t RB>
constexpr bool extents_broadcast(const std::array<std::size_t, RA>& a, const std::array<std::size_t, RB>& b) {
  for (std::size_t i = 0; i < std::min(RA, RB); ++i) {
    const std::size_t x = a[RA - 1 - i], y = b[RB - 1 - i];
    if (x != dyn && y != dyn && x != y && x != 1 && y != 1) return false;
  }
  return true;
}

// The static broadcast extents. A dyn extent against a static one other than 1 is that static extent
// (the run-time check makes it so); against 1 or dyn it stays dyn.
template <std::size_t RA, std::size_t RB>
constexpr std::array<std::size_t, std::max(RA, RB)> broadcast_extents(const std::array<std::size_t, RA>& a,
                                                                      const std::array<std::size_t, RB>& b) {
  constexpr std::size_t R = std::max(RA, RB);
  std::array<std::size_t, R> out{};
  for (std::size_t i = 0; i < R; ++i) {
    const std::size_t x = i < RA ? a[RA - 1 - i] : 1, y = i < RB ? b[RB - 1 - i] : 1;
    std::size_t e;
    if (x == 1) e = y;
    else if (y == 1) e = x;
    else if (x == dyn) e = y;
    else e = x;  // y == x, y == dyn, or a conflict already reported by extents_broadcast
    out[R - 1 - i] = e;
  }
  return out;
}

// The two shapes are this template's arguments, so g++ prints them in the "required from" lines.
template <class SA, class SB>
struct shapes_must_broadcast {
  static_assert(extents_broadcast(SA::extents, SB::extents),
                "static extents do not broadcast: right-aligned extents must be equal or 1 (the two shapes are the "
                "template arguments of mae::shapes_must_broadcast)");
  using type = shape_from_extents<broadcast_extents(SA::extents, SB::extents)>;
};

template <class SA, class SB>
using broadcast_t = typename shapes_must_broadcast<SA, SB>::type;

// Run-time broadcast of concrete dims; false on a mismatch.
template <std::size_t RA, std::size_t RB>
constexpr bool try_broadcast_dims(const std::array<std::size_t, RA>& a, const std::array<std::size_t, RB>& b,
                                  std::array<std::size_t, std::max(RA, RB)>& out) {
  constexpr std::size_t R = std::max(RA, RB);
  for (std::size_t i = 0; i < R; ++i) {
    const std::size_t x = i < RA ? a[RA - 1 - i] : 1, y = i < RB ? b[RB - 1 - i] : 1;
    if (x != y && x != 1 && y != 1) return false;
    out[R - 1 - i] = x == 1 ? y : x;
  }
  return true;
}

// Throws "op: shapes (64,49,128) and (64,50,128) do not broadcast".
template <std::size_t RA, std::size_t RB>
std::array<std::size_t, std::max(RA, RB)> broadcast_dims(const char* op, const std::array<std::size_t, RA>& a,
                                                         const std::array<std::size_t, RB>& b) {
  std::array<std::size_t, std::max(RA, RB)> out{};
  if (!try_broadcast_dims(a, b, out))
    throw error(std::string(op) + ": shapes " + to_string(a) + " and " + to_string(b) + " do not broadcast");
  return out;
}

// Broadcasting `from` INTO a destination of extents `to` (assignment): `from` has no more axes, and each of
// its extents is 1 or the destination's. False only for a conflict between static extents.
template <std::size_t RF, std::size_t RT>
constexpr bool extents_broadcast_to(const std::array<std::size_t, RF>& from, const std::array<std::size_t, RT>& to) {
  if (RF > RT) return false;
  for (std::size_t i = 0; i < RF; ++i) {
    const std::size_t f = from[RF - 1 - i], t = to[RT - 1 - i];
    if (f != dyn && t != dyn && f != 1 && f != t) return false;
  }
  return true;
}

template <class From, class To>
struct shape_must_broadcast_to {
  static_assert(extents_broadcast_to(From::extents, To::extents),
                "the expression's static shape does not broadcast to the destination's (the template arguments of "
                "mae::shape_must_broadcast_to are <expression shape, destination shape>)");
  static constexpr bool value = true;
};

// Throws "op: cannot broadcast (4,9) to (4,8)".
template <std::size_t RF, std::size_t RT>
void check_broadcast_to(const char* op, const std::array<std::size_t, RF>& from,
                        const std::array<std::size_t, RT>& to) {
  bool ok = RF <= RT;
  for (std::size_t i = 0; ok && i < RF; ++i) {
    const std::size_t f = from[RF - 1 - i];
    ok = f == 1 || f == to[RT - 1 - i];
  }
  if (!ok) throw error(std::string(op) + ": cannot broadcast " + to_string(from) + " to " + to_string(to));
}

}  // namespace mae
