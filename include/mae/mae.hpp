#pragma once
// Umbrella header: everything a user of mae needs. Headers still being written are included only once
// they exist, so the umbrella builds at every stage of the tree.
#include "mae/version.hpp"
#include "mae/core/error.hpp"

#if __has_include("mae/core/shape.hpp")
#include "mae/core/shape.hpp"
#endif
#if __has_include("mae/core/backend.hpp")
#include "mae/core/backend.hpp"
#endif
#if __has_include("mae/core/tensor.hpp")
#include "mae/core/tensor.hpp"
#endif
