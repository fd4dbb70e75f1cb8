#pragma once
// Checkpoints: one safetensors file with the weights under official names, the AdamW moments under
// "optimizer.exp_avg.<name>" / "optimizer.exp_avg_sq.<name>", and step + config in the metadata.
// Written atomically (temp file, fsync, rename): a crash mid-save leaves the previous file intact.
// Loading accepts official or HuggingFace names and encoder-only files, validates every tensor before
// touching the model, and names each tensor that does not fit.
#include <charconv>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "mae/io/names.hpp"
#include "mae/io/safetensors.hpp"

namespace mae {

struct LoadOptions {
  bool require_decoder = false;  // false: a file without decoder tensors loads the encoder only
};

struct LoadReport {
  bool hf_names = false;
  std::vector<std::string> missing;  // decoder tensors absent from an encoder-only file
};

namespace detail {
template <class Dims>
std::vector<std::int64_t> shape_vector(const Dims& d) {
  return std::vector<std::int64_t>(d.begin(), d.end());
}

// The dtypes read_f32 converts from: checked up front so that a load never fails halfway.
inline bool is_float_dtype(const std::string& dtype) {
  return dtype == "F32" || dtype == "F64" || dtype == "F16" || dtype == "BF16";
}

inline bool uses_hf_names(const SafetensorsFile& f) {
  for (auto& t : f.tensors())
    if (t.name.rfind("vit.", 0) == 0 || t.name.rfind("decoder.decoder_layers.", 0) == 0) return true;
  return false;
}

// The source tensors of one official tensor (several for a split qkv), or empty when absent.
inline std::vector<const TensorInfo*> sources(const SafetensorsFile& f, const std::string& official, bool hf,
                                              const std::string& prefix) {
  std::vector<const TensorInfo*> out;
  if (!hf) {
    if (auto* t = f.find(prefix + official)) out.push_back(t);
    return out;
  }
  for (auto& name : hf_names(official)) {
    auto* t = f.find(prefix + name);
    if (!t) return {};
    out.push_back(t);
  }
  return out;
}
}  // namespace detail

// Loads every parameter (and the position tables, when present) of `model` from `file`.
// `prefix` is prepended to every name looked up (e.g. "param." in test fixtures).
template <class Model>
LoadReport load_weights(Model& model, const SafetensorsFile& file, LoadOptions opt = {}, const std::string& prefix = "") {
  LoadReport report;
  report.hf_names = detail::uses_hf_names(file);
  std::string problems;
  struct Pending { float* dst; std::vector<const TensorInfo*> src; };
  std::vector<Pending> plan;

  auto check = [&](const std::string& name, auto& tensor, bool optional) {
    auto src = detail::sources(file, name, report.hf_names, prefix);
    if (src.empty()) {
      if (optional) return;
      if (is_decoder_name(name) && !opt.require_decoder) { report.missing.push_back(name); return; }
      problems += "\n  " + name + ": missing";
      return;
    }
    // Expected shape per source: the official shape, split into equal row blocks for q/k/v.
    auto expected = detail::shape_vector(tensor.dims());
    if (src.size() > 1) expected[0] /= static_cast<std::int64_t>(src.size());
    for (auto* s : src) {
      if (s->shape != expected)
        problems += "\n  " + s->name + ": expected shape " + detail::shape_text(expected) + ", found " + detail::shape_text(s->shape);
      if (!detail::is_float_dtype(s->dtype))
        problems += "\n  " + s->name + ": dtype " + s->dtype + ", expected a float dtype (F32, F64, F16, BF16)";
    }
    plan.push_back({tensor.data(), std::move(src)});
  };
  model.visit_params([&](const std::string& name, auto& p) { check(name, p.value, false); });
  model.visit_buffers([&](const std::string& name, auto& t) { check(name, t, true); });

  if (!problems.empty()) {
    std::string preset = "";
    if (auto it = file.metadata().find("preset"); it != file.metadata().end())
      preset = " (the file says preset '" + it->second + "')";
    throw error("load_weights: " + file.source() + " does not fit preset '" + std::string(Model::config::name) + "'" +
                preset + ":" + problems);
  }
  for (auto& p : plan) {
    float* dst = p.dst;
    for (auto* s : p.src) {
      file.read_f32_into(s->name, std::span<float>(dst, s->numel()));
      dst += s->numel();
    }
  }
  return report;
}

template <class Model, class Optimizer>
void save_checkpoint(const std::string& path, Model& model, const Optimizer* optimizer, long step,
                     const std::map<std::string, std::string>& extra = {}) {
  SafetensorsWriter w;
  auto add = [&](const std::string& name, auto& t) {
    w.add(name, std::span<const float>(t.data(), t.size()), detail::shape_vector(t.dims()));
  };
  model.visit_params([&](const std::string& name, auto& p) { add(name, p.value); });
  model.visit_buffers(add);
  if (optimizer)
    for (auto& s : const_cast<Optimizer*>(optimizer)->slots()) {
      add("optimizer.exp_avg." + s.name, s.exp_avg);
      add("optimizer.exp_avg_sq." + s.name, s.exp_avg_sq);
    }
  w.set_metadata("preset", std::string(Model::config::name));
  w.set_metadata("step", std::to_string(step));
  w.set_metadata("mask_seed", std::to_string(model.mask_seed));
  if (optimizer) w.set_metadata("optimizer_steps", std::to_string(optimizer->steps()));
  for (auto& [k, v] : extra) w.set_metadata(k, v);
  w.write(path);
}

namespace detail {
inline std::uint64_t parse_count(const std::string& text, const char* key, const std::string& path) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  MAE_CHECK(ec == std::errc() && end == text.data() + text.size() && !text.empty(),
            "load_checkpoint: " + path + ": metadata '" + key + "' is not a non-negative integer: '" + text + "'");
  return v;
}
}  // namespace detail

