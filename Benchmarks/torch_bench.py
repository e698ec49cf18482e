"""PyTorch side of the Ember-vs-PyTorch benchmark suite (`make bench`, Benchmarks/run.sh).

The same workloads, timed the same way, as Benchmarks/EmberBench/main.swift. Each
workload prints one JSON line on stdout:
    {"impl":"torch","workload":"add16","seconds":1.2e-06,"inner":...,"reps":...}
`seconds` is the median time of one call (per-op / per-iteration for the tiny workloads,
which are timed as a loop of many calls divided by the loop length).

Usage: torch_bench.py [--only name,name,...] [--mem-ops N] [--threads N]
"""
import argparse
import json
import statistics
import sys
import time

import torch

WORKLOADS = ["add16", "mlp16", "matmul1024", "matmul4096", "fma10m", "softmax4096", "sum10m", "rss_tiny_ops"]


def measure(body, rep_seconds=0.05, min_reps=7, max_reps=31, budget=3.0, warm_calls=3):
    """Warms up, picks a loop length so one repetition takes about `rep_seconds`, runs
    `reps` repetitions (within `budget` seconds) and returns (median seconds per call,
    loop length, reps). Mirrors `measure` in EmberBench/main.swift."""
    now = time.perf_counter
    calls = 0
    warm_start = now()
    while calls < warm_calls or (now() - warm_start < 0.2 and calls < 1_000_000):
        body()
        calls += 1
    estimate = (now() - warm_start) / calls
    inner = max(1, -(-rep_seconds // max(estimate, 1e-9))) if rep_seconds > 0 else 1
    inner = int(inner)
    per_rep = estimate * inner
    reps = min(max_reps, max(min_reps, int(budget / max(per_rep, 1e-9))))
    samples = []
    for _ in range(reps):
        start = now()
        for _ in range(inner):
            body()
        samples.append((now() - start) / inner)
    return statistics.median(samples), inner, reps


def resident_kib():
    """VmRSS of this process in KiB, from /proc/self/status."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def emit(**fields):
    print(json.dumps({"impl": "torch", **fields}), flush=True)


def report(name, result):
    seconds, inner, reps = result
    emit(workload=name, seconds=seconds, inner=inner, reps=reps)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=None)
    parser.add_argument("--mem-ops", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None

    def wanted(name):
        return only is None or name in only

    torch.set_num_threads(args.threads)
    emit(workload="_info", threads=torch.get_num_threads(), version=torch.__version__)
    torch.manual_seed(0)

    # Per-op overhead: x + x on 16 float32.
    if wanted("add16"):
        x = torch.randn(16)
        report("add16", measure(lambda: x + x))

    # Autograd overhead: forward and backward of a tiny tanh layer, grads cleared each time.
    if wanted("mlp16"):
        x = torch.randn(16, requires_grad=True)
        w = torch.randn(16, 16, requires_grad=True)

        def step():
            x.grad = None
            w.grad = None
            torch.tanh(x.matmul(w)).sum().backward()

        report("mlp16", measure(step))

    # Large matrix products.
    if wanted("matmul1024"):
        a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
        report("matmul1024", measure(lambda: a.matmul(b), rep_seconds=0, budget=3))
    if wanted("matmul4096"):
        a, b = torch.randn(4096, 4096), torch.randn(4096, 4096)
        report("matmul4096", measure(lambda: a.matmul(b), rep_seconds=0, min_reps=5, budget=6, warm_calls=2))

    # Memory-bound elementwise: a * b + c over 10M float32 (two kernels, one temporary).
    if wanted("fma10m"):
        a, b, c = torch.randn(10_000_000), torch.randn(10_000_000), torch.randn(10_000_000)
        report("fma10m", measure(lambda: a * b + c, rep_seconds=0, budget=3))

    # Row softmax of a [4096, 4096] float32 matrix.
    if wanted("softmax4096"):
        x = torch.randn(4096, 4096)
        report("softmax4096", measure(lambda: torch.softmax(x, dim=1), rep_seconds=0, budget=3))

    # Full reduction of 10M float32.
    if wanted("sum10m"):
        x = torch.randn(10_000_000)
        report("sum10m", measure(lambda: x.sum(), rep_seconds=0, budget=3))

    # Memory check: many tiny ops with dropped results must not grow the resident set.
    if wanted("rss_tiny_ops"):
        x = torch.randn(16)
        for _ in range(10_000):
            x + x
        before = resident_kib()
        first = max(1, args.mem_ops // 10)
        start = time.perf_counter()
        for _ in range(first):
            x + x
        rss_first = resident_kib()
        for _ in range(first, args.mem_ops):
            x + x
        rss_all = resident_kib()
        emit(workload="rss_tiny_ops", ops_first=first, ops_total=args.mem_ops, rss_start_kib=before,
             rss_first_kib=rss_first, rss_total_kib=rss_all, growth_kib=rss_all - rss_first,
             seconds_total=time.perf_counter() - start)


if __name__ == "__main__":
    sys.exit(main())
