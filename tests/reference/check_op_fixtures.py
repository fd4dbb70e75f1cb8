"""Checks the op fixtures against independent element-by-element float64 code (loops, math.erf, ...):
the forward output `y` of the f64 file, every input gradient through a central difference of
<dy, f(inputs)> along a random direction, and the f32 file against the f64 file.

Usage: /usr/bin/python3 tests/reference/check_op_fixtures.py --dir DIR
"""
import argparse
import glob
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402


def naive_linear(t, m):
    x, w, b = t["x"], t["w"], t["b"]
    B, N, I = x.shape
    y = torch.zeros(B, N, w.shape[0], dtype=x.dtype)
    for o in range(w.shape[0]):
        for i in range(I):
            y[:, :, o] += x[:, :, i] * w[o, i]
        y[:, :, o] += b[o]
    return y


def naive_layernorm(t, m):
    x, w, b, eps = t["x"], t["w"], t["b"], float(m["eps"])
    y = torch.empty_like(x)
    D = x.shape[-1]
    for idx in torch.cartesian_prod(*[torch.arange(s) for s in x.shape[:-1]]).tolist():
        row = x[tuple(idx)]
        mu = sum(row.tolist()) / D
        var = sum((v - mu) ** 2 for v in row.tolist()) / D  # biased, as LayerNorm
        y[tuple(idx)] = (row - mu) / math.sqrt(var + eps) * w + b
    return y


def naive_gelu(t, m):
    x = t["x"]
    return torch.tensor([0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x.flatten().tolist()],
                        dtype=x.dtype).reshape(x.shape)


def softmax_rows(x):
    flat = x.reshape(-1, x.shape[-1])
    out = torch.empty_like(flat)
    for r in range(flat.shape[0]):
        mx = max(flat[r].tolist())
        e = [math.exp(v - mx) for v in flat[r].tolist()]
        s = sum(e)
        out[r] = torch.tensor([v / s for v in e], dtype=x.dtype)
    return out.reshape(x.shape)


def naive_attention(t, m):
    qkv, H = t["qkv"], int(m["heads"])
    B, N, D3 = qkv.shape
    D = D3 // 3
    hd = D // H
    y = torch.zeros(B, N, D, dtype=qkv.dtype)
    for b in range(B):
        for h in range(H):
            cols = slice(h * hd, (h + 1) * hd)
            q = qkv[b, :, 0 * D:1 * D][:, cols]
            k = qkv[b, :, 1 * D:2 * D][:, cols]
            v = qkv[b, :, 2 * D:3 * D][:, cols]
            s = torch.zeros(N, N, dtype=qkv.dtype)
            for i in range(N):
                for j in range(N):
                    s[i, j] = (q[i] * k[j]).sum() / math.sqrt(hd)
            y[b, :, cols] = softmax_rows(s) @ v
    return y


def naive_gather(t, m):
    x, idx = t["x"], t["idx"]
    B, K = idx.shape
    y = torch.empty(B, K, x.shape[2], dtype=x.dtype)
    for b in range(B):
        for k in range(K):
            y[b, k] = x[b, idx[b, k]]
    return y


def naive_scatter(t, m):
    x, idx = t["x"], t["idx"]
    B, K = idx.shape
    y = torch.zeros(B, int(m["tokens"]), x.shape[2], dtype=x.dtype)
    for b in range(B):
        for k in range(K):
            y[b, idx[b, k]] = x[b, k]
    return y


def naive_mse(t, m):
    pred, target, mask, eps = t["pred"], t["target"], t["mask"], float(m["eps"])
    B, L, P = pred.shape
    num = 0.0
    for b in range(B):
        for l in range(L):
            tv = target[b, l].tolist()
            mu = sum(tv) / P
            var = sum((v - mu) ** 2 for v in tv) / (P - 1)
            tn = [(v - mu) / math.sqrt(var + eps) for v in tv]
            num = num + mask[b, l] * sum((pred[b, l, i] - tn[i]) ** 2 for i in range(P)) / P
    return num / mask.sum()


def naive_cross_entropy(t, m):
    logits, labels = t["logits"], t["labels"]
    total = 0.0
    for b in range(logits.shape[0]):
        row = logits[b]
        mx = max(row.tolist())
        lse = mx + torch.log(torch.exp(row - mx).sum())
        total = total + lse - row[labels[b]]
    return total / logits.shape[0]


