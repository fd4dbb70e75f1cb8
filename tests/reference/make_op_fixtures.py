"""Per-op PyTorch fixtures for the autograd tests: inputs, forward output `y`, a random output gradient
`dy`, and the input gradients torch.autograd computes for that `dy`.

For every op and case it writes ops_<op>_<case>_f32.safetensors (computed in float32) and
ops_<op>_<case>_f64.safetensors (float64 ground truth). Both hold the SAME input values: inputs are
drawn in float32 and widened, so a float32 C++ result can be compared with either file.

Usage: /usr/bin/python3 tests/reference/make_op_fixtures.py --out DIR
"""
import argparse
import os
import sys
import time
import zlib

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

LN_EPS = 1e-6
NORM_PIX_EPS = 1e-6
SCALE = 0.125


def attention(qkv, heads):
    """Fused multi-head self-attention on a fused qkv input (MAE_SPEC §4): q = columns [0, D),
    k = [D, 2D), v = [2D, 3D); head h owns hd = D/heads consecutive columns inside each."""
    b, n, d3 = qkv.shape
    d = d3 // 3
    hd = d // heads
    q, k, v = qkv.reshape(b, n, 3, heads, hd).permute(2, 0, 3, 1, 4)  # each (B, H, N, hd)
    a = torch.softmax((q @ k.transpose(-2, -1)) * hd ** -0.5, dim=-1)
    return (a @ v).transpose(1, 2).reshape(b, n, d)


def token_index(t, d):
    """(B, K) token indices -> (B, K, D) index for torch.gather/scatter along dim 1."""
    return t[:, :, None].expand(-1, -1, d)


def patchify(img, p):
    """(B, C, H, W) -> (B, h*w, p*p*C), channel fastest (einsum nchpwq->nhwpqc)."""
    b, c, hh, ww = img.shape
    h, w = hh // p, ww // p
    x = img.reshape(b, c, h, p, w, p)
    return torch.einsum("nchpwq->nhwpqc", x).reshape(b, h * w, p * p * c)


def unpatchify(x, p, c, hh, ww):
    """Exact inverse of patchify."""
    b = x.shape[0]
    h, w = hh // p, ww // p
    x = x.reshape(b, h, w, p, p, c)
    return torch.einsum("nhwpqc->nchpwq", x).reshape(b, c, hh, ww)


