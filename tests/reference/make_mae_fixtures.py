"""MAE parity fixtures: the Masked Autoencoder of MAE_SPEC.md §1-§8 in PyTorch (our own module code,
official parameter names), one forward+backward on fixed images and noise, and a 5-step AdamW run.

Writes into DIR:
  mae_<preset>.safetensors                 parameters, inputs, outputs, every gradient, 5 AdamW losses
  mae_<preset>_official_weights.safetensors  the initial weights under official names
  mae_<preset>_hf_weights.safetensors        the same weights under HuggingFace ViTMAE names (q/k/v split)
  mae_<preset>_io.safetensors                "images" and "noise" for the mae_reconstruct CLI test

Usage: /usr/bin/python3 tests/reference/make_mae_fixtures.py --preset fmnist-tiny --out DIR [--batch 2] [--seed 0]
"""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402
from make_op_fixtures import attention, masked_mse_norm_pix, patchify, token_index  # noqa: E402

# MAE_SPEC §9 (mlp_ratio 4, mask ratio 0.75 for all).
PRESETS = {
    "fmnist-tiny": dict(img=28, patch=4, chans=1, dim=128, depth=6, heads=4, dec_dim=64, dec_depth=2, dec_heads=4),
    "cifar-vit-tiny": dict(img=32, patch=4, chans=3, dim=192, depth=12, heads=3, dec_dim=128, dec_depth=4,
                           dec_heads=4),
    "mae_vit_base_patch16": dict(img=224, patch=16, chans=3, dim=768, depth=12, heads=12, dec_dim=512, dec_depth=8,
                                 dec_heads=16),
    "mae_vit_large_patch16": dict(img=224, patch=16, chans=3, dim=1024, depth=24, heads=16, dec_dim=512,
                                  dec_depth=8, dec_heads=16),
    "mae_vit_huge_patch14": dict(img=224, patch=14, chans=3, dim=1280, depth=32, heads=16, dec_dim=512,
                                 dec_depth=8, dec_heads=16),
}
MLP_RATIO = 4
MASK_RATIO = 0.75
LN_EPS = 1e-6
# Optimiser of the 5-step run (MAE_SPEC §8, constant lr).
STEPS = 5
LR = 1e-3
BETAS = (0.9, 0.95)
ADAM_EPS = 1e-8
WEIGHT_DECAY = 0.05
# Tensors whose values after the 5 steps are stored: one per kind of parameter (4-D conv weight, fused
# qkv, LayerNorm weight and bias-like 1-D params in the no-decay group, 3-D tokens in the decay group).
PARAM_AFTER = ["patch_embed.proj.weight", "patch_embed.proj.bias", "blocks.0.attn.qkv.weight",
               "blocks.0.norm1.weight", "decoder_pred.bias", "cls_token", "mask_token"]


def sincos_table(dim, grid_h, grid_w):
    """(1 + L, dim) fixed 2-D sin-cos table (MAE_SPEC §2): row 0 zeros (cls), then for token
    t = i*grid_w + j: [sin(j w), cos(j w), sin(i w), cos(i w)], the column index j first."""
    assert dim % 4 == 0, f"sin-cos table needs dim % 4 == 0, got {dim}"
    q = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(q, dtype=torch.float64) / q)
    row = torch.arange(grid_h, dtype=torch.float64).repeat_interleave(grid_w)[:, None] * omega
    col = torch.arange(grid_w, dtype=torch.float64).repeat(grid_h)[:, None] * omega
    table = torch.cat([col.sin(), col.cos(), row.sin(), row.cos()], dim=1)
    return torch.cat([torch.zeros(1, dim, dtype=torch.float64), table]).float()


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        assert dim % heads == 0, f"dim {dim} % heads {heads} != 0"
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return self.proj(attention(self.qkv(x), self.heads))


