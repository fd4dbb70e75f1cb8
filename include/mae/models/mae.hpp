#pragma once
// MaskedAutoencoder<Config, T, Backend>: the model of He et al. 2021 as one type (MAE_SPEC §1-§7).
// One training step reads top to bottom in forward(): embed patches, mask, encode the visible tokens,
// decode with mask tokens, norm-pix loss on the removed patches. Depth is a run-time vector of blocks.
#include <cstdint>
#include <string>
#include <vector>

#include "mae/autograd/ops.hpp"
#include "mae/models/config.hpp"
#include "mae/core/masking.hpp"
#include "mae/models/pos_embed.hpp"
#include "mae/nn/block.hpp"

namespace mae {

struct NoBlockObserver {
  template <class X>
  void operator()(std::size_t, const X&) const noexcept {}
};

template <class Config, class T = float, class B = backends::cpu>
class MaskedAutoencoder {
 public:
  using config = Config;
  using value_type = T;
  using backend = B;
  static constexpr std::size_t C = Config::channels, Img = Config::img, P = Config::patch, D = Config::dim,
                               Dd = Config::dec_dim, L = Config::tokens, PD = Config::patch_dim,
                               PatchIn = C * P * P;
  using Images = Shape<dyn, C, Img, Img>;
  using EncoderBlock = nn::Block<T, D, Config::heads, Config::mlp_ratio, B>;
  using DecoderBlock = nn::Block<T, Dd, Config::dec_heads, Config::mlp_ratio, B>;

  // Parameters and buffers under their official names (MAE_SPEC §10).
  Param<T, Shape<D, C, P, P>, B> patch_embed_weight;                // patch_embed.proj.weight
  Param<T, Shape<D>, B> patch_embed_bias{no_decay};           // patch_embed.proj.bias
  Param<T, Shape<1, 1, D>, B> cls_token;                            // decayed in pretraining (3-D)
  Tensor<T, Shape<1, L + 1, D>, B> pos_embed;                       // fixed sin-cos
  std::vector<EncoderBlock> blocks;
  nn::LayerNorm<T, D, B> norm;
  nn::Linear<T, D, Dd, B> decoder_embed;
  Param<T, Shape<1, 1, Dd>, B> mask_token;
  Tensor<T, Shape<1, L + 1, Dd>, B> decoder_pos_embed;
  std::vector<DecoderBlock> decoder_blocks;
  nn::LayerNorm<T, Dd, B> decoder_norm;
  nn::Linear<T, Dd, PD, B> decoder_pred;
  bool norm_pix_loss = true;
  std::uint64_t mask_seed = 0;  // masking noise when none is given: uniform_at(mask_seed, step, ·)

  explicit MaskedAutoencoder(std::uint64_t seed = 0) : blocks(Config::depth), decoder_blocks(Config::dec_depth) {
    if constexpr (host_backend<B>) {
      init(seed);
    } else {  // device memory: the values come from a host model, see copy_parameters (mae/backend/thrust/transfer.hpp)
      mask_seed = seed;
      visit_params([](const std::string&, auto& p) {
        kernels<B>::zero(p.value.data(), p.value.size());
        kernels<B>::zero(p.grad.data(), p.grad.size());
      });
    }
  }

  // Official initialisation (MAE_SPEC §7) from the library's RNG.
  void init(std::uint64_t seed) {
    nn::Initializer rng{seed};
    rng.xavier_uniform(patch_embed_weight, D, PatchIn);
    const double bound = 1.0 / std::sqrt(static_cast<double>(PatchIn));  // Conv2d's default bias init
    rng.uniform(patch_embed_bias, -bound, bound);
    rng.normal(cls_token, 0.0, 0.02);
    rng.normal(mask_token, 0.0, 0.02);
    for (auto& b : blocks) b.init(rng);
    norm.init(rng);
    decoder_embed.init(rng);
    for (auto& b : decoder_blocks) b.init(rng);
    decoder_norm.init(rng);
    decoder_pred.init(rng);
    sincos_2d_table(pos_embed.data(), D, Config::grid);
    sincos_2d_table(decoder_pos_embed.data(), Dd, Config::grid);
    mask_seed = seed;
    visit_params([](const std::string&, auto& p) { kernels<B>::zero(p.grad.data(), p.grad.size()); });
  }

  // f(name, Param&) for every trainable parameter, in the official order.
  template <class F>
  void visit_params(F&& f) {
    f(std::string("cls_token"), cls_token);
    f(std::string("patch_embed.proj.weight"), patch_embed_weight);
    f(std::string("patch_embed.proj.bias"), patch_embed_bias);
    for (std::size_t i = 0; i < blocks.size(); ++i) blocks[i].visit("blocks." + std::to_string(i) + ".", f);
    norm.visit("norm.", f);
    f(std::string("mask_token"), mask_token);
    decoder_embed.visit("decoder_embed.", f);
    for (std::size_t i = 0; i < decoder_blocks.size(); ++i)
      decoder_blocks[i].visit("decoder_blocks." + std::to_string(i) + ".", f);
    decoder_norm.visit("decoder_norm.", f);
    decoder_pred.visit("decoder_pred.", f);
  }
  // f(name, Tensor&) for the fixed tables, which checkpoints store too.
  template <class F>
  void visit_buffers(F&& f) {
    f(std::string("pos_embed"), pos_embed);
    f(std::string("decoder_pos_embed"), decoder_pos_embed);
  }

  struct Output {
    Var<T, Shape<>, B> loss;
    Var<T, Shape<dyn, L, PD>, B> pred;  // normalised patches when norm_pix_loss
    MaskIndices<T> masking;             // mask (1 = removed), ids_restore, ids_keep
  };

