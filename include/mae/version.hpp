#pragma once
#define MAE_VERSION_MAJOR 0
#define MAE_VERSION_MINOR 1
#define MAE_VERSION_PATCH 0

namespace mae {
inline constexpr int version_major = MAE_VERSION_MAJOR;
inline constexpr int version_minor = MAE_VERSION_MINOR;
inline constexpr int version_patch = MAE_VERSION_PATCH;
inline constexpr const char* version_string = "0.1.0";
}  // namespace mae
