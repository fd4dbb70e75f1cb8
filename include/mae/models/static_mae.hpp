#pragma once
// StaticModel<Config, Batch, Parts>: the inference paths of MaskedAutoencoder (MAE_SPEC §1-§5) for targets
// without a heap, exceptions or threads. Everything has a size known at compile time:
// - weights are read in place from the caller's safetensors bytes (F32, official names; e.g. a constant
//   array made by mae_to_header, or a file in flash): `weight_bytes` of them;
// - every activation and the GEMM packing workspace live in ONE caller buffer of `required_bytes`
//   (StaticArena<Model> gives it static storage);
// - the batch is the template argument.
// Results are bit-identical to MaskedAutoencoder's encode_all and forward (pred, mask) for the same weights,
// images and noise: the same kernels run in the same order (see static_kernels.hpp). Errors are Status values.
//
//   static mae::embedded::StaticArena<Encoder> arena;
//   Encoder enc;                                     // StaticEncoder<presets::fmnist_tiny, 1>
//   enc.bind(arena.bytes, sizeof arena.bytes);       // Status::ok
//   mae::embedded::load_weights(enc, bytes, size);   // mae/io/static_weights.hpp
//   enc.encode_all(images, features);                // (1, 1, 28, 28) -> (1, 50, 128)
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "mae/models/config.hpp"
#include "mae/models/static_kernels.hpp"
#include "mae/models/static_status.hpp"

namespace mae::embedded {

enum class Parts { encoder, full };

// A tensor name built without allocation ("blocks.3.attn.qkv.weight").
struct TensorName {
  char text[96] = {};
  std::size_t size = 0;

  constexpr TensorName& operator<<(std::string_view s) noexcept {
    for (char c : s)
      if (size + 1 < sizeof text) text[size++] = c;
    return *this;
  }
  constexpr TensorName& operator<<(std::size_t v) noexcept {
    char digits[20];
    std::size_t n = 0;
    do digits[n++] = static_cast<char>('0' + v % 10); while ((v /= 10) != 0);
    while (n) *this << std::string_view(&digits[--n], 1);
    return *this;
  }
  constexpr std::string_view view() const noexcept { return {text, size}; }
};

// The shape a tensor must have.
struct Dims {
  std::size_t rank;
  std::size_t extents[4];
};

// The parameters of a MAE as pointers into the caller's bytes, under official names (MAE_SPEC §10).
template <class Config, bool Decoder>
struct StaticWeights {
  static constexpr std::size_t C = Config::channels, P = Config::patch, D = Config::dim, Dd = Config::dec_dim,
                               L = Config::tokens, PD = Config::patch_dim;
  struct Linear { const float *weight = nullptr, *bias = nullptr; };
  struct Norm { const float *weight = nullptr, *bias = nullptr; };
  struct Block { Norm norm1; Linear qkv, proj; Norm norm2; Linear fc1, fc2; };

  Linear patch_embed;
  const float *cls_token = nullptr, *pos_embed = nullptr;
  Block blocks[Config::depth];
  Norm norm;
  Linear decoder_embed;
  const float *mask_token = nullptr, *decoder_pos_embed = nullptr;
  Block decoder_blocks[Decoder ? Config::dec_depth : 1];
  Norm decoder_norm;
  Linear decoder_pred;

