"""Runs mae's end-to-end benchmarks and the PyTorch anchor on the same configs in one invocation, and prints a
markdown table: img/s (training step), ratio to each PyTorch, mae's % of the FP32 peak, peak RSS; then the
batch-1 encoder latency (fmnist-tiny, all 49 patches, one thread), with weights packed on every forward and
with frozen weights (packed once, Tape::freeze_weights).

usage: /usr/bin/python3 bench/compare_torch.py [--build build] [--threads 2] [--peak-gflops G]
                                               [--anchor ../shared/reference/torch_mae_anchor.py]
                                               [--python /usr/bin/python3 ...]   (one run per interpreter)
The peak is measured by bench_peak (FMA throughput of one core, the widest vector unit the CPU has, times the
threads) unless --peak-gflops is given. Each mae config runs in its own process, so its peak RSS is its own;
its figures are the median of 5 runs.
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the PyTorch runs' environment only."""
import argparse, json, os, subprocess, sys, tempfile, threading

CONFIGS = [  # (bench name, anchor config, batch)
    ("train_step/fmnist-tiny", "fmnist-tiny", 128),
    ("train_step/cifar-vit-tiny", "cifar-vit-tiny", 64),
    ("train_step/mae_vit_base_patch16", "mae-vit-base", 8),
]
LATENCY = [("encoder_latency/fmnist-tiny/b1/real_time", "latency"),
           ("encoder_latency/fmnist-tiny/b1/frozen_weights", "latency, frozen weights")]


def bench_json(binary, bench_filter, threads, *extra):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run([binary, "--benchmark_format=json", f"--benchmark_filter={bench_filter}", *extra], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["benchmarks"]


# Shared machines are noisy: every mae figure is the median of 5 runs (as the anchor, PyTorch times 5 steps).
REPEAT = ("--benchmark_repetitions=5", "--benchmark_report_aggregates_only=true")


def median(rows):
    return next(r for r in rows if r.get("aggregate_name") == "median")


def measured_peak_gflops(build, threads):
    rows = bench_json(os.path.join(build, "bench", "bench_peak"), "fp32_peak", 1)
    per_core = max(b["FLOP/s"] for b in rows if "error_occurred" not in b) / 1e9
    return per_core * threads


def run_torch(python, anchor, config, threads, batch, timeout_s=1800):
    """The anchor's JSON line plus this child's own peak RSS in MB (os.wait4), or a short reason it failed."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([python, anchor, config, "--threads", str(threads), "--batch", str(batch),
                                 "--steps", "5"], env=env, stdout=out, stderr=subprocess.DEVNULL, text=True)
        timer = threading.Timer(timeout_s, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            return f"failed (exit {proc.returncode})" if proc.returncode > 0 else f"killed after {timeout_s} s"
        out.seek(0)
        result = json.loads(out.read().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss * 1024 / 1e6  # ru_maxrss is in KiB; MB as bench_train reports it
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--peak-gflops", type=float, default=0.0, help="FP32 peak of the cores used (default: measured)")
    ap.add_argument("--anchor", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference",
                                                     "torch_mae_anchor.py"))
    ap.add_argument("--python", action="append", default=None, help="interpreters with torch (repeatable)")
    a = ap.parse_args()
    pythons = a.python or ["/usr/bin/python3"]
    train = os.path.join(a.build, "bench", "bench_train")
    peak = a.peak_gflops or measured_peak_gflops(a.build, a.threads)
    print(f"{a.threads} threads; FP32 peak {peak:.0f} GFLOP/s "
          f"({'given' if a.peak_gflops else 'measured by bench_peak'})\n")
    print("| config | batch | mae img/s | mae % of peak | mae peak RSS MB | " +
          " | ".join(f"PyTorch ({p}) img/s | ratio | PyTorch RSS MB" for p in pythons) + " |")
    print("|---|---|---|---|---|" + "---|---|---|" * len(pythons))
    for bench, config, batch in CONFIGS:
        row = median(bench_json(train, bench + "/", a.threads, *REPEAT))
        ips, gflop, rss = row["img/s"], row["GFLOP/img"], row.get("peak_RSS_MB", 0.0)
        cells = [config, str(batch), f"{ips:.1f}", f"{100 * ips * gflop / peak:.1f}%", f"{rss:.0f}"]
        for p in pythons:
            t = run_torch(p, a.anchor, config, a.threads, batch)
            if isinstance(t, str):
                cells += [t, "-", "-"]
            else:
                cells += [f"{t['img_per_s']:.1f} (torch {t['torch']})", f"{ips / t['img_per_s']:.2f}x",
                          f"{t['peak_rss_mb']:.0f}"]
        print("| " + " | ".join(cells) + " |", flush=True)

    torch_ms = [run_torch(p, a.anchor, "fmnist-tiny", 1, 1) for p in pythons]
    print("\n| fmnist-tiny encoder, batch 1, 1 thread | mae | " +
          " | ".join(f"PyTorch ({p}) | speed-up" for p in pythons) + " |")
    print("|---|---|" + "---|---|" * len(pythons))
    for name, label in LATENCY:
        row = median(bench_json(train, name, 1, *REPEAT))
        mae_ms = row["real_time"] / 1e3 if row["time_unit"] == "us" else row["real_time"]
        cells = [label, f"{mae_ms:.3f} ms"]
        for t in torch_ms:
            cells += [t, "-"] if isinstance(t, str) else [f"{t['encode_b1_ms']:.3f} ms", f"{t['encode_b1_ms'] / mae_ms:.2f}x"]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