class Mlp(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc1 = nn.Linear(dim, MLP_RATIO * dim)
        self.fc2 = nn.Linear(MLP_RATIO * dim, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact erf GELU


class Block(nn.Module):
    """Pre-norm transformer block (timm layout)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = Mlp(dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, chans, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(chans, dim, kernel_size=patch, stride=patch)

    def forward(self, img):
        return self.proj(img).flatten(2).transpose(1, 2)  # (B, L, D), tokens row-major


class MaskedAutoencoder(nn.Module):
    """Module names are the official ones (MAE_SPEC §10), so state_dict() keys are official names.
    pos_embed / decoder_pos_embed are buffers: fixed, stored in checkpoints, never trained."""

    def __init__(self, img, patch, chans, dim, depth, heads, dec_dim, dec_depth, dec_heads):
        super().__init__()
        assert img % patch == 0, f"image {img} % patch {patch} != 0"
        self.patch, self.grid = patch, img // patch
        num_tokens = self.grid * self.grid
        self.patch_embed = PatchEmbed(chans, dim, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.register_buffer("pos_embed", sincos_table(dim, self.grid, self.grid)[None])
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.decoder_embed = nn.Linear(dim, dec_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dec_dim))
        self.register_buffer("decoder_pos_embed", sincos_table(dec_dim, self.grid, self.grid)[None])
        self.decoder_blocks = nn.ModuleList([Block(dec_dim, dec_heads) for _ in range(dec_depth)])
        self.decoder_norm = nn.LayerNorm(dec_dim, eps=LN_EPS)
        self.decoder_pred = nn.Linear(dec_dim, patch * patch * chans)
        self.len_keep = int(num_tokens * (1 - MASK_RATIO))  # Python double, truncating (§3)
        assert self.len_keep > 0
        self._init_official()

    def _init_official(self):
        """MAE_SPEC §7. The conv bias keeps nn.Conv2d's default init drawn at construction."""
        w = self.patch_embed.proj.weight
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def encode(self, imgs, noise):
        x = self.patch_embed(imgs) + self.pos_embed[:, 1:]
        b, num_tokens, d = x.shape
        ids_shuffle = torch.argsort(noise, dim=1)            # small noise = kept
        ids_restore = torch.argsort(ids_shuffle, dim=1)      # inverse permutation
        ids_keep = ids_shuffle[:, :self.len_keep]
        x = torch.gather(x, 1, token_index(ids_keep, d))     # visible tokens, shuffled order
        mask = torch.ones(b, num_tokens, dtype=x.dtype)
        mask[:, :self.len_keep] = 0
        mask = torch.gather(mask, 1, ids_restore)            # 1 = removed, original order
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(b, -1, -1)
        x = torch.cat([cls, x], dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x), mask, ids_restore

    def decode(self, latent, ids_restore):
        x = self.decoder_embed(latent)
        b, n, d = x.shape
        num_tokens = ids_restore.shape[1]
        masked = self.mask_token.expand(b, num_tokens + 1 - n, -1)
        tokens = torch.gather(torch.cat([x[:, 1:], masked], dim=1), 1, token_index(ids_restore, d))
        x = torch.cat([x[:, :1], tokens], dim=1) + self.decoder_pos_embed
        for blk in self.decoder_blocks:
            x = blk(x)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:]

    def forward(self, imgs, noise):
        latent, mask, ids_restore = self.encode(imgs, noise)
        pred = self.decode(latent, ids_restore)
        loss = masked_mse_norm_pix(pred, patchify(imgs, self.patch), mask)
        return loss, pred, mask, ids_restore, latent


def hf_name(name, part=None):
    """Official name -> HuggingFace ViTMAEForPreTraining name (MAE_SPEC §10). For a fused qkv tensor,
    `part` ("query", "key" or "value") names the third of its rows that the HF name holds."""
    parts = name.split(".")
    if parts[0] in ("blocks", "decoder_blocks"):
        prefix = ("vit.encoder.layer." if parts[0] == "blocks" else "decoder.decoder_layers.") + parts[1] + "."
        sub = ".".join(parts[2:])
        for old, new in (("norm1.", "layernorm_before."), ("norm2.", "layernorm_after."),
                         ("attn.qkv.", f"attention.attention.{part}."), ("attn.proj.", "attention.output.dense."),
                         ("mlp.fc1.", "intermediate.dense."), ("mlp.fc2.", "output.dense.")):
            if sub.startswith(old):
                return prefix + new + sub[len(old):]
    elif name in ("cls_token", "pos_embed"):
        return {"cls_token": "vit.embeddings.cls_token", "pos_embed": "vit.embeddings.position_embeddings"}[name]
    elif parts[0] == "patch_embed":
        return "vit.embeddings.patch_embeddings.projection." + parts[-1]
    elif parts[0] == "norm":
        return "vit.layernorm." + parts[-1]
    elif parts[0] in ("mask_token", "decoder_pos_embed", "decoder_embed", "decoder_norm", "decoder_pred"):
        return "decoder." + name
    raise KeyError(f"hf_name: no HuggingFace name for {name}")


def to_hf(weights):
    """Official-named weights -> HF-named weights; a fused qkv (3D, ...) becomes query/key/value rows
    [0, D), [D, 2D), [2D, 3D)."""
    out = {}
    for name, t in weights.items():
        if ".attn.qkv." in name:
            for part, rows in zip(("query", "key", "value"), t.chunk(3, dim=0)):
                out[hf_name(name, part)] = rows.contiguous()
        else:
            out[hf_name(name)] = t
    return out


def draw_inputs(cfg, batch, seed):
    """images (B,C,H,W) ~ N(0,1) and noise_steps (STEPS,B,L) ~ U[0,1) without ties within a row
    (a tie would make argsort's order, hence the mask, implementation-defined)."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, cfg["chans"], cfg["img"], cfg["img"], generator=g)
    num_tokens = (cfg["img"] // cfg["patch"]) ** 2
    while True:
        noise = torch.rand(STEPS, batch, num_tokens, generator=g)
        if all(row.unique().numel() == num_tokens for row in noise.reshape(-1, num_tokens)):
            return images, noise


def param_groups(model):
    """MAE_SPEC §8: weight decay for params with ndim >= 2 (weights, cls/mask tokens), none for 1-D."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}]


def make(preset, batch, seed):
    """Runs the reference; returns (main fixture tensors, official weights, metadata)."""
    cfg = PRESETS[preset]
    torch.manual_seed(seed)
    model = MaskedAutoencoder(**cfg)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    images, noise_steps = draw_inputs(cfg, batch, seed)

    out = {"param." + k: v for k, v in weights.items()}
    out["images"], out["noise"], out["noise_steps"] = images, noise_steps[0].clone(), noise_steps

    opt = torch.optim.AdamW(param_groups(model), lr=LR, betas=BETAS, eps=ADAM_EPS)
    losses = []
    for step in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss, pred, mask, ids_restore, latent = model(images, noise_steps[step])
        loss.backward()
        losses.append(loss.detach().clone())
        if step == 0:  # the single forward/backward: initial weights, noise_steps[0]
            out.update(loss=loss.detach().clone(), pred=pred.detach().clone(), mask=mask.clone(),
                       ids_restore=ids_restore.clone(), latent=latent.detach().clone())
            for k, p in model.named_parameters():
                out["grad." + k] = p.grad.detach().clone()
        opt.step()
    out["train_losses"] = torch.stack(losses)
    trained = dict(model.named_parameters())
    for k in PARAM_AFTER:
        out["param_after." + k] = trained[k].detach().clone()

    meta = {"preset": preset, "batch": str(batch), "seed": str(seed), "mask_ratio": repr(MASK_RATIO),
            "len_keep": str(model.len_keep), "lr": repr(LR), "betas": f"{BETAS[0]!r},{BETAS[1]!r}",
            "adam_eps": repr(ADAM_EPS), "weight_decay": repr(WEIGHT_DECAY), "steps": str(STEPS),
            "ln_eps": repr(LN_EPS), "norm_pix_loss": "1", "mlp_ratio": str(MLP_RATIO), "torch": torch.__version__,
            **{k: str(v) for k, v in cfg.items()}}
    return out, weights, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", required=True, choices=sorted(PRESETS))
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)  # one BLAS thread: same float32 sums on every machine count of cores
    t0 = time.perf_counter()
    out, weights, meta = make(a.preset, a.batch, a.seed)
    os.makedirs(a.out, exist_ok=True)
    stem = os.path.join(a.out, f"mae_{a.preset}")
    wmeta = {"preset": a.preset, "seed": str(a.seed), "ln_eps": repr(LN_EPS)}
    st.save(stem + ".safetensors", out, meta)
    st.save(stem + "_official_weights.safetensors", weights, wmeta)
    st.save(stem + "_hf_weights.safetensors", to_hf(weights), wmeta)
    st.save(stem + "_io.safetensors", {"images": out["images"], "noise": out["noise"]}, {"preset": a.preset})
    losses = ", ".join(f"{v:.6f}" for v in out["train_losses"].tolist())
    print(f"{a.preset}: loss {out['loss'].item():.7f}, 5-step losses [{losses}], "
          f"wrote {stem}*.safetensors in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