  // f(const TensorName&, const float*& slot, Dims) -> Status for every tensor the model reads (the decoder's
  // only when Decoder), with PyTorch's shapes; stops at the first error.
  template <class F>
  constexpr Status visit(F&& f) noexcept {
    using sv = std::string_view;
    const auto tensor = [&](const float*& slot, Dims dims, auto... parts) {
      TensorName name;
      (name << ... << parts);
      return f(static_cast<const TensorName&>(name), slot, dims);
    };
    const auto linear = [&](Linear& l, std::size_t in, std::size_t out, auto... parts) {
      MAE_RETURN_IF_ERROR(tensor(l.weight, Dims{2, {out, in}}, parts..., sv("weight")));
      return tensor(l.bias, Dims{1, {out}}, parts..., sv("bias"));
    };
    const auto layernorm = [&](Norm& n, std::size_t d, auto... parts) {
      MAE_RETURN_IF_ERROR(tensor(n.weight, Dims{1, {d}}, parts..., sv("weight")));
      return tensor(n.bias, Dims{1, {d}}, parts..., sv("bias"));
    };
    const auto block = [&](Block& b, std::size_t d, sv prefix, std::size_t i) {
      const std::size_t hidden = Config::mlp_ratio * d;
      MAE_RETURN_IF_ERROR(layernorm(b.norm1, d, prefix, i, sv(".norm1.")));
      MAE_RETURN_IF_ERROR(linear(b.qkv, d, 3 * d, prefix, i, sv(".attn.qkv.")));
      MAE_RETURN_IF_ERROR(linear(b.proj, d, d, prefix, i, sv(".attn.proj.")));
      MAE_RETURN_IF_ERROR(layernorm(b.norm2, d, prefix, i, sv(".norm2.")));
      MAE_RETURN_IF_ERROR(linear(b.fc1, d, hidden, prefix, i, sv(".mlp.fc1.")));
      return linear(b.fc2, hidden, d, prefix, i, sv(".mlp.fc2."));
    };
    MAE_RETURN_IF_ERROR(tensor(cls_token, Dims{3, {1, 1, D}}, sv("cls_token")));
    MAE_RETURN_IF_ERROR(tensor(pos_embed, Dims{3, {1, L + 1, D}}, sv("pos_embed")));
    MAE_RETURN_IF_ERROR(tensor(patch_embed.weight, Dims{4, {D, C, P, P}}, sv("patch_embed.proj.weight")));
    MAE_RETURN_IF_ERROR(tensor(patch_embed.bias, Dims{1, {D}}, sv("patch_embed.proj.bias")));
    for (std::size_t i = 0; i < Config::depth; ++i) MAE_RETURN_IF_ERROR(block(blocks[i], D, sv("blocks."), i));
    MAE_RETURN_IF_ERROR(layernorm(norm, D, sv("norm.")));
    if constexpr (Decoder) {
      MAE_RETURN_IF_ERROR(tensor(mask_token, Dims{3, {1, 1, Dd}}, sv("mask_token")));
      MAE_RETURN_IF_ERROR(tensor(decoder_pos_embed, Dims{3, {1, L + 1, Dd}}, sv("decoder_pos_embed")));
      MAE_RETURN_IF_ERROR(linear(decoder_embed, D, Dd, sv("decoder_embed.")));
      for (std::size_t i = 0; i < Config::dec_depth; ++i)
        MAE_RETURN_IF_ERROR(block(decoder_blocks[i], Dd, sv("decoder_blocks."), i));
      MAE_RETURN_IF_ERROR(layernorm(decoder_norm, Dd, sv("decoder_norm.")));
      MAE_RETURN_IF_ERROR(linear(decoder_pred, Dd, PD, sv("decoder_pred.")));
    }
    return Status::ok;
  }
};

// Bytes of F32 weights a model reads.
template <class Config, bool Decoder>
inline constexpr std::size_t static_weight_bytes = [] {
  std::size_t n = 0;
  StaticWeights<Config, Decoder> w;
  (void)w.visit([&](const TensorName&, const float*&, Dims d) {
    std::size_t e = 1;
    for (std::size_t i = 0; i < d.rank; ++i) e *= d.extents[i];
    n += e;
    return Status::ok;
  });
  return n * sizeof(float);
}();

// Where each buffer of the arena starts (bytes, 64-byte aligned). The decoder's buffers overlay the encoder's,
// which are dead by then; the latent and the masking indices live across both.
struct StaticLayout {
  std::size_t workspace, workspace_elems, probs, latent, ids_shuffle, ids_restore, ids_keep;
  std::size_t x, h, wide, y, patches, embed;                       // encoder phase
  std::size_t dec_embed, dec_x, dec_h, dec_wide, dec_y, dec_pred;  // decoder phase
  std::size_t total;
};

inline constexpr std::size_t static_alignment = 64;

template <class Config, std::size_t Batch, bool Decoder>
constexpr StaticLayout make_static_layout() {
  constexpr std::size_t C = Config::channels, P = Config::patch, D = Config::dim, Dd = Config::dec_dim,
                        L = Config::tokens, PD = Config::patch_dim, PatchIn = C * P * P, Keep = Config::keep,
                        Hidden = Config::mlp_ratio * D, DecHidden = Config::mlp_ratio * Dd, N = L + 1, Nm = Keep + 1;
  using detail::gemm_workspace;
  using detail::linear_workspace;
  const auto max = [](std::size_t a, std::size_t b) { return a > b ? a : b; };

  // The largest GEMM workspace of any product the model runs.
  std::size_t ws = linear_workspace<float>(Batch * L, PatchIn, D);
  const auto blocks = [&](std::size_t n, std::size_t d, std::size_t hidden, std::size_t heads) {
    const std::size_t rows = Batch * n, hd = d / heads;
    ws = max(ws, linear_workspace<float>(rows, d, 3 * d));
    ws = max(ws, linear_workspace<float>(rows, d, d));
    ws = max(ws, linear_workspace<float>(rows, d, hidden));
    ws = max(ws, linear_workspace<float>(rows, hidden, d));
    ws = max(ws, gemm_workspace<float>(n, n, hd));
    ws = max(ws, gemm_workspace<float>(n, hd, n));
  };
  blocks(N, D, Hidden, Config::heads);
  if (Decoder) {
    blocks(Nm, D, Hidden, Config::heads);
    ws = max(ws, linear_workspace<float>(Batch * Nm, D, Dd));
    blocks(N, Dd, DecHidden, Config::dec_heads);
    ws = max(ws, linear_workspace<float>(Batch * N, Dd, PD));
  }

  StaticLayout l{};
  std::size_t at = 0;
  const auto take = [&](std::size_t elems, std::size_t elem_size) {
    const std::size_t offset = at;
    at += detail::round_up(elems * elem_size, static_alignment);
    return offset;
  };
  constexpr std::size_t f = sizeof(float), i32 = sizeof(std::int32_t);
  l.workspace_elems = ws;
  l.workspace = take(ws, f);
  l.probs = take(N * N, f);
  if (Decoder) {
    l.latent = take(Batch * Nm * D, f);
    l.ids_shuffle = take(Batch * L, i32);
    l.ids_restore = take(Batch * L, i32);
    l.ids_keep = take(Batch * Keep, i32);
  }
  const std::size_t phase = at;
  l.x = take(Batch * N * D, f);
  l.h = take(Batch * N * D, f);
  l.wide = take(Batch * max(N * max(3 * D, Hidden), L * D), f);
  l.y = take(Batch * max(N * D, L * PatchIn), f);
  l.patches = l.y;   // the patch rows and their embedding are dead
  l.embed = l.wide;  // before the first block writes y and wide
  const std::size_t encoder_end = at;
  if (Decoder) {
    at = phase;
    l.dec_embed = take(Batch * Nm * Dd, f);
    l.dec_x = take(Batch * N * Dd, f);
    l.dec_h = take(Batch * N * Dd, f);
    l.dec_wide = take(Batch * N * max(3 * Dd, DecHidden), f);
    l.dec_y = take(Batch * N * Dd, f);
    l.dec_pred = take(Batch * N * PD, f);
  }
  l.total = max(at, encoder_end);
  return l;
}

template <class Config, std::size_t Batch, Parts P = Parts::full>
class StaticModel {
 public:
  static_assert(Batch > 0, "StaticModel: the batch must be at least 1");
  using config = Config;
  static constexpr bool has_decoder = P == Parts::full;
  using Weights = StaticWeights<Config, has_decoder>;
  using Norm = typename Weights::Norm;
  using Block = typename Weights::Block;
  static constexpr std::size_t batch = Batch, C = Config::channels, Img = Config::img, Patch = Config::patch,
                               D = Config::dim, Dd = Config::dec_dim, L = Config::tokens, PD = Config::patch_dim,
                               PatchIn = C * Patch * Patch, Keep = Config::keep, Hidden = Config::mlp_ratio * D,
                               DecHidden = Config::mlp_ratio * Dd;

