// The umbrella header is self-contained and agrees with the version CMake was configured with.
#include <doctest/doctest.h>

#include <mae/mae.hpp>

#include <string>

TEST_CASE("mae.hpp exposes the configured version") {
  CHECK(mae::version_major == MAE_EXPECTED_VERSION_MAJOR);
  CHECK(mae::version_minor == MAE_EXPECTED_VERSION_MINOR);
  CHECK(mae::version_patch == MAE_EXPECTED_VERSION_PATCH);
  const std::string expected = std::to_string(MAE_EXPECTED_VERSION_MAJOR) + "." +
                               std::to_string(MAE_EXPECTED_VERSION_MINOR) + "." +
                               std::to_string(MAE_EXPECTED_VERSION_PATCH);
  CHECK(std::string(mae::version_string) == expected);
}

TEST_CASE("MAE_CHECK throws mae::error with the message") {
  CHECK_THROWS_WITH_AS(MAE_CHECK(1 + 1 == 3, "smoke: 2 != 3"), "smoke: 2 != 3", mae::error);
  CHECK_NOTHROW(MAE_CHECK(1 + 1 == 2, "never thrown"));
}
