#pragma once
// MAE configurations (MAE_SPEC §9). A config is a type; an invalid one does not compile.
#include <cstddef>
#include <string_view>

namespace mae {

// len_keep = int(L * (1 - mask_ratio)), truncated in double precision as Python does (MAE_SPEC §3).
constexpr std::size_t keep_count(std::size_t tokens, double mask_ratio) {
  return static_cast<std::size_t>(static_cast<double>(tokens) * (1.0 - mask_ratio));
}

template <std::size_t Img, std::size_t Patch, std::size_t Channels, std::size_t Dim, std::size_t Depth,
          std::size_t Heads, std::size_t DecDim, std::size_t DecDepth, std::size_t DecHeads,
          std::size_t MlpRatio = 4>
struct MaeConfig {
  static_assert(Img % Patch == 0, "MaeConfig: the image size must be a multiple of the patch size");
  static_assert(Dim % Heads == 0, "MaeConfig: the encoder width must be divisible by its number of heads");
  static_assert(DecDim % DecHeads == 0, "MaeConfig: the decoder width must be divisible by its number of heads");
  static_assert(Dim % 4 == 0 && DecDim % 4 == 0, "MaeConfig: the 2-D sin-cos table needs widths divisible by 4");
  static constexpr std::size_t img = Img, patch = Patch, channels = Channels, dim = Dim, depth = Depth, heads = Heads,
                               dec_dim = DecDim, dec_depth = DecDepth, dec_heads = DecHeads, mlp_ratio = MlpRatio;
  static constexpr std::size_t grid = Img / Patch, tokens = grid * grid, patch_dim = Patch * Patch * Channels;
};

// A named preset with its mask ratio; `keep` must leave at least one visible token.
template <class Base, class Name, std::size_t MaskRatioPermille = 750>
struct MaePreset : Base {
  static constexpr double mask_ratio = MaskRatioPermille / 1000.0;
  static constexpr std::size_t keep = keep_count(Base::tokens, mask_ratio);
  static_assert(keep > 0, "MaePreset: the mask ratio removes every token (keep count is 0)");
  static constexpr std::string_view name = Name::value;
};

namespace presets {
// clang-format off
struct base_name   { static constexpr std::string_view value = "mae_vit_base_patch16"; };
struct large_name  { static constexpr std::string_view value = "mae_vit_large_patch16"; };
struct huge_name   { static constexpr std::string_view value = "mae_vit_huge_patch14"; };
struct fmnist_name { static constexpr std::string_view value = "fmnist-tiny"; };
struct cifar_name  { static constexpr std::string_view value = "cifar-vit-tiny"; };
using mae_vit_base_patch16  = MaePreset<MaeConfig<224, 16, 3, 768, 12, 12, 512, 8, 16>, base_name>;
using mae_vit_large_patch16 = MaePreset<MaeConfig<224, 16, 3, 1024, 24, 16, 512, 8, 16>, large_name>;
using mae_vit_huge_patch14  = MaePreset<MaeConfig<224, 14, 3, 1280, 32, 16, 512, 8, 16>, huge_name>;
using fmnist_tiny           = MaePreset<MaeConfig<28, 4, 1, 128, 6, 4, 64, 2, 4>, fmnist_name>;
using cifar_vit_tiny        = MaePreset<MaeConfig<32, 4, 3, 192, 12, 3, 128, 4, 4>, cifar_name>;
// clang-format on
}  // namespace presets

}  // namespace mae