// Loads weights (official names; decoder required) and, when given, the optimizer moments; returns the metadata.
template <class Model, class Optimizer>
std::map<std::string, std::string> load_checkpoint(const std::string& path, Model& model, Optimizer* optimizer) {
  auto file = SafetensorsFile::from_file(path);
  if (optimizer) {  // validate the optimizer part before anything is loaded
    for (auto& s : optimizer->slots())
      for (const char* moment : {"optimizer.exp_avg.", "optimizer.exp_avg_sq."}) {
        auto* t = file.find(moment + s.name);
        MAE_CHECK(t && t->numel() == s.size && detail::is_float_dtype(t->dtype),
                  "load_checkpoint: " + path + " lacks a fitting " + moment + s.name + " (resume needs optimizer state)");
      }
    MAE_CHECK(file.metadata().count("optimizer_steps"), "load_checkpoint: " + path + " has no optimizer_steps");
  }
  std::uint64_t mask_seed = model.mask_seed;
  if (auto it = file.metadata().find("mask_seed"); it != file.metadata().end()) mask_seed = detail::parse_count(it->second, "mask_seed", path);
  long optimizer_steps = 0;
  if (optimizer) optimizer_steps = static_cast<long>(detail::parse_count(file.metadata().at("optimizer_steps"), "optimizer_steps", path));
  load_weights(model, file, LoadOptions{.require_decoder = true});
  model.mask_seed = mask_seed;  // the masks of the iterations still to come
  if (optimizer) {
    for (auto& s : optimizer->slots()) {
      file.read_f32_into("optimizer.exp_avg." + s.name, std::span<float>(s.exp_avg.data(), s.size));
      file.read_f32_into("optimizer.exp_avg_sq." + s.name, std::span<float>(s.exp_avg_sq.data(), s.size));
    }
    optimizer->set_steps(optimizer_steps);
  }
  return file.metadata();
}

}  // namespace mae
