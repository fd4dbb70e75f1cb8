#pragma once
// One PyTorch op fixture (tests/reference/make_op_fixtures.py, docs/fixtures.md): its inputs as Var storage,
// and comparisons of mae's forward output and input gradients with PyTorch's, norm-wise ||a - b|| / ||b||.
// The directory is MAE_OPS_FIXTURE_DIR when defined (freshly generated fixtures), else MAE_FIXTURE_DIR.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "mae/autograd/tape.hpp"
#include "mae/backend/cpu.hpp"
#include "mae/io/safetensors.hpp"

namespace mae::test {

inline const char* ops_fixture_dir() {
#ifdef MAE_OPS_FIXTURE_DIR
  return MAE_OPS_FIXTURE_DIR;
#else
  return MAE_FIXTURE_DIR;
#endif
}

// f32 results against the f32 file, f64 against f64 (norm-wise relative).
template <class T>
inline constexpr double torch_tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-10;

using file_shape = std::vector<std::int64_t>;

template <std::size_t R>
file_shape to_file_shape(const std::array<std::size_t, R>& dims) {
  return file_shape(dims.begin(), dims.end());
}

// A fixture tensor as the storage of a Var: the file's values and, when it needs one, a zeroed gradient.
// `stored` is the tensor's shape in the file (it may differ from dims: a (1, N, D) table used as (N, D)).
template <class T, class S>
struct FixtureInput {
  std::vector<T> value, grad;
  dims_t<S> dims;
  file_shape stored;
  Var<T, S> var() { return {value.data(), grad.empty() ? nullptr : grad.data(), dims}; }
};

template <class T>
class OpFixture {
 public:
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  static constexpr const char* tag = std::is_same_v<T, float> ? "f32" : "f64";

  OpFixture(const std::string& op, int case_id)
      : op_(op), case_(case_id),
        path_(std::string(ops_fixture_dir()) + "/ops_" + op + "_" + std::to_string(case_id) + "_" + tag +
              ".safetensors"),
        file_(open(path_)) {
    CHECK(meta("op") == op);
    CHECK(meta("case") == std::to_string(case_id));
    CHECK(meta("dtype") == tag);
  }

  const std::string& path() const { return path_; }

  std::string meta(const std::string& key) const {
    const auto& m = file_.metadata();
    const auto it = m.find(key);
    INFO(path_ << ": metadata key '" << key << "'");
    REQUIRE(it != m.end());
    return it->second;
  }

  // The tensor `name` after checking that the file's shape is `shape` (the static shape the test hard-codes).
  std::vector<T> read(const std::string& name, const file_shape& shape) const {
    require_shape(name, shape);
    if constexpr (std::is_same_v<T, float>)
      return file_.read_f32(name);
    else
      return file_.read_f64(name);
  }

  // An I64 index tensor narrowed to the int32 indices mae's token ops take (range-checked).
  std::vector<std::int32_t> indices(const std::string& name, const file_shape& shape) const {
    require_shape(name, shape);
    std::vector<std::int32_t> out;
    for (std::int64_t v : file_.read_i64(name)) {
      INFO(path_ << ": index " << v << " in '" << name << "'");
      REQUIRE((v >= 0 && v <= INT32_MAX));
      out.push_back(static_cast<std::int32_t>(v));
    }
    return out;
  }

  // Compares `got` (laid out as the file's tensor `name` of shape `shape`) with the file; returns the
  // norm-wise relative error.
  double expect(const std::string& name, const T* got, const file_shape& shape) {
    const std::vector<T> ref = read(name, shape);
    double diff = 0, norm = 0, max_abs = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const double d = static_cast<double>(got[i]) - static_cast<double>(ref[i]);
      diff += d * d;
      norm += static_cast<double>(ref[i]) * ref[i];
      max_abs = std::max(max_abs, std::abs(d));
    }
    const double rel = std::sqrt(diff) / std::max(std::sqrt(norm), 1e-300);
    compared_.insert(name);
    if (std::getenv("MAE_OPS_VERBOSE"))
      std::printf("%-14s case %d %s %-7s rel %.3e  max abs %.3e\n", op_.c_str(), case_, tag, name.c_str(), rel,
                  max_abs);
    INFO(path_ << ": '" << name << "' relative error " << rel << ", max abs error " << max_abs << " (tolerance "
               << torch_tolerance<T> << ")");
    CHECK(std::isfinite(rel));
    CHECK(rel <= torch_tolerance<T>);
    return rel;
  }
  // The forward output `y` (or any output Var) against the file's tensor `name`.
  template <class S>
  double expect(const std::string& name, const Var<T, S>& v) {
    return expect(name, v.value, to_file_shape(v.dims));
  }
  // The gradient of an input against the file's `d<input>`.
  template <class S>
  double expect_grad(const std::string& name, const FixtureInput<T, S>& in) {
    REQUIRE_MESSAGE(!in.grad.empty(), path_ << ": '" << name << "' needs an input with a gradient buffer");
    return expect(name, in.grad.data(), in.stored);
  }

  // Backward from `y` with the file's output gradient `dy`.
  template <class S>
  void backward(Tape<>& tape, const Var<T, S>& y) {
    const std::vector<T> dy = read("dy", to_file_shape(y.dims));
    tape.backward(y, dy.data());
  }

  // Every gradient the file lists (metadata `grads`) and `y` must have been compared.
  void expect_all_compared() const {
    std::stringstream grads(meta("grads"));
    std::vector<std::string> wanted{"y"};
    for (std::string g; std::getline(grads, g, ',');) wanted.push_back(g);
    for (const auto& w : wanted) {
      INFO(path_ << ": '" << w << "' was never compared");
      CHECK(compared_.count(w) == 1);
    }
  }

 private:
  static SafetensorsFile open(const std::string& path) {
    INFO("op fixture " << path << " (regenerate: /usr/bin/python3 tests/reference/make_op_fixtures.py)");
    REQUIRE(std::filesystem::exists(path));
    return SafetensorsFile::from_file(path);
  }

  void require_shape(const std::string& name, const file_shape& shape) const {
    const file_shape& stored = file_.at(name).shape;
    INFO(path_ << ": tensor '" << name << "' has shape " << text(stored) << ", the test expects " << text(shape));
    REQUIRE(stored == shape);
  }

  static std::string text(const file_shape& s) {
    std::string t = "(";
    for (std::size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
    return t + ")";
  }

  std::string op_;
  int case_;
  std::string path_;
  SafetensorsFile file_;
  std::set<std::string> compared_;
};

// The file's tensor `name` as the storage of a Var of static shape S with run-time dims `dims` (which the
// file's shape must equal, or `stored` where the file keeps it in another shape of the same size).
template <class S, class T>
FixtureInput<T, S> input(const OpFixture<T>& f, const std::string& name, const dims_t<S>& dims,
                         bool needs_grad = true, file_shape stored = {}) {
  if (stored.empty()) stored = to_file_shape(dims);
  FixtureInput<T, S> in{f.read(name, stored), {}, resolve_dims<S>(dims, "op fixture input"), std::move(stored)};
  REQUIRE(in.value.size() == product(dims));
  if (needs_grad) in.grad.assign(in.value.size(), T(0));
  return in;
}

}  // namespace mae::test
