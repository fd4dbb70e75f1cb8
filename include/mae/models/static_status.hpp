#pragma once
// Status codes of the embedded path (mae::embedded): it reports errors through return values, so that it
// builds and runs with -fno-exceptions. Every function that can fail returns a Status, marked [[nodiscard]].
#include <cstdint>

namespace mae::embedded {

enum class [[nodiscard]] Status : std::uint8_t {
  ok = 0,
  buffer_too_small,      // the caller's arena holds fewer than required_bytes
  buffer_misaligned,     // the caller's arena is not aligned to StaticModel::alignment
  not_ready,             // inference before bind() and load_weights() both succeeded
  file_too_short,        // fewer than 8 bytes, or the header runs past the end
  header_too_long,       // header length above SafetensorsView::max_header_bytes
  header_invalid,        // not the JSON the safetensors format allows
  rank_too_large,        // a tensor of more than SafetensorsView::max_rank dimensions
  tensor_out_of_bounds,  // data_offsets outside the data section, or end before begin
  tensor_size_mismatch,  // data_offsets do not hold dtype size x shape bytes
  data_size_mismatch,    // the tensors do not add up to the data section (gaps or trailing bytes)
  tensor_missing,        // a tensor the model needs is absent
  tensor_duplicate,      // a name appears twice in the header
  dtype_unsupported,     // the embedded path reads F32 weights in place; convert others with mae_to_header
  shape_mismatch,        // a tensor's shape differs from the model's
  weights_misaligned,    // F32 data not 4-byte aligned in memory: the weights buffer must be aligned
  workspace_too_small,   // Eigen chose GEMM blocks larger than the arena's bound (cache sizes were changed)
  invalid_noise,         // a masking noise value is NaN or infinite
};

constexpr const char* to_string(Status s) noexcept {
  switch (s) {
    case Status::ok: return "ok";
    case Status::buffer_too_small: return "buffer too small";
    case Status::buffer_misaligned: return "buffer misaligned";
    case Status::not_ready: return "model not bound to a buffer or weights not loaded";
    case Status::file_too_short: return "safetensors file too short";
    case Status::header_too_long: return "safetensors header too long";
    case Status::header_invalid: return "safetensors header invalid";
    case Status::rank_too_large: return "tensor rank too large";
    case Status::tensor_out_of_bounds: return "tensor data out of bounds";
    case Status::tensor_size_mismatch: return "tensor byte count does not match dtype and shape";
    case Status::data_size_mismatch: return "tensors do not cover the data section exactly";
    case Status::tensor_missing: return "tensor missing";
    case Status::tensor_duplicate: return "tensor name duplicated";
    case Status::dtype_unsupported: return "dtype unsupported (F32 only)";
    case Status::shape_mismatch: return "tensor shape does not match the model";
    case Status::weights_misaligned: return "weights misaligned";
    case Status::workspace_too_small: return "GEMM workspace too small";
    case Status::invalid_noise: return "masking noise not finite";
  }
  return "unknown status";
}

}  // namespace mae::embedded

// Returns the Status of the expression from the enclosing function unless it is ok (variadic: template
// argument lists hold commas).
#define MAE_RETURN_IF_ERROR(...)                                                       \
  do {                                                                                 \
    if (const ::mae::embedded::Status mae_status_ = (__VA_ARGS__);                     \
        mae_status_ != ::mae::embedded::Status::ok) [[unlikely]]                       \
      return mae_status_;                                                              \
  } while (0)