  // Element counts of the caller's inputs and outputs (float, row-major; outputs must not overlap the arena).
  static constexpr std::size_t image_elems = Batch * C * Img * Img;  // (Batch, C, Img, Img)
  static constexpr std::size_t feature_elems = Batch * (L + 1) * D;  // (Batch, 1 + L, D), cls first
  static constexpr std::size_t noise_elems = Batch * L;              // (Batch, L)
  static constexpr std::size_t pred_elems = Batch * L * PD;          // (Batch, L, p*p*C)
  static constexpr std::size_t mask_elems = Batch * L;               // (Batch, L), 1 = removed

  // Bytes of F32 weights read in place (flash, not RAM, when they sit in a constant array).
  static constexpr std::size_t weight_bytes = static_weight_bytes<Config, has_decoder>;

 private:
  static constexpr std::size_t enc_tokens = L + 1, dec_tokens = L + 1, masked_tokens = Keep + 1;
  static constexpr std::size_t enc_heads = Config::heads, dec_heads = Config::dec_heads;

 public:
  static constexpr std::size_t alignment = static_alignment;
  static constexpr StaticLayout layout = make_static_layout<Config, Batch, has_decoder>();
  // The one buffer the caller provides: every activation and the GEMM packing workspace.
  static constexpr std::size_t required_bytes = layout.total;