def naive_patchify(t, m):
    img, p = t["img"], int(m["p"])
    B, C, H, W = img.shape
    w = W // p
    y = torch.empty(B, (H // p) * w, p * p * C, dtype=img.dtype)
    for i in range(H // p):
        for j in range(w):
            for r in range(p):
                for s in range(p):
                    for c in range(C):
                        y[:, i * w + j, (r * p + s) * C + c] = img[:, c, i * p + r, j * p + s]
    return y


def naive_unpatchify(t, m):
    x, p, C, H, W = t["x"], int(m["p"]), int(m["C"]), int(m["H"]), int(m["W"])
    w = W // p
    img = torch.empty(x.shape[0], C, H, W, dtype=x.dtype)
    for i in range(H // p):
        for j in range(w):
            for r in range(p):
                for s in range(p):
                    for c in range(C):
                        img[:, c, i * p + r, j * p + s] = x[:, i * w + j, (r * p + s) * C + c]
    return img


NAIVE = {
    "linear": naive_linear,
    "layernorm": naive_layernorm,
    "gelu": naive_gelu,
    "softmax": lambda t, m: softmax_rows(t["x"]),
    "attention": naive_attention,
    "gather": naive_gather,
    "scatter": naive_scatter,
    "add": lambda t, m: t["x"] + t["pos"].expand_as(t["x"]),
    "sub": lambda t, m: t["x"] - t["w"],
    "mul": lambda t, m: t["x"] * t["w"],
    "scale": lambda t, m: t["x"] * float(m["scale"]),
    "matmul": lambda t, m: torch.einsum("bmk,bkn->bmn", t["a"], t["b"]),
    "concat": lambda t, m: torch.cat([t["a"], t["b"]], dim=1),
    "mse_norm_pix": naive_mse,
    "l1": lambda t, m: sum(abs(v) for v in (t["pred"] - t["target"]).flatten().tolist()) / t["pred"].numel(),
    "cross_entropy": naive_cross_entropy,
    "patchify": naive_patchify,
    "unpatchify": naive_unpatchify,
    "sum": lambda t, m: sum(t["x"].flatten().tolist()),
    "mean": lambda t, m: sum(t["x"].flatten().tolist()) / t["x"].numel(),
    "mean_tokens": lambda t, m: sum(t["x"][:, n] for n in range(t["x"].shape[1])) / t["x"].shape[1],
}


def as_f64(v):
    """Tensor or Python float -> float64 tensor (as_tensor alone would turn a float into float32)."""
    return torch.as_tensor(v, dtype=torch.float64)


def rel_err(a, b):
    a, b = as_f64(a), as_f64(b)
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def check_file(path):
    """Returns a list of (what, error, bound) for the f64 fixture at `path` and its f32 twin."""
    t, m = st.load(path)
    f = NAIVE[m["op"]]
    inputs = {k: t[k] for k in m["inputs"].split(",")}
    results = [("y", rel_err(f(inputs, m), t["y"]), 1e-12)]
    g = torch.Generator().manual_seed(1)
    h = 1e-6
    for dname in m["grads"].split(","):
        k = dname[1:]
        v = torch.randn(inputs[k].shape, generator=g, dtype=torch.float64)
        plus = dict(inputs, **{k: inputs[k] + h * v})
        minus = dict(inputs, **{k: inputs[k] - h * v})
        fd = ((as_f64(f(plus, m)) - as_f64(f(minus, m))) * t["dy"]).sum() / (2 * h)
        results.append((dname + " (directional FD)", rel_err(fd, (t[dname] * v).sum()), 1e-6))
    t32, m32 = st.load(path.replace("_f64.", "_f32."))
    for k in inputs:
        if not torch.equal(t32[k].to(t[k].dtype), t[k]):
            results.append((f"f32 input {k} != f64 input", 1.0, 0.0))
    for k in ["y"] + m["grads"].split(","):
        results.append((f"f32 {k} vs f64", rel_err(t32[k], t[k]), 1e-5))
    return m, results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    a = ap.parse_args()
    files = sorted(glob.glob(os.path.join(a.dir, "ops_*_f64.safetensors")))
    if not files:
        sys.exit(f"no ops_*_f64.safetensors in {a.dir}")
    failed = 0
    for path in files:
        m, results = check_file(path)
        worst = max(results, key=lambda r: r[1] / r[2] if r[2] else math.inf)
        bad = [r for r in results if not r[1] <= r[2]]
        failed += bool(bad)
        print(f"{'FAIL' if bad else 'ok  '} {os.path.basename(path):40s} worst {worst[0]}: {worst[1]:.2e}"
              + "".join(f"\n     {w}: {e:.2e} > {b:.0e}" for w, e, b in bad))
    print(f"{len(files) - failed}/{len(files)} op fixtures agree with the naive float64 code")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
