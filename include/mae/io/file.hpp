#pragma once
// Whole-file reads with errors that name the file and the system's reason.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "mae/core/error.hpp"

namespace mae {

// Reads a regular file completely. Files larger than max_bytes are refused before any allocation.
inline std::vector<std::byte> read_file(const std::string& path,
                                        std::size_t max_bytes = std::size_t{1} << 40) {
  const auto fail = [&](const std::string& what) {
    throw error("read_file: cannot read '" + path + "': " + what);
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(std::strerror(errno));
  struct ::stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > max_bytes) {
    ::close(fd);
    fail("size " + std::to_string(size) + " bytes exceeds the limit of " +
         std::to_string(max_bytes));
  }
  std::vector<std::byte> bytes(size);
  std::size_t done = 0;
  while (done < size) {
    const ::ssize_t n = ::read(fd, bytes.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      fail(n == 0 ? "file shrank while being read" : std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return bytes;
}

}  // namespace mae
