#pragma once
// Explicit transfers between host memory and a backend's memory, and copy_parameters(src, dst): a model's
// parameters and fixed tables copied into a model of the same config on another backend (visit order and names
// must agree). A device model is built this way from a host model, which owns initialisation and checkpoints.
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mae/core/backend.hpp"
#include "mae/core/error.hpp"

namespace mae {

// Bytes between host memory and memory of backend B. Host-accessible backends copy directly; a device backend
// specialises this (mae/backend/cuda.hpp).
template <class B>
struct host_transfer {
  static_assert(host_backend<B>,
                "host_transfer: include the header of this device backend (e.g. mae/backend/cuda.hpp)");
  static void to_host(void* dst, const void* src, std::size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  static void from_host(void* dst, const void* src, std::size_t bytes) {
    if (bytes) std::memcpy(dst, src, bytes);
  }
};

// n elements at p (memory of backend B) as a host vector.
template <class B, class T>
std::vector<T> to_host_vector(const T* p, std::size_t n) {
  std::vector<T> out(n);
  host_transfer<B>::to_host(out.data(), p, n * sizeof(T));
  return out;
}

// dst (memory of backend B) = src[0, n) (host memory).
template <class B, class T>
void copy_from_host(T* dst, const T* src, std::size_t n) {
  host_transfer<B>::from_host(dst, src, n * sizeof(T));
}

namespace detail {

struct host_tensor_copy {
  std::string name;
  std::vector<unsigned char> bytes;
};

// Every tensor a visitor reports, staged in host memory.
template <class B, class Visit>
std::vector<host_tensor_copy> stage_on_host(Visit&& visit) {
  std::vector<host_tensor_copy> out;
  visit([&](const std::string& name, auto& t) {
    const std::size_t bytes = t.size() * sizeof(*t.data());
    host_tensor_copy c{name, std::vector<unsigned char>(bytes)};
    host_transfer<B>::to_host(c.bytes.data(), t.data(), bytes);
    out.push_back(std::move(c));
  });
  return out;
}

template <class B, class Visit>
void unstage(const std::vector<host_tensor_copy>& staged, Visit&& visit, const char* what) {
  std::size_t i = 0;
  visit([&](const std::string& name, auto& t) {
    const std::size_t bytes = t.size() * sizeof(*t.data());
    MAE_CHECK(i < staged.size(), std::string("copy_parameters: the destination has more ") + what +
                                     " than the source (" + name + " has no counterpart)");
    MAE_CHECK(staged[i].name == name && staged[i].bytes.size() == bytes,
              std::string("copy_parameters: ") + what + " " + std::to_string(i) + " is " + name + " (" +
                  std::to_string(bytes) + " bytes) in the destination but " + staged[i].name + " (" +
                  std::to_string(staged[i].bytes.size()) + " bytes) in the source");
    host_transfer<B>::from_host(t.data(), staged[i].bytes.data(), bytes);
    ++i;
  });
  MAE_CHECK(i == staged.size(), std::string("copy_parameters: the source has ") + std::to_string(staged.size()) +
                                    " " + what + ", the destination " + std::to_string(i));
}

}  // namespace detail

// dst's parameter values and fixed tables (visit_buffers) become src's; dst's gradients are zeroed and its
// masking seed and loss flag follow src. Throws mae::error, naming the first mismatch, if the models differ.
template <class Src, class Dst>
void copy_parameters(Src& src, Dst& dst) {
  using SB = typename Src::backend;
  using DB = typename Dst::backend;
  static_assert(std::is_same_v<typename Src::value_type, typename Dst::value_type>,
                "copy_parameters: the models must have the same value type");
  // Visitors over the parameter values (not the gradients) and over the fixed tables.
  const auto values = [](auto& model) {
    return [&model](auto&& f) { model.visit_params([&](const std::string& n, auto& p) { f(n, p.value); }); };
  };
  const auto buffers = [](auto& model) { return [&model](auto&& f) { model.visit_buffers(f); }; };
  detail::unstage<DB>(detail::stage_on_host<SB>(values(src)), values(dst), "parameters");
  detail::unstage<DB>(detail::stage_on_host<SB>(buffers(src)), buffers(dst), "buffers");
  dst.visit_params([](const std::string&, auto& p) { kernels<DB>::zero(p.grad.data(), p.grad.size()); });
  if constexpr (requires { dst.mask_seed = src.mask_seed; }) dst.mask_seed = src.mask_seed;
  if constexpr (requires { dst.norm_pix_loss = src.norm_pix_loss; }) dst.norm_pix_loss = src.norm_pix_loss;
}

}  // namespace mae