  float layer_norm_eps = 1e-6f;  // MAE's; HF checkpoints were trained with 1e-12

  // Hands the model its arena: `bytes` >= required_bytes, aligned to `alignment`. Kept until the next bind.
  Status bind(void* buffer, std::size_t bytes) noexcept {
    if (bytes < required_bytes) return Status::buffer_too_small;
    if (reinterpret_cast<std::uintptr_t>(buffer) % alignment != 0) return Status::buffer_misaligned;
    arena_ = static_cast<std::byte*>(buffer);
    return Status::ok;
  }

  // Takes the weight pointers (load_weights in mae/io/static_weights.hpp fills them); every one must be set.
  Status set_weights(const Weights& w) noexcept {
    Weights copy = w;
    MAE_RETURN_IF_ERROR(copy.visit([](const TensorName&, const float*& slot, Dims) {
      return slot ? Status::ok : Status::tensor_missing;
    }));
    w_ = w;
    loaded_ = true;
    return Status::ok;
  }
  const Weights& weights() const noexcept { return w_; }
  bool ready() const noexcept { return arena_ && loaded_; }

  // Encoder on all L patches, no masking (features for probes): images (Batch, C, Img, Img) ->
  // features (Batch, 1 + L, D). MaskedAutoencoder::encode_all.
  Status encode_all(const float* images, float* features) noexcept {
    if (!ready()) return Status::not_ready;
    MAE_RETURN_IF_ERROR(embed(images));
    float* x = buf<float>(layout.x);
    const float* e = buf<float>(layout.embed);
    put_cls(x, enc_tokens);
    for (std::size_t b = 0; b < Batch; ++b) std::memcpy(x + (b * enc_tokens + 1) * D, e + b * L * D, L * D * sizeof(float));
    MAE_RETURN_IF_ERROR(encoder_blocks(x, enc_tokens, features));
    return Status::ok;
  }

