"""Runs mae's end-to-end training benchmarks and the PyTorch anchor on the same configs in one invocation, and
prints: mae img/s, PyTorch img/s, ratio, % of FP32 peak (2 threads by default).

usage: /usr/bin/python3 bench/compare_torch.py [--build build] [--threads 2] [--peak-gflops 420]
                                               [--anchor ../shared/reference/torch_mae_anchor.py]
                                               [--python /usr/bin/python3 ...]   (one run per interpreter)
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the PyTorch runs' environment only."""
import argparse, json, os, subprocess, sys

CONFIGS = [  # (bench name, anchor config, batch)
    ("train_step/fmnist-tiny", "fmnist-tiny", 128),
    ("train_step/cifar-vit-tiny", "cifar-vit-tiny", 64),
    ("train_step/mae_vit_base_patch16", "mae-vit-base", 8),
]


def run_mae(build, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([os.path.join(build, "bench", "bench_train"), "--benchmark_format=json",
                          "--benchmark_filter=train_step"], env=env, capture_output=True, text=True, check=True)
    rows = {}
    for b in json.loads(out.stdout)["benchmarks"]:
        name = "/".join(b["name"].split("/")[:2])
        rows[name] = (b["img/s"], b["GFLOP/img"], b.get("peak_RSS_MB", 0.0))
    return rows


def run_torch(python, anchor, config, threads, batch):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    out = subprocess.run([python, anchor, config, "--threads", str(threads), "--batch", str(batch), "--steps", "5"],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--peak-gflops", type=float, default=420.0, help="FP32 peak of the cores used")
    ap.add_argument("--anchor", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference",
                                                     "torch_mae_anchor.py"))
    ap.add_argument("--python", action="append", default=None, help="interpreters with torch (repeatable)")
    a = ap.parse_args()
    pythons = a.python or ["/usr/bin/python3"]
    mae = run_mae(a.build, a.threads)
    print(f"| config | batch | mae img/s | mae % of peak | " +
          " | ".join(f"PyTorch ({p}) img/s | ratio" for p in pythons) + " |")
    print("|---|---|---|---|" + "---|---|" * len(pythons))
    for bench, config, batch in CONFIGS:
        ips, gflop, _ = mae[bench]
        cells = [config, str(batch), f"{ips:.1f}", f"{100 * ips * gflop / a.peak_gflops:.1f}%"]
        for p in pythons:
            t = run_torch(p, a.anchor, config, a.threads, batch)
            if t is None:
                cells += ["failed", "-"]
            else:
                cells += [f"{t['img_per_s']:.1f} (torch {t['torch']})", f"{ips / t['img_per_s']:.2f}x"]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
