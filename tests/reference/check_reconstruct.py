"""Runs mae_reconstruct on the PyTorch reference fixtures of one preset, once with official-named and once with
HuggingFace-named weights, and checks that the loss it prints (--json) and writes (--out) equals the reference
loss within 1e-5 relative, and that its mask equals the reference mask.

usage: check_reconstruct.py BINARY FIXTURE_DIR PRESET OUT_DIR"""
import json, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402


def main():
    binary, fixtures, preset, out_dir = sys.argv[1:5]
    ref, _ = st.load(os.path.join(fixtures, f"mae_{preset}.safetensors"))
    want = float(ref["loss"].reshape(-1)[0])
    io = os.path.join(fixtures, f"mae_{preset}_io.safetensors")
    os.makedirs(out_dir, exist_ok=True)
    failures = 0
    for naming in ("official", "hf"):
        weights = os.path.join(fixtures, f"mae_{preset}_{naming}_weights.safetensors")
        out = os.path.join(out_dir, f"reconstruct_{preset}_{naming}.safetensors")
        run = subprocess.run([binary, "--preset", preset, "--checkpoint", weights, "--images", io, "--noise", io,
                              "--out", out, "--json"], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{naming}: mae_reconstruct failed ({run.returncode}): {run.stderr.strip()}")
            failures += 1
            continue
        printed = json.loads(run.stdout)
        got, _ = st.load(out)
        rel = abs(printed["loss"] - want) / abs(want)
        same_mask = bool((got["mask"] == ref["mask"]).all())
        ok = rel <= 1e-5 and same_mask and printed["n"] == ref["images"].shape[0]
        print(f"{preset} {naming} names: loss {printed['loss']:.9g} vs PyTorch {want:.9g} (relative {rel:.2e}), "
              f"mask {'equal' if same_mask else 'DIFFERS'}: {'ok' if ok else 'FAIL'}")
        failures += not ok
    print(f"{2 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