def masked_mse_norm_pix(pred, target, mask):
    """MAE loss (MAE_SPEC §6): per-patch normalized target (unbiased var, eps inside the sqrt), mean
    over the patch vector, averaged over the removed patches (mask == 1)."""
    mean = target.mean(dim=-1, keepdim=True)
    var = target.var(dim=-1, unbiased=True, keepdim=True)
    t = (target - mean) / (var + NORM_PIX_EPS) ** 0.5
    per_patch = ((pred - t) ** 2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum()


# ---- input builders: each returns (inputs in float32/int64, names of differentiable inputs, params) ----

def randn(g, *shape):
    return torch.randn(shape, generator=g, dtype=torch.float32)


def random_mask(g, b, n, removed):
    """(B, N) float mask with exactly `removed` ones per row at random positions."""
    m = torch.zeros(b, n)
    for i in range(b):
        m[i, torch.randperm(n, generator=g)[:removed]] = 1.0
    return m


def distinct_indices(g, b, n, k):
    """(B, K) int64 indices, distinct within a row (a prefix of a random permutation, like ids_keep)."""
    return torch.stack([torch.randperm(n, generator=g)[:k] for _ in range(b)])


def build_linear(g, s):
    B, N, I, O = s
    return {"x": randn(g, B, N, I), "w": randn(g, O, I), "b": randn(g, O)}, ["x", "w", "b"], {}


def build_layernorm(g, s):
    B, N, D = s
    return ({"x": randn(g, B, N, D), "w": 1.0 + 0.5 * randn(g, D), "b": randn(g, D)},
            ["x", "w", "b"], {"eps": repr(LN_EPS)})


def build_unary(g, s):
    return {"x": randn(g, *s)}, ["x"], {}


def build_scale(g, s):
    return {"x": randn(g, *s)}, ["x"], {"scale": repr(SCALE)}


def build_attention(g, s):
    B, N, D, H = s
    return {"qkv": randn(g, B, N, 3 * D)}, ["qkv"], {"heads": str(H)}


def build_gather(g, s):
    B, N, D, K = s
    return {"x": randn(g, B, N, D), "idx": distinct_indices(g, B, N, K)}, ["x"], {}


def build_scatter(g, s):
    B, N, D, K = s
    return {"x": randn(g, B, K, D), "idx": distinct_indices(g, B, N, K)}, ["x"], {"tokens": str(N)}


def build_add_pos(g, s):
    B, N, D = s
    return {"x": randn(g, B, N, D), "pos": randn(g, 1, N, D)}, ["x", "pos"], {}


def build_binary(g, s):
    return {"x": randn(g, *s), "w": randn(g, *s)}, ["x", "w"], {}


def build_matmul(g, s):
    B, M, K, N = s
    return {"a": randn(g, B, M, K), "b": randn(g, B, K, N)}, ["a", "b"], {}


def build_concat(g, s):
    B, N1, N2, D = s
    return {"a": randn(g, B, N1, D), "b": randn(g, B, N2, D)}, ["a", "b"], {}


def build_mse(g, s):
    B, L, P, removed = s
    return ({"pred": randn(g, B, L, P), "target": randn(g, B, L, P), "mask": random_mask(g, B, L, removed)},
            ["pred"], {"eps": repr(NORM_PIX_EPS)})


def build_l1(g, s):
    return {"pred": randn(g, *s), "target": randn(g, *s)}, ["pred"], {"reduction": "mean"}


def build_cross_entropy(g, s):
    B, K = s
    labels = torch.randint(0, K, (B,), generator=g, dtype=torch.int64)
    return {"logits": randn(g, B, K), "labels": labels}, ["logits"], {"reduction": "mean"}


def build_patchify(g, s):
    B, C, H, W, p = s
    return {"img": randn(g, B, C, H, W)}, ["img"], {"p": str(p), "C": str(C), "H": str(H), "W": str(W)}


def build_unpatchify(g, s):
    B, C, H, W, p = s
    L = (H // p) * (W // p)
    return {"x": randn(g, B, L, p * p * C)}, ["x"], {"p": str(p), "C": str(C), "H": str(H), "W": str(W)}


# op -> (builder, forward(inputs, params) -> y, [case 0 shape (odd sizes), case 1 shape (batch 1)])
OPS = {
    "linear": (build_linear, lambda t, m: F.linear(t["x"], t["w"], t["b"]),
               [(3, 7, 13, 5), (1, 4, 8, 16)]),                           # (B, N, in, out)
    "layernorm": (build_layernorm, lambda t, m: F.layer_norm(t["x"], t["x"].shape[-1:], t["w"], t["b"], LN_EPS),
                  [(3, 5, 7), (1, 4, 16)]),                                # (B, N, D)
    "gelu": (build_unary, lambda t, m: F.gelu(t["x"]), [(3, 5, 7), (1, 4, 16)]),
    "softmax": (build_unary, lambda t, m: torch.softmax(t["x"], dim=-1), [(3, 5, 7), (1, 4, 16)]),
    "attention": (build_attention, lambda t, m: attention(t["qkv"], int(m["heads"])),
                  [(3, 7, 15, 3), (1, 4, 16, 4)]),                         # (B, N, D, heads)
    "gather": (build_gather, lambda t, m: torch.gather(t["x"], 1, token_index(t["idx"], t["x"].shape[2])),
               [(3, 7, 5, 3), (1, 8, 4, 8)]),                              # (B, N, D, Nout)
    "scatter": (build_scatter,
                lambda t, m: torch.zeros(t["x"].shape[0], int(m["tokens"]), t["x"].shape[2], dtype=t["x"].dtype)
                .scatter(1, token_index(t["idx"], t["x"].shape[2]), t["x"]),
                [(3, 7, 5, 3), (1, 8, 4, 8)]),                             # (B, N out, D, K in)
    "add": (build_add_pos, lambda t, m: t["x"] + t["pos"], [(3, 5, 7), (1, 4, 16)]),
    "sub": (build_binary, lambda t, m: t["x"] - t["w"], [(3, 5, 7), (1, 4, 16)]),
    "mul": (build_binary, lambda t, m: t["x"] * t["w"], [(3, 5, 7), (1, 4, 16)]),
    "scale": (build_scale, lambda t, m: t["x"] * float(m["scale"]), [(3, 5, 7), (1, 4, 16)]),
    "matmul": (build_matmul, lambda t, m: t["a"] @ t["b"], [(3, 5, 7, 3), (1, 4, 16, 8)]),  # (B, M, K, N)
    "concat": (build_concat, lambda t, m: torch.cat([t["a"], t["b"]], dim=1),
               [(3, 1, 5, 7), (1, 3, 4, 16)]),                             # (B, N1, N2, D)
    "mse_norm_pix": (build_mse, lambda t, m: masked_mse_norm_pix(t["pred"], t["target"], t["mask"]),
                     [(3, 7, 12, 5), (1, 16, 16, 12)]),                    # (B, L, P, removed per row)
    "l1": (build_l1, lambda t, m: (t["pred"] - t["target"]).abs().mean(), [(3, 5, 7), (1, 4, 16)]),
    "cross_entropy": (build_cross_entropy, lambda t, m: F.cross_entropy(t["logits"], t["labels"]),
                      [(3, 7), (1, 10)]),                                  # (B, classes)
    "patchify": (build_patchify, lambda t, m: patchify(t["img"], int(m["p"])),
                 [(3, 3, 9, 9, 3), (1, 1, 8, 8, 4)]),                      # (B, C, H, W, p)
    "unpatchify": (build_unpatchify,
                   lambda t, m: unpatchify(t["x"], int(m["p"]), int(m["C"]), int(m["H"]), int(m["W"])),
                   [(3, 3, 9, 9, 3), (1, 1, 8, 8, 4)]),
    "sum": (build_unary, lambda t, m: t["x"].sum(), [(3, 5, 7), (1, 4, 16)]),
    "mean": (build_unary, lambda t, m: t["x"].mean(), [(3, 5, 7), (1, 4, 16)]),
    "mean_tokens": (build_unary, lambda t, m: t["x"].mean(dim=1), [(3, 5, 7), (1, 4, 16)]),  # (B, N, D) -> (B, D)
}


def forward_in(dtype, inputs, diff, params, forward):
    """Casts the float inputs to `dtype`, marks `diff` as requiring grad, runs the forward."""
    t = {k: (v.to(dtype) if v.is_floating_point() else v).clone() for k, v in inputs.items()}
    for k in diff:
        t[k].requires_grad_(True)
    return t, forward(t, params)


def write_op(out, op, case, shape, base_seed):
    build, forward, _ = OPS[op]
    seed = zlib.crc32(f"{base_seed}:{op}:{case}".encode())
    g = torch.Generator().manual_seed(seed)
    inputs, diff, params = build(g, shape)
    # dy is drawn once (float32, widened like the inputs) from the output's shape.
    _, y32 = forward_in(torch.float32, inputs, diff, params, forward)
    dy = randn(g, *y32.shape)
    written = []
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        t, y = forward_in(dtype, inputs, diff, params, forward)
        dy_t = dy.to(dtype)
        grads = torch.autograd.grad(y, [t[k] for k in diff], dy_t)
        tensors = {k: v.detach() for k, v in t.items()}
        tensors["y"] = y.detach()
        tensors["dy"] = dy_t
        for k, gk in zip(diff, grads):
            tensors["d" + k] = gk
        meta = {"op": op, "case": str(case), "dtype": tag, "seed": str(seed), "torch": torch.__version__,
                "inputs": ",".join(inputs), "grads": ",".join("d" + k for k in diff), **params}
        path = os.path.join(out, f"ops_{op}_{case}_{tag}.safetensors")
        st.save(path, tensors, meta)
        written.append(path)
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=0, help="base seed (each op/case derives its own)")
    ap.add_argument("--ops", default="", help="comma-separated subset of: " + ",".join(OPS))
    a = ap.parse_args()
    ops = a.ops.split(",") if a.ops else list(OPS)
    for op in ops:
        if op not in OPS:
            ap.error(f"unknown op {op!r}; known: {', '.join(OPS)}")
    os.makedirs(a.out, exist_ok=True)
    t0 = time.perf_counter()
    n = 0
    for op in ops:
        for case, shape in enumerate(OPS[op][2]):
            n += len(write_op(a.out, op, case, shape, a.seed))
    print(f"wrote {n} op fixtures to {a.out} in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