  // The pretraining forward without the loss: masks with `noise` (Batch, L) as MAE does (the Keep tokens of
  // smallest noise stay visible; a 0/1 array with L - Keep ones per sample picks the removed patches),
  // encodes the visible tokens, decodes. pred (Batch, L, p*p*C) and mask (Batch, L) as MaskedAutoencoder::forward.
  Status reconstruct(const float* images, const float* noise, float* pred, float* mask) noexcept
    requires has_decoder
  {
    if (!ready()) return Status::not_ready;
    for (std::size_t i = 0; i < noise_elems; ++i)
      if (!std::isfinite(noise[i])) return Status::invalid_noise;  // NaN would break the sort's ordering
    auto* ids_keep = buf<std::int32_t>(layout.ids_keep);
    auto* ids_restore = buf<std::int32_t>(layout.ids_restore);
    detail::random_masking(noise, Batch, L, Keep, buf<std::int32_t>(layout.ids_shuffle), ids_restore, ids_keep, mask);

    MAE_RETURN_IF_ERROR(embed(images));
    float* x = buf<float>(layout.x);
    const float* e = buf<float>(layout.embed);
    put_cls(x, masked_tokens);
    for (std::size_t b = 0; b < Batch; ++b)
      for (std::size_t k = 0; k < Keep; ++k)
        std::memcpy(x + (b * masked_tokens + 1 + k) * D, e + (b * L + static_cast<std::size_t>(ids_keep[b * Keep + k])) * D,
                    D * sizeof(float));
    float* latent = buf<float>(layout.latent);
    MAE_RETURN_IF_ERROR(encoder_blocks(x, masked_tokens, latent));

    // Decoder (MaskedAutoencoder::decode): embed, mask tokens in the removed places, original order, + position.
    float* y = buf<float>(layout.dec_embed);
    MAE_RETURN_IF_ERROR(detail::linear_forward(latent, w_.decoder_embed.weight, w_.decoder_embed.bias, y,
                                               Batch * masked_tokens, D, Dd, workspace()));
    float* dx = buf<float>(layout.dec_x);
    for (std::size_t b = 0; b < Batch; ++b) {
      const float* yb = y + b * masked_tokens * Dd;
      float* xb = dx + b * dec_tokens * Dd;
      std::memcpy(xb, yb, Dd * sizeof(float));
      for (std::size_t t = 0; t < L; ++t) {
        const auto j = static_cast<std::size_t>(ids_restore[b * L + t]);
        std::memcpy(xb + (1 + t) * Dd, j < Keep ? yb + (1 + j) * Dd : w_.mask_token, Dd * sizeof(float));
      }
    }
    detail::add_rowvec(dx, w_.decoder_pos_embed, dx, Batch, dec_tokens * Dd);
    for (std::size_t i = 0; i < Config::dec_depth; ++i)
      MAE_RETURN_IF_ERROR(block<Dd, DecHidden>(w_.decoder_blocks[i], dx, dec_tokens, dec_heads, layout.dec_h,
                                               layout.dec_wide, layout.dec_y));
    float* h = buf<float>(layout.dec_h);
    layer_norm(w_.decoder_norm, dx, h, Batch * dec_tokens, Dd);
    float* full = buf<float>(layout.dec_pred);
    MAE_RETURN_IF_ERROR(detail::linear_forward(h, w_.decoder_pred.weight, w_.decoder_pred.bias, full,
                                               Batch * dec_tokens, Dd, PD, workspace()));
    for (std::size_t b = 0; b < Batch; ++b)  // drop the cls row
      std::memcpy(pred + b * L * PD, full + (b * dec_tokens + 1) * PD, L * PD * sizeof(float));
    return Status::ok;
  }

 private:
  template <class T>
  T* buf(std::size_t offset) const noexcept {
    return reinterpret_cast<T*>(arena_ + offset);
  }
  detail::Workspace<float> workspace() const noexcept { return {buf<float>(layout.workspace), layout.workspace_elems}; }

  void layer_norm(const Norm& n, const float* x, float* y, std::size_t rows, std::size_t d) const noexcept {
    detail::layernorm_forward(x, n.weight, n.bias, y, rows, d, layer_norm_eps);
  }

