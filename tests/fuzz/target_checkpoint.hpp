#pragma once
// Fuzz target: the checkpoint loaders on a micro model (2 encoder blocks, width 4: a checkpoint is a
// few KB, so most mutations land in the header rather than in float data). The input is a
// safetensors file; it is loaded with load_weights (official or HuggingFace names, whichever the file uses; with and without
// the decoder required) and with load_checkpoint (weights + AdamW state). Invariants: a rejected load
// leaves the model and the optimizer exactly as they were; an accepted one puts the file's values
// (through the name mapping, q/k/v stacked) into every parameter.
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "mae/mae.hpp"
#include "target.hpp"

namespace mae::fuzz {

struct micro_name {
  static constexpr std::string_view value = "fuzz-micro";
};
// 4x4 single-channel images, 2x2 patches (L = 4, keep 1), widths 4, MLP ratio 1.
using MicroModel = MaskedAutoencoder<MaePreset<MaeConfig<4, 2, 1, 4, 2, 1, 4, 1, 1, 1>, micro_name>>;

namespace detail {

using Optimizer = optim::AdamW<float>;

struct CheckpointState {
  std::vector<float> params, moments;
  long steps;
  std::uint64_t mask_seed;
};

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Every parameter and position table, in visiting order.
inline std::vector<std::vector<float>> tensors_of(MicroModel& m) {
  std::vector<std::vector<float>> out;
  const auto add = [&](const std::string&, auto& t) { out.emplace_back(t.data(), t.data() + t.size()); };
  m.visit_params([&](const std::string& n, auto& p) { add(n, p.value); });
  m.visit_buffers(add);
  return out;
}

inline CheckpointState state_of(MicroModel& m, Optimizer& opt) {
  CheckpointState s{{}, {}, opt.steps(), m.mask_seed};
  for (const auto& t : tensors_of(m)) s.params.insert(s.params.end(), t.begin(), t.end());
  for (auto& slot : opt.slots()) {
    s.moments.insert(s.moments.end(), slot.exp_avg.data(), slot.exp_avg.data() + slot.size);
    s.moments.insert(s.moments.end(), slot.exp_avg_sq.data(), slot.exp_avg_sq.data() + slot.size);
  }
  return s;
}

inline bool same_state(const CheckpointState& a, const CheckpointState& b) {
  return same_bits(a.params, b.params) && same_bits(a.moments, b.moments) && a.steps == b.steps &&
         a.mask_seed == b.mask_seed;
}

// After an accepted load_weights: every tensor holds the file's values, or (absent decoder tensors,
// absent position tables) what it held `before`.
inline void check_loaded(MicroModel& m, const std::vector<std::vector<float>>& before, const SafetensorsFile& f,
                         const LoadReport& r) {
  std::size_t i = 0;
  const auto check = [&](const std::string& name, auto& t) {
    const auto src = mae::detail::sources(f, name, r.hf_names, "");
    std::vector<float> expected = before[i++];
    if (!src.empty()) expected.clear();
    for (const TensorInfo* s : src) {
      const std::vector<float> v = f.read_f32(s->name);
      expected.insert(expected.end(), v.begin(), v.end());
    }
    require(same_bits(std::vector<float>(t.data(), t.data() + t.size()), expected),
            "load_weights: '" + name + "' does not hold the file's values");
  };
  m.visit_params([&](const std::string& n, auto& p) { check(n, p.value); });
  m.visit_buffers(check);
}

// The bytes as a file that read_file can open, without touching the disk.
class MemFile {
 public:
  explicit MemFile(std::span<const std::byte> bytes) : fd_(::memfd_create("mae-fuzz", MFD_CLOEXEC)) {
    std::size_t done = 0;
    while (fd_ >= 0 && done < bytes.size()) {
      const ::ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) {
        ::close(fd_);
        fd_ = -1;
      } else {
        done += static_cast<std::size_t>(n);
      }
    }
    require(fd_ >= 0, "memfd_create/write failed");
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

}  // namespace detail

inline Stages checkpoint(std::span<const std::byte> bytes) {
  using namespace detail;
  static MicroModel model(1);
  static Optimizer optimizer(model, {});
  Stages out;
  std::optional<SafetensorsFile> file;
  if (!run_stage(out, "parse", {"safetensors '"},
                 [&] { file.emplace(SafetensorsFile::from_memory(bytes, "fuzz.safetensors")); }))
    return out;

  for (const bool require_decoder : {false, true}) {
    const auto tensors_before = tensors_of(model);
    const CheckpointState before = state_of(model, optimizer);
    LoadReport report;
    const bool ok = run_stage(out, require_decoder ? "weights_full" : "weights", {"load_weights: "}, [&] {
      report = load_weights(model, *file, LoadOptions{.require_decoder = require_decoder});
    });
    if (ok) {
      check_loaded(model, tensors_before, *file, report);
      require(!require_decoder || report.missing.empty(), "require_decoder loaded without the decoder");
    } else {
      require(same_state(state_of(model, optimizer), before), "a rejected load_weights changed the model");
    }
  }

  const MemFile mem(bytes);
  const CheckpointState before = state_of(model, optimizer);
  const bool ok = run_stage(out, "checkpoint", {"load_checkpoint: ", "load_weights: ", "safetensors '"}, [&] {
    load_checkpoint(mem.path(), model, &optimizer);
  });
  if (ok) {
    for (auto& s : optimizer.slots()) {
      const auto m1 = file->read_f32("optimizer.exp_avg." + s.name);
      const auto m2 = file->read_f32("optimizer.exp_avg_sq." + s.name);
      require(same_bits(m1, std::vector<float>(s.exp_avg.data(), s.exp_avg.data() + s.size)) &&
                  same_bits(m2, std::vector<float>(s.exp_avg_sq.data(), s.exp_avg_sq.data() + s.size)),
              "load_checkpoint: the moments of '" + s.name + "' are not the file's");
    }
    const std::string& steps = file->metadata().at("optimizer_steps");
    require(optimizer.steps() == static_cast<long>(mae::detail::parse_count(steps, "optimizer_steps", "")),
            "load_checkpoint: optimizer steps not restored");
  } else {
    require(same_state(state_of(model, optimizer), before), "a rejected load_checkpoint changed the model or optimizer");
  }
  return out;
}

}  // namespace mae::fuzz
