"""Minimal safetensors writer/reader (pure Python + torch), because Debian's torch 1.13 ships without
the `safetensors` package.

Layout written: u64 little-endian header length N, then N bytes of JSON padded with spaces to a multiple
of 8, then the tensor bytes. Tensors are C-contiguous little-endian, stored back to back in the order
given (data_offsets relative to the start of the data, no gaps). `__metadata__` always holds
{"format": "pt"} plus the caller's string values.
"""
import json
import os
import struct
import sys

import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32"}
DTYPE_OF_NAME = {name: dtype for dtype, name in DTYPES.items()}
ITEMSIZE = {"F32": 4, "F64": 8, "I64": 8, "I32": 4}

# The byte copies below use the host's order; safetensors is little-endian by definition.
assert sys.byteorder == "little", "st.py writes raw host bytes: big-endian hosts are not supported"


def _bytes_of(t):
    # numpy is a dependency of Debian's python3-torch; it gives the raw C-order bytes.
    return t.detach().cpu().contiguous().numpy().tobytes()


def save(path, tensors, metadata=None):
    """Write `tensors` (name -> torch.Tensor of a supported dtype) to `path` atomically."""
    meta = {"format": "pt"}
    for k, v in (metadata or {}).items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"st.save({path}): metadata must map str to str, got {k!r}: {v!r}")
        meta[k] = v
    header = {"__metadata__": meta}
    blobs, offset = [], 0
    for name, t in tensors.items():
        if name == "__metadata__":
            raise ValueError(f"st.save({path}): '__metadata__' is reserved")
        if t.dtype not in DTYPES:
            raise TypeError(f"st.save({path}): tensor {name} has unsupported dtype {t.dtype}")
        data = _bytes_of(t)
        assert len(data) == t.numel() * ITEMSIZE[DTYPES[t.dtype]]
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path):
    """Read a safetensors file: returns (dict name -> torch.Tensor, metadata dict). Checks the layout."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"st.load({path}): file shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"st.load({path}): header length {n} exceeds file size {len(raw)}")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = memoryview(raw)[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors, spans = {}, []
    for name, info in header.items():
        dtype = info["dtype"]
        if dtype not in DTYPE_OF_NAME:
            raise ValueError(f"st.load({path}): tensor {name} has unsupported dtype {dtype}")
        shape = info["shape"]
        begin, end = info["data_offsets"]
        count = 1
        for s in shape:
            count *= s
        if not (0 <= begin <= end <= len(data)) or end - begin != count * ITEMSIZE[dtype]:
            raise ValueError(f"st.load({path}): tensor {name} has bad offsets [{begin}, {end}) "
                             f"for shape {shape} {dtype} in {len(data)} data bytes")
        spans.append((begin, end, name))
        buf = bytes(data[begin:end])
        t = torch.frombuffer(bytearray(buf), dtype=DTYPE_OF_NAME[dtype]) if buf else \
            torch.empty(0, dtype=DTYPE_OF_NAME[dtype])
        tensors[name] = t.reshape(shape).clone()
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin != pos:
            raise ValueError(f"st.load({path}): gap or overlap before tensor {name} at byte {begin}")
        pos = end
    if pos != len(data):
        raise ValueError(f"st.load({path}): {len(data) - pos} trailing bytes after the last tensor")
    return tensors, meta


if __name__ == "__main__":
    # Self-test: write then read back bit for bit, for every dtype, a scalar and an empty tensor.
    import tempfile
    g = torch.Generator().manual_seed(0)
    src = {"a": torch.randn(3, 5, generator=g), "b": torch.randn(2, 2, 2, generator=g, dtype=torch.float64),
           "i": torch.arange(7, dtype=torch.int64), "j": torch.tensor([-1, 2**31 - 1], dtype=torch.int32),
           "s": torch.tensor(1.5), "e": torch.zeros(0, 4)}
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x.safetensors")
        save(p, src, {"k": "v"})
        back, meta = load(p)
        with open(p, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
        assert n % 8 == 0, n
    assert meta == {"format": "pt", "k": "v"}, meta
    assert list(back) == list(src)
    for k in src:
        assert back[k].dtype == src[k].dtype and back[k].shape == src[k].shape and torch.equal(back[k], src[k]), k
    print("st.py self-test passed")
