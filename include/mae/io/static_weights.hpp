#pragma once
// Weights of a StaticModel straight from safetensors bytes in memory: every tensor is checked (F32,
// official name, the model's shape, 4-byte aligned) and then read IN PLACE, never copied, so the bytes
// (a constant array from mae_to_header, a file mapped from flash) must outlive the model. No allocation,
// no exceptions. Files with other dtypes or HuggingFace names: convert them once with mae_to_header.
#include <bit>
#include <cstddef>
#include <cstdint>

#include "mae/io/safetensors_view.hpp"
#include "mae/models/static_mae.hpp"

namespace mae::embedded {

static_assert(std::endian::native == std::endian::little,
              "the embedded path reads little-endian F32 weights in place: a big-endian target needs a swapped copy");

// On failure the model keeps its previous weights and `failed` (when given) names the offending tensor.
template <class Model>
Status load_weights(Model& model, const SafetensorsView& file, TensorName* failed = nullptr) noexcept {
  typename Model::Weights w;
  const Status visited = w.visit([&](const TensorName& name, const float*& slot, Dims dims) noexcept {
    if (failed) *failed = name;
    TensorView t;
    MAE_RETURN_IF_ERROR(file.find(name.view(), t));
    if (t.dtype != Dtype::F32) return Status::dtype_unsupported;
    if (t.rank != dims.rank) return Status::shape_mismatch;
    for (std::size_t i = 0; i < dims.rank; ++i)
      if (t.shape[i] != dims.extents[i]) return Status::shape_mismatch;
    if (reinterpret_cast<std::uintptr_t>(t.data) % alignof(float) != 0) return Status::weights_misaligned;
    slot = reinterpret_cast<const float*>(t.data);
    return Status::ok;
  });
  if (visited != Status::ok) return visited;
  if (failed) *failed = TensorName{};
  return model.set_weights(w);
}

// The same from the raw bytes of a safetensors file.
template <class Model>
Status load_weights(Model& model, const void* bytes, std::size_t size, TensorName* failed = nullptr) noexcept {
  SafetensorsView file;
  MAE_RETURN_IF_ERROR(file.open(bytes, size));
  return load_weights(model, file, failed);
}

}  // namespace mae::embedded
