// Crash during save: a child process saves real checkpoints (fmnist-tiny weights and AdamW moments,
// about 16 MB) in a loop and is SIGKILLed, at random points of a save or while its temporary file is
// partly written. After every kill the checkpoint at the
// path must load intact as the last completed save (or the one just renamed into place), with the
// parameters and moments of exactly that version; a killed save may leave only `<path>.tmp.*` files,
// which are never read as the checkpoint.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "mae/mae.hpp"

namespace {

namespace fs = std::filesystem;
using Model = mae::MaskedAutoencoder<mae::presets::fmnist_tiny>;
using Optimizer = mae::optim::AdamW<float>;

// One saved version: a model of its own seed, and moments filled from the seed too.
struct Version {
  std::unique_ptr<Model> model;
  std::unique_ptr<Optimizer> optimizer;
  explicit Version(std::uint64_t seed)
      : model(std::make_unique<Model>(seed)), optimizer(std::make_unique<Optimizer>(*model, mae::optim::AdamWConfig{})) {
    for (auto& s : optimizer->slots())
      for (std::size_t i = 0; i < s.size; ++i) {
        s.exp_avg.data()[i] = static_cast<float>(seed) + 1e-3f * static_cast<float>(i % 1000);
        s.exp_avg_sq.data()[i] = static_cast<float>(seed) * 1e-4f;
      }
    optimizer->set_steps(static_cast<long>(seed));
  }
};

std::vector<float> flat(Model& m, Optimizer& opt) {
  std::vector<float> out;
  m.visit_params([&](const std::string&, auto& p) { out.insert(out.end(), p.value.data(), p.value.data() + p.value.size()); });
  for (auto& s : opt.slots()) {
    out.insert(out.end(), s.exp_avg.data(), s.exp_avg.data() + s.size);
    out.insert(out.end(), s.exp_avg_sq.data(), s.exp_avg_sq.data() + s.size);
  }
  return out;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("mae_test_crash_save_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
    return names;
  }
};

}  // namespace

TEST_CASE("SIGKILL at random points of repeated checkpoint saves never loses the last saved checkpoint") {
  constexpr int versions = 3, kills = 10;
  std::vector<Version> saved;
  for (int v = 0; v < versions; ++v) saved.emplace_back(100 + v);
  std::vector<std::vector<float>> expected;
  for (auto& v : saved) expected.push_back(flat(*v.model, *v.optimizer));
  // Save `step` with version step % versions.
  const auto save = [&](const std::string& path, long step) {
    Version& v = saved[static_cast<std::size_t>(step % versions)];
    mae::save_checkpoint(path, *v.model, v.optimizer.get(), step);
  };

  const TempDir dir;
  const std::string name = "ckpt.safetensors", path = (dir.path / name).string();
  const auto t0 = std::chrono::steady_clock::now();
  save(path, 0);
  const auto save_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  const auto file_size = fs::file_size(path);

  const unsigned seed = std::random_device{}();
  INFO("kill-delay seed " << seed << ", one save takes " << save_us.count() << " us");
  std::mt19937 rng(seed);
  std::uniform_int_distribution<long> delay_us(0, save_us.count() * 3 / 2);
  Model loaded_model(7);
  Optimizer loaded_optimizer(loaded_model, {});
  long last_step = 0;  // the newest step known to be completely saved
  int partial_temps = 0, complete_temps = 0;
  std::set<std::string> seen_temps;  // left in place: the last save below runs beside them

  const auto partly_written = [&] {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir.path, ec)) {
      const auto size = fs::file_size(e.path(), ec);
      if (!ec && e.path().filename() != name && seen_temps.count(e.path().filename().string()) == 0 && size > 0 &&
          size < file_size)
        return true;
    }
    return false;
  };

  for (int k = 0; k < kills; ++k) {
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {  // child: saves last_step + 1, + 2, ... and reports each step once it is saved
      ::alarm(60);   // never outlive a broken parent
      try {
        for (long step = last_step + 1;; ++step) {
          save(path, step);
          if (::write(pipe_fds[1], &step, sizeof step) != sizeof step) ::_exit(1);
        }
      } catch (...) {
        ::_exit(2);
      }
    }
    ::close(pipe_fds[1]);
    long step = 0;
    REQUIRE(::read(pipe_fds[0], &step, sizeof step) == sizeof step);  // one save completed
    last_step = step;
    if (k % 2 == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));  // anywhere in a later save
    } else {  // aimed: while a temporary is partly written
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!partly_written() && std::chrono::steady_clock::now() < deadline) continue;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    while (::read(pipe_fds[0], &step, sizeof step) == sizeof step) last_step = step;  // reports before the kill
    ::close(pipe_fds[0]);

    // The checkpoint is the last reported save, or the next one if the kill came between its rename and
    // its report; its weights, moments and metadata are all of that one version.
    INFO("kill " << k << ", last completed step " << last_step);
    const auto meta = mae::load_checkpoint(path, loaded_model, &loaded_optimizer);
    const long at_path = std::stol(meta.at("step"));
    CHECK((at_path == last_step || at_path == last_step + 1));
    CHECK(fs::file_size(path) == file_size);
    CHECK(loaded_optimizer.steps() == 100 + at_path % versions);
    CHECK(flat(loaded_model, loaded_optimizer) == expected[static_cast<std::size_t>(at_path % versions)]);
    last_step = at_path;

    // Whatever the killed save left is a temporary beside the checkpoint.
    for (const std::string& entry : dir.entries()) {
      if (entry == name || !seen_temps.insert(entry).second) continue;
      CHECK(entry.rfind(name + ".tmp.", 0) == 0);
      try {
        mae::SafetensorsFile::from_file((dir.path / entry).string());
        ++complete_temps;  // killed after the write, before the rename
      } catch (const mae::error&) {
        ++partial_temps;  // killed mid-write
      }
    }
  }
  MESSAGE(kills << " kills: " << partial_temps << " in the middle of a write (partial temporary), " << complete_temps
                << " between the write and the rename; one save takes " << save_us.count() / 1000 << " ms");
  CHECK(partial_temps > 0);  // the aimed kills did land in the middle of a write

  // Saving again works beside a killed writer's leftovers, and replaces the checkpoint.
  save(path, last_step + 1);
  const auto meta = mae::load_checkpoint(path, loaded_model, &loaded_optimizer);
  CHECK(std::stol(meta.at("step")) == last_step + 1);
  CHECK(flat(loaded_model, loaded_optimizer) == expected[static_cast<std::size_t>((last_step + 1) % versions)]);
}
