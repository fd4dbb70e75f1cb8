#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "mae/io/atomic_file.hpp"
#include "mae/io/file.hpp"

namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("mae_test_atomic_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
    return names;
  }
};

std::vector<std::byte> filled(std::size_t n, unsigned char v) {
  return std::vector<std::byte>(n, std::byte{v});
}

}  // namespace

TEST_CASE("write_file_atomic creates and replaces, leaving no temporary behind") {
  const TempDir dir;
  const std::string path = (dir.path / "w.bin").string();
  mae::write_file_atomic(path, filled(1000, 1));
  CHECK(mae::read_file(path) == filled(1000, 1));
  mae::write_file_atomic(path, filled(10, 2));
  CHECK(mae::read_file(path) == filled(10, 2));
  mae::write_file_atomic(path, std::vector<std::byte>{});
  CHECK(mae::read_file(path).empty());
  const std::vector<std::byte> a = filled(3, 4), b = filled(2, 5);
  const std::span<const std::byte> parts[] = {a, b, {}};
  mae::write_file_atomic(path, parts);
  CHECK(mae::read_file(path) == std::vector<std::byte>{std::byte{4}, std::byte{4}, std::byte{4},
                                                       std::byte{5}, std::byte{5}});
  CHECK(dir.entries() == std::vector<std::string>{"w.bin"});
}

TEST_CASE("failures name the step and the path, and leave the old file and no temporary") {
  const TempDir dir;
  CHECK_THROWS_WITH_AS(mae::write_file_atomic((dir.path / "no/such/dir/f").string(), filled(1, 1)),
                       doctest::Contains("create temporary failed for '"), mae::error);
  // Renaming a file over a non-empty directory fails after the data was written.
  fs::create_directories(dir.path / "target" / "inside");
  CHECK_THROWS_WITH_AS(mae::write_file_atomic((dir.path / "target").string(), filled(100, 1)),
                       doctest::Contains("rename failed"), mae::error);
  CHECK(fs::is_directory(dir.path / "target" / "inside"));
  CHECK(dir.entries() == std::vector<std::string>{"target"});
}

TEST_CASE("a write error mid-file (file size limit) keeps the old content") {
  const TempDir dir;
  const std::string path = (dir.path / "ckpt").string();
  mae::write_file_atomic(path, filled(4096, 7));
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // child: writes beyond a 64 KiB file size limit
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{65536, 65536};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      mae::write_file_atomic(path, filled(1 << 20, 8));
    } catch (const mae::error& e) {
      ::_exit(std::string(e.what()).find("write failed") != std::string::npos ? 0 : 2);
    }
    ::_exit(1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(mae::read_file(path) == filled(4096, 7));
  CHECK(dir.entries() == std::vector<std::string>{"ckpt"});
}

TEST_CASE("SIGKILL during repeated saves never leaves a partial file at the path") {
  const TempDir dir;
  const std::string path = (dir.path / "ckpt").string();
  const std::size_t n = std::size_t{8} << 20;
  mae::write_file_atomic(path, filled(n, 0));
  int killed_mid_write = 0;
  for (int delay_ms : {0, 2, 5, 11, 19, 29, 43, 70}) {
    int done_pipe[2];
    REQUIRE(::pipe(done_pipe) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {  // child: saves 1, 2, 3, ... (each file uniform) until killed
      ::alarm(20);   // never outlive a broken parent
      for (unsigned char i = 1;; i = static_cast<unsigned char>(i % 255 + 1)) {
        mae::write_file_atomic(path, filled(n, i));
        if (::write(done_pipe[1], &i, 1) != 1) ::_exit(1);
      }
    }
    unsigned char first = 0;
    REQUIRE(::read(done_pipe[0], &first, 1) == 1);  // one save completed
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    // Aim the kill at a save in progress: wait until its temporary exists.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (dir.entries().size() < 2 && std::chrono::steady_clock::now() < deadline) continue;
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    ::close(done_pipe[0]);
    ::close(done_pipe[1]);
    CHECK(WIFSIGNALED(status));
    const std::vector<std::byte> got = mae::read_file(path);
    INFO("killed " << delay_ms << " ms after a completed save");
    REQUIRE(got.size() == n);
    CHECK(got.front() != std::byte{0});  // the completed save is there
    CHECK(got == filled(n, static_cast<unsigned char>(got.front())));
    killed_mid_write += dir.entries().size() > 1;
    // Killed writers leave temporaries; they never take the checkpoint's name.
    for (const std::string& name : dir.entries()) {
      CHECK((name == "ckpt" || name.rfind("ckpt.tmp.", 0) == 0));
      if (name != "ckpt") fs::remove(dir.path / name);
    }
  }
  MESSAGE(killed_mid_write << " of 8 kills landed in the middle of a save");
  CHECK(killed_mid_write > 0);
}
