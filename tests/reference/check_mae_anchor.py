"""Cross-checks a written MAE fixture against an independent PyTorch MAE (the project's anchor,
../shared/reference/torch_mae_anchor.py, different module code and parameter names): loads the fixture's
weights into the anchor, feeds the fixture's noise through its torch.rand call, and compares the sin-cos
tables, loss, pred, mask, ids_restore, latent, every gradient, the 5 AdamW losses and param_after.*;
also checks that the HF and official weight files hold the same values.

Usage: /usr/bin/python3 tests/reference/check_mae_anchor.py --dir DIR --preset NAME [--anchor PATH]
"""
import argparse
import contextlib
import importlib.util
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402
from make_mae_fixtures import ADAM_EPS, BETAS, LR, MASK_RATIO, PRESETS, WEIGHT_DECAY, hf_name  # noqa: E402

DEFAULT_ANCHOR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "../../../shared/reference/torch_mae_anchor.py")

# official sub-name -> anchor sub-name
BLOCK_NAMES = {"norm1": "n1", "attn.qkv": "qkv", "attn.proj": "proj", "norm2": "n2", "mlp.fc1": "fc1",
               "mlp.fc2": "fc2"}
TOP_NAMES = {"patch_embed.proj": "pe", "cls_token": "cls", "pos_embed": "pos", "norm": "norm",
             "decoder_embed": "dembed", "mask_token": "mask_token", "decoder_pos_embed": "dpos",
             "decoder_norm": "dnorm", "decoder_pred": "pred"}


def anchor_name(name):
    m = re.fullmatch(r"(blocks|decoder_blocks)\.(\d+)\.(.+)\.(weight|bias)", name)
    if m:
        kind, i, sub, leaf = m.groups()
        return f"{'blocks' if kind == 'blocks' else 'dblocks'}.{i}.{BLOCK_NAMES[sub]}.{leaf}"
    base, _, leaf = name.rpartition(".")
    if name in TOP_NAMES:
        return TOP_NAMES[name]
    return f"{TOP_NAMES[base]}.{leaf}"


@contextlib.contextmanager
def rand_returns(values):
    """Makes the next torch.rand calls return `values` in order (the anchor draws its noise itself)."""
    queue = list(values)
    original = torch.rand
    torch.rand = lambda *shape, **kw: queue.pop(0).clone()
    try:
        yield
    finally:
        torch.rand = original
    assert not queue, "anchor did not consume every noise tensor"


def rel(a, b):
    return ((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30)).item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--preset", required=True, choices=sorted(PRESETS))
    ap.add_argument("--anchor", default=DEFAULT_ANCHOR)
    a = ap.parse_args()
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("torch_mae_anchor", a.anchor)
    anchor_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(anchor_mod)

    stem = os.path.join(a.dir, f"mae_{a.preset}")
    fx, meta = st.load(stem + ".safetensors")
    official, _ = st.load(stem + "_official_weights.safetensors")
    hf, _ = st.load(stem + "_hf_weights.safetensors")
    io, _ = st.load(stem + "_io.safetensors")
    c = PRESETS[a.preset]
    model = anchor_mod.MAE(c["img"], c["patch"], c["chans"], c["dim"], c["depth"], c["heads"], c["dec_dim"],
                           c["dec_depth"], c["dec_heads"])
    params = {k[len("param."):]: v for k, v in fx.items() if k.startswith("param.")}
    results = []

    # Weight files: official == param.*, HF == the same values under HF names with qkv split.
    assert params.keys() == official.keys(), "official weights file and param.* differ in names"
    results.append(("official weights file == param.*", float(any(not torch.equal(params[k], official[k])
                                                                  for k in params)), 0.0))
    hf_mismatch = 0
    for k, v in params.items():
        if ".attn.qkv." in k:
            hf_mismatch += not torch.equal(torch.cat([hf[hf_name(k, p)] for p in ("query", "key", "value")]), v)
        else:
            hf_mismatch += not torch.equal(hf[hf_name(k)], v)
    expected_hf = len(params) + 2 * sum(".attn.qkv." in k for k in params)
    results.append(("HF weights file == param.* (tensors differing)", float(hf_mismatch), 0.0))
    results.append(("HF tensor count", float(len(hf) != expected_hf), 0.0))
    results.append(("io file == images/noise", float(not (torch.equal(io["images"], fx["images"])
                                                          and torch.equal(io["noise"], fx["noise"]))), 0.0))

    # The anchor computes its own sin-cos tables: they must equal ours bit for bit.
    state = model.state_dict()
    results.append(("pos_embed vs anchor table", rel(params["pos_embed"], state["pos"]), 0.0))
    results.append(("decoder_pos_embed vs anchor table", rel(params["decoder_pos_embed"], state["dpos"]), 0.0))
    mapped = {anchor_name(k): v for k, v in params.items()}
    assert mapped.keys() == state.keys(), sorted(set(mapped) ^ set(state))
    model.load_state_dict(mapped)

    images = fx["images"]
    with rand_returns([fx["noise"]]):
        latent, mask, ids_restore = model.encode(images, MASK_RATIO)
    pred = model.decode(latent, ids_restore)
    results += [("mask", rel(mask, fx["mask"]), 0.0),
                ("ids_restore", float(not torch.equal(ids_restore, fx["ids_restore"])), 0.0),
                ("latent", rel(latent, fx["latent"]), 1e-5), ("pred", rel(pred, fx["pred"]), 1e-5)]

    no_decay = {n for n, p in model.named_parameters() if p.ndim < 2}
    opt = torch.optim.AdamW([{"params": [p for n, p in model.named_parameters() if n not in no_decay],
                              "weight_decay": WEIGHT_DECAY},
                             {"params": [p for n, p in model.named_parameters() if n in no_decay],
                              "weight_decay": 0.0}], lr=LR, betas=BETAS, eps=ADAM_EPS)
    losses = []
    anchor_params = dict(model.named_parameters())
    for step in range(int(meta["steps"])):
        opt.zero_grad(set_to_none=True)
        with rand_returns([fx["noise_steps"][step]]):
            loss = model(images, MASK_RATIO)
        loss.backward()
        losses.append(loss.detach())
        if step == 0:
            results.append(("loss", rel(loss, fx["loss"]), 1e-6))
            worst = max(((k, rel(anchor_params[anchor_name(k[5:])].grad, v)) for k, v in fx.items()
                         if k.startswith("grad.")), key=lambda kv: kv[1])
            results.append((f"worst gradient ({worst[0]})", worst[1], 1e-5))
            grad_names = {k[5:] for k in fx if k.startswith("grad.")}
            results.append(("grad.* names == trainable params", float(grad_names != {
                k for k in params if k not in ("pos_embed", "decoder_pos_embed")}), 0.0))
        opt.step()
    results.append(("train_losses", rel(torch.stack(losses), fx["train_losses"]), 1e-5))
    for k, v in fx.items():
        if k.startswith("param_after."):
            results.append((k, rel(anchor_params[anchor_name(k[len("param_after."):])].detach(), v), 1e-5))

    failed = [r for r in results if not r[1] <= r[2]]
    for what, err, bound in results:
        print(f"{'FAIL' if (what, err, bound) in failed else 'ok  '} {what:55s} rel {err:.3e} (bound {bound:.0e})")
    print(f"{a.preset}: {len(results) - len(failed)}/{len(results)} checks agree with the anchor")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
