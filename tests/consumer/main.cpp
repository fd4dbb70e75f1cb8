// Consumer check: the public header is found and reports the version the build was configured with.
#include <mae/mae.hpp>

#include <cstdio>
#include <cstring>

int main() {
  std::printf("mae consumer: version %s\n", mae::version_string);
  if (std::strcmp(mae::version_string, MAE_EXPECTED_VERSION) != 0) {
    std::fprintf(stderr, "mae consumer: expected version %s\n", MAE_EXPECTED_VERSION);
    return 1;
  }
  return 0;
}
