#pragma once
// Official (timm) parameter names and their HuggingFace ViTMAEForPreTraining counterparts (MAE_SPEC §10).
// The fused qkv maps to three HF tensors (query, key, value), stacked in that order along the rows.
#include <string>
#include <string_view>
#include <vector>

namespace mae {

namespace detail {
// "blocks.3.attn.qkv.weight" -> {"3", "attn.qkv.weight"} when name starts with prefix "blocks."
inline bool split_layer(std::string_view name, std::string_view prefix, std::string& index, std::string& rest) {
  if (name.substr(0, prefix.size()) != prefix) return false;
  name.remove_prefix(prefix.size());
  const auto dot = name.find('.');
  if (dot == std::string_view::npos) return false;
  index = std::string(name.substr(0, dot));
  rest = std::string(name.substr(dot + 1));
  return true;
}

// A block's sub-name in HF's layer naming ("attn.qkv.weight" -> the three attention.attention.* names).
inline std::vector<std::string> hf_layer_names(const std::string& layer, const std::string& rest) {
  const auto suffix = rest.substr(rest.rfind('.'));  // ".weight" / ".bias"
  const auto module = rest.substr(0, rest.rfind('.'));
  if (module == "attn.qkv")
    return {layer + "attention.attention.query" + suffix, layer + "attention.attention.key" + suffix,
            layer + "attention.attention.value" + suffix};
  const char* hf = module == "norm1"      ? "layernorm_before"
                   : module == "norm2"    ? "layernorm_after"
                   : module == "attn.proj" ? "attention.output.dense"
                   : module == "mlp.fc1"  ? "intermediate.dense"
                   : module == "mlp.fc2"  ? "output.dense"
                                          : nullptr;
  if (!hf) return {};
  return {layer + hf + suffix};
}
}  // namespace detail

// The HF names holding an official tensor; empty when there is no counterpart.
inline std::vector<std::string> hf_names(const std::string& official) {
  std::string index, rest;
  if (official == "cls_token") return {"vit.embeddings.cls_token"};
  if (official == "pos_embed") return {"vit.embeddings.position_embeddings"};
  if (official.rfind("patch_embed.proj.", 0) == 0)
    return {"vit.embeddings.patch_embeddings.projection." + official.substr(17)};
  if (official.rfind("norm.", 0) == 0) return {"vit.layernorm." + official.substr(5)};
  if (detail::split_layer(official, "blocks.", index, rest))
    return detail::hf_layer_names("vit.encoder.layer." + index + ".", rest);
  if (detail::split_layer(official, "decoder_blocks.", index, rest))
    return detail::hf_layer_names("decoder.decoder_layers." + index + ".", rest);
  if (official.rfind("decoder", 0) == 0 || official == "mask_token") return {"decoder." + official};
  return {};
}

// Decoder-side tensors may be absent from encoder-only checkpoints.
inline bool is_decoder_name(std::string_view official) {
  return official.rfind("decoder", 0) == 0 || official == "mask_token";
}

}  // namespace mae