  // The whole pretraining forward. noise: (batch, L) uniforms, or null to draw them for `step`.
  // Keep is the static visible-token count; pass dyn (and `keep`) for a mask ratio chosen at run time.
  template <std::size_t Keep = Config::keep>
  Output forward(Tape<B>& tape, Var<T, Images, B> imgs, const float* noise = nullptr, std::uint64_t step = 0,
                 std::size_t keep = Keep) {
    MAE_CHECK(keep > 0 && keep <= L, "MaskedAutoencoder::forward: keep count " + std::to_string(keep) +
                                          " outside [1, " + std::to_string(L) + "]");
    const std::size_t batch = imgs.dims[0];
    MaskIndices<T> m = mask(tape, batch, keep, noise, step);
    auto latent = encode<Keep>(tape, imgs, m.ids_keep, keep);
    auto pred = decode<Keep>(tape, latent, m.ids_restore, keep);
    auto target = patchify<P>(tape, imgs);
    auto loss = masked_mse(tape, pred, target, m.mask, norm_pix_loss);
    return {loss, pred, m};
  }

  MaskIndices<T> mask(Tape<B>& tape, std::size_t batch, std::size_t keep, const float* noise, std::uint64_t step) {
    MaskIndices<T> m{tape.template alloc<std::int32_t>(batch * L), tape.template alloc<std::int32_t>(batch * L),
                     tape.template alloc<std::int32_t>(batch * keep), tape.template alloc<T>(batch * L)};
    if (!noise) {
      float* drawn = tape.template alloc<float>(batch * L);
      kernels<B>::fill_uniform(drawn, batch * L, mask_seed, step);
      noise = drawn;
    }
    kernels<B>::random_masking(noise, batch, L, keep, m);
    return m;
  }

  // Patch embedding plus position: (batch, L, D).
  Var<T, Shape<dyn, L, D>, B> embed(Tape<B>& tape, Var<T, Images, B> imgs) {
    auto scope = tape.scope("patch_embed");
    auto x = linear(tape, patch_rows_conv<P>(tape, imgs), patch_embed_weight.template var_as<Shape<D, PatchIn>>(),
                    patch_embed_bias.var());
    return add(tape, x, Var<T, Shape<L, D>, B>{pos_embed.data() + D, nullptr, {L, D}});
  }

  // Encoder on the visible tokens ids_keep (batch, keep): (batch, 1 + keep, D).
  template <std::size_t Keep = Config::keep>
  auto encode(Tape<B>& tape, Var<T, Images, B> imgs, const std::int32_t* ids_keep, std::size_t keep = Keep) {
    auto visible = gather_tokens<Keep>(tape, embed(tape, imgs), ids_keep, keep);
    return encoder_blocks(tape, visible, Config::depth, NoBlockObserver{});
  }

  // Encoder on all L tokens, no masking (features for probes and fine-tuning): (batch, 1 + L, D).
  // With num_blocks < depth: the output of block num_blocks - 1 (no final norm), for probing inner layers.
  // after_block(i, x) sees the output of every block i < num_blocks on the way (multi-layer probes).
  template <class F = NoBlockObserver>
  auto encode_all(Tape<B>& tape, Var<T, Images, B> imgs, std::size_t num_blocks = Config::depth, F after_block = {}) {
    return encoder_blocks(tape, embed(tape, imgs), num_blocks, after_block);
  }

  template <std::size_t Keep = Config::keep, std::size_t N>
  Var<T, Shape<dyn, L, PD>, B> decode(Tape<B>& tape, Var<T, Shape<dyn, N, D>, B> latent,
                                      const std::int32_t* ids_restore, std::size_t keep = Keep) {
    constexpr std::size_t Removed = Keep == dyn ? dyn : L - Keep;
    const std::size_t batch = latent.dims[0];
    auto y = [&] { auto s = tape.scope("decoder_embed"); return decoder_embed(tape, latent); }();
    auto tokens = concat_tokens(tape, slice_tokens<Keep>(tape, y, 1, keep),
                                expand_token<Removed>(tape, mask_token.var(), batch, L - keep));
    auto x = concat_tokens(tape, slice_tokens<1>(tape, y, 0), gather_tokens<L>(tape, tokens, ids_restore));
    x = add(tape, x, Var<T, Shape<L + 1, Dd>, B>{decoder_pos_embed.data(), nullptr, {L + 1, Dd}});
    for (std::size_t i = 0; i < decoder_blocks.size(); ++i) {
      auto scope = tape.scope("decoder_blocks", static_cast<int>(i));
      x = decoder_blocks[i](tape, x);
    }
    auto scope = tape.scope("decoder_pred");
    return slice_tokens<L>(tape, decoder_pred(tape, decoder_norm(tape, x)), 1);
  }

 private:
  template <std::size_t N, class F>
  auto encoder_blocks(Tape<B>& tape, Var<T, Shape<dyn, N, D>, B> tokens, std::size_t num_blocks, F&& after_block) {
    MAE_CHECK(num_blocks <= blocks.size(), "MaskedAutoencoder: asked for " + std::to_string(num_blocks) +
                                               " encoder blocks, the model has " + std::to_string(blocks.size()));
    const std::size_t batch = tokens.dims[0];
    auto cls = add(tape, cls_token.var(), Var<T, Shape<1, 1, D>, B>{pos_embed.data(), nullptr, {1, 1, D}});
    auto x = concat_tokens(tape, expand_token<1>(tape, cls, batch), tokens);
    for (std::size_t i = 0; i < num_blocks; ++i) {
      auto scope = tape.scope("blocks", static_cast<int>(i));
      x = blocks[i](tape, x);
      after_block(i, x);
    }
    if (num_blocks < blocks.size()) return x;
    auto scope = tape.scope("norm");
    return norm(tape, x);
  }
};

}  // namespace mae