  // Patch embedding plus position (MaskedAutoencoder::embed) into `embed`: (Batch, L, D).
  Status embed(const float* images) noexcept {
    float* patches = buf<float>(layout.patches);
    float* e = buf<float>(layout.embed);
    detail::patch_rows_conv(images, patches, Batch, C, Img, Img, Patch);
    MAE_RETURN_IF_ERROR(detail::linear_forward(patches, w_.patch_embed.weight, w_.patch_embed.bias, e, Batch * L,
                                               PatchIn, D, workspace()));
    detail::add_rowvec(e, w_.pos_embed + D, e, Batch, L * D);
    return Status::ok;
  }

  // Token 0 of every sample of x (Batch, n, D): cls_token + pos_embed[0].
  void put_cls(float* x, std::size_t n) const noexcept {
    detail::add_rowvec(w_.cls_token, w_.pos_embed, x, 1, D);
    for (std::size_t b = 1; b < Batch; ++b) std::memcpy(x + b * n * D, x, D * sizeof(float));
  }

  // The encoder's blocks and final norm on x (Batch, n, D), in place; the normalised tokens go to `out`.
  Status encoder_blocks(float* x, std::size_t n, float* out) noexcept {
    for (std::size_t i = 0; i < Config::depth; ++i)
      MAE_RETURN_IF_ERROR(block<D, Hidden>(w_.blocks[i], x, n, enc_heads, layout.h, layout.wide, layout.y));
    layer_norm(w_.norm, x, out, Batch * n, D);
    return Status::ok;
  }

  // One pre-norm block (nn::Block) on x (Batch, n, Dm), in place: x += attn(norm1(x)); x += mlp(norm2(x)).
  template <std::size_t Dm, std::size_t Hid>
  Status block(const Block& w, float* x, std::size_t n, std::size_t heads, std::size_t h_at, std::size_t wide_at,
               std::size_t y_at) noexcept {
    const std::size_t rows = Batch * n;
    float *h = buf<float>(h_at), *wide = buf<float>(wide_at), *y = buf<float>(y_at);
    const auto ws = workspace();
    layer_norm(w.norm1, x, h, rows, Dm);
    MAE_RETURN_IF_ERROR(detail::linear_forward(h, w.qkv.weight, w.qkv.bias, wide, rows, Dm, 3 * Dm, ws));
    MAE_RETURN_IF_ERROR(detail::attention_forward(wide, h, buf<float>(layout.probs), Batch, n, heads, Dm / heads, ws));
    MAE_RETURN_IF_ERROR(detail::linear_forward(h, w.proj.weight, w.proj.bias, y, rows, Dm, Dm, ws));
    detail::add_rowvec(x, y, x, 1, rows * Dm);
    layer_norm(w.norm2, x, h, rows, Dm);
    MAE_RETURN_IF_ERROR(detail::linear_forward(h, w.fc1.weight, w.fc1.bias, wide, rows, Dm, Hid, ws));
    detail::gelu_forward(wide, wide, rows * Hid);
    MAE_RETURN_IF_ERROR(detail::linear_forward(wide, w.fc2.weight, w.fc2.bias, y, rows, Hid, Dm, ws));
    detail::add_rowvec(x, y, x, 1, rows * Dm);
    return Status::ok;
  }

  std::byte* arena_ = nullptr;
  Weights w_{};
  bool loaded_ = false;
};

template <class Config, std::size_t Batch>
using StaticEncoder = StaticModel<Config, Batch, Parts::encoder>;
template <class Config, std::size_t Batch>
using StaticMae = StaticModel<Config, Batch, Parts::full>;

// Static storage for a model's arena: `static StaticArena<Model> arena;` then model.bind(arena.bytes, sizeof arena.bytes).
template <class Model>
struct StaticArena {
  alignas(Model::alignment) std::byte bytes[Model::required_bytes];
};

}  // namespace mae::embedded
