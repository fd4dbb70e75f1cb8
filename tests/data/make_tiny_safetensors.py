#!/usr/bin/python3
"""Writes tests/data/tiny.safetensors from PyTorch tensors (run once; the output is committed).

torch 1.13 has no safetensors support, so the file is laid out here by hand the way the reference
Rust writer does it: __metadata__ first, tensors sorted by element size (descending) then name,
compact JSON padded with spaces to a multiple of 8 bytes, little-endian C-order data.
Run with /usr/bin/python3 (Debian's python3-torch)."""
import json
import os
import struct

import torch

DTYPES = {torch.float64: ("F64", 8), torch.float32: ("F32", 4), torch.float16: ("F16", 2),
          torch.bfloat16: ("BF16", 2), torch.int64: ("I64", 8), torch.int32: ("I32", 4)}


def raw_bytes(t):
    flat = t.reshape(-1).contiguous()
    if flat.dtype == torch.bfloat16:  # numpy has no bfloat16
        flat = flat.view(torch.int16)
    return flat.numpy().tobytes()


def save(tensors, metadata, path):
    order = sorted(tensors, key=lambda k: (-DTYPES[tensors[k].dtype][1], k))
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name in order:
        t = tensors[name]
        data = raw_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


g = torch.Generator().manual_seed(0)
randn = torch.randn(5, 7, generator=g, dtype=torch.float64)
tensors = {
    "ramp_f32": torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.25 - 1,
    "randn_f64": randn,
    "randn_f32": randn.float(),
    "randn_f16": randn.half(),
    "randn_bf16": randn.bfloat16(),
    "specials_f16": torch.tensor([0.0, -0.0, 1.0, -2.0, 65504.0, 2.0**-24, float("inf"),
                                  float("-inf"), float("nan")], dtype=torch.float16),
    "labels_i64": torch.arange(-3, 3, dtype=torch.int64),
    "idx_i32": torch.arange(0, 10, 3, dtype=torch.int32),
    "scalar": torch.tensor(3.5, dtype=torch.float32),
    "empty": torch.zeros(0, 4, dtype=torch.float32),
}
save(tensors, {"format": "pt", "source": "torch " + torch.__version__},
     os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny.safetensors"))
