#pragma once
// Crash-safe file replacement (POSIX): readers of `path` see either the old file or the complete new
// one, never a partial write, even if the process is killed or the machine loses power mid-save.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>

#include "mae/core/error.hpp"

namespace mae {

namespace detail {
inline std::string parent_directory(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}
}  // namespace detail

// Writes the concatenation of `parts` to `path.tmp.<pid>.<n>` in the same directory (rename is atomic only within one
// file system), fsyncs it, renames it over `path`, then fsyncs the directory so that the rename
// itself survives a power loss. On any failure the temporary is removed, `path` keeps its old
// content, and mae::error names the step, the path and the system's reason. A process killed
// mid-write can leave a `*.tmp.*` file behind; it is never read as `path`.
inline void write_file_atomic(const std::string& path,
                              std::span<const std::span<const std::byte>> parts) {
  static std::atomic<unsigned> counter{0};  // distinct temporaries for concurrent writers
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                          std::to_string(counter.fetch_add(1));
  const auto fail = [&](const char* step, int err) {
    ::unlink(tmp.c_str());  // harmless when it no longer exists (after the rename)
    throw error("write_file_atomic: " + std::string(step) + " failed for '" + path +
                "' (temporary '" + tmp + "'): " + std::strerror(err));
  };

  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) fail("create temporary", errno);
  for (std::span<const std::byte> part : parts) {
    const std::byte* p = part.data();
    std::size_t left = part.size();
    while (left > 0) {
      const ::ssize_t n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int err = n < 0 ? errno : EIO;
        ::close(fd);
        fail("write", err);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail("fsync", err);
  }
  if (::close(fd) != 0) fail("close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename", errno);

  // The new content is in place; a failed directory fsync only weakens durability, but report it.
  const std::string dir = detail::parent_directory(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail("open directory for fsync", errno);
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0) fail("fsync directory", err);
}

inline void write_file_atomic(const std::string& path, std::span<const std::byte> bytes) {
  write_file_atomic(path, std::span<const std::span<const std::byte>>(&bytes, 1));
}

}  // namespace mae
