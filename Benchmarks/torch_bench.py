"""PyTorch side of the Ember-vs-PyTorch benchmark suite (`make bench`, Benchmarks/run.sh).

The same workloads, timed the same way, as Benchmarks/EmberBench/main.swift. Each
workload prints one JSON line on stdout:
    {"impl":"torch","workload":"add16","seconds":1.2e-06,"inner":...,"reps":...}
`seconds` is the median time of one call (per-op / per-iteration for the tiny workloads,
which are timed as a loop of many calls divided by the loop length).
The peak-memory check prints {"impl":"torch","workload":"peak_rss_train","vmhwm_kib":...};
it reads the process-wide peak (VmHWM), so run it alone (`--only peak_rss_train`), as run.sh does.

Fashion-MNIST comes from the gzipped IDX files in /usr/share/datasets/fashion-mnist (Debian
package dataset-fashion-mnist), read with gzip + numpy (torchvision is not used).

The I/O workloads (load_safetensors90, load_pt90) read two ~90 MB files of float32 tensors
from --io-dir (default .build-bench/io); `--make-io-files` creates them (once) and exits.

Usage: torch_bench.py [--only name,name,...] [--mem-ops N] [--threads N] [--io-dir DIR]
       torch_bench.py --make-io-files [--io-dir DIR]
"""
import argparse
import gzip
import json
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

WORKLOADS = ["add16", "mlp16", "matmul1024", "matmul4096", "fma10m", "softmax4096", "sum10m", "rss_tiny_ops",
             "mlp_step", "cnn_step", "mlp_epoch", "peak_rss_train", "load_safetensors90", "load_pt90",
             "gpt_step", "lstm_step", "generate200", "attention_memory",
             "minilm_embed256", "minilm_peak_rss", "minilm_cold", "mobilenet_batch16"]
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


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


def peak_resident_kib():
    """VmHWM (peak resident set size) of this process in KiB, from /proc/self/status."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def load_fashion_mnist(root=FASHION_MNIST):
    """The training split as (float32 [60000, 1, 28, 28] in [0, 1], int64 [60000]), read from
    the gzipped IDX files with gzip + numpy (what torchvision's FashionMNIST + ToTensor gives)."""
    with gzip.open(f"{root}/train-images-idx3-ubyte.gz", "rb") as f:
        raw = f.read()
    n, h, w = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    pixels = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 1, h, w)
    images = torch.from_numpy(pixels.astype(np.float32)).div_(255)
    del raw, pixels
    with gzip.open(f"{root}/train-labels-idx1-ubyte.gz", "rb") as f:
        raw = f.read()
    labels = torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=8).astype(np.int64))
    return images, labels


def make_mlp(flatten):
    """784-512-512-10 with ReLU (with a leading Flatten for [N, 1, 28, 28] images)."""
    layers = [nn.Flatten()] if flatten else []
    return nn.Sequential(*layers, nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def train_step(model, optim, x, y):
    optim.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optim.step()


def train_epoch(model, optim, loader):
    """One epoch of the Fashion-MNIST MLP: batch 128, shuffled, SGD lr 0.05 momentum 0.9."""
    for images, labels in loader:
        train_step(model, optim, images, labels)


def fashion_mlp_setup():
    images, labels = load_fashion_mnist()
    model = make_mlp(flatten=True)
    optim = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=128,
                                         shuffle=True, num_workers=0)
    return model, optim, loader


def emit(**fields):
    print(json.dumps({"impl": "torch", **fields}), flush=True)


def report(name, result):
    seconds, inner, reps = result
    emit(workload=name, seconds=seconds, inner=inner, reps=reps)


def io_state_dict():
    """The tensors of both I/O benchmark files: 30 float32 [768, 1024] weights and 30 [1024]
    biases, 94.5 MB in all (fixed seed)."""
    g = torch.Generator().manual_seed(0)
    sd = {}
    for i in range(30):
        sd[f"layers.{i}.weight"] = torch.randn(768, 1024, generator=g)
        sd[f"layers.{i}.bias"] = torch.randn(1024, generator=g)
    return sd


def make_io_files(io_dir):
    """Creates bench90.safetensors and bench90.pt in io_dir unless they already exist."""
    import os
    os.makedirs(io_dir, exist_ok=True)
    st_path, pt_path = os.path.join(io_dir, "bench90.safetensors"), os.path.join(io_dir, "bench90.pt")
    if os.path.exists(st_path) and os.path.exists(pt_path):
        return
    from safetensors.torch import save_file
    sd = io_state_dict()
    save_file(sd, st_path + ".tmp")
    os.replace(st_path + ".tmp", st_path)
    torch.save(sd, pt_path + ".tmp")
    os.replace(pt_path + ".tmp", pt_path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=None)
    parser.add_argument("--mem-ops", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--io-dir", default=".build-bench/io")
    parser.add_argument("--make-io-files", action="store_true")
    args = parser.parse_args()
    if args.make_io_files:
        make_io_files(args.io_dir)
        return 0
    only = set(args.only.split(",")) if args.only else None

    def wanted(name):
        return only is None or name in only

    torch.set_num_threads(args.threads)
    emit(workload="_info", threads=torch.get_num_threads(), version=torch.__version__)
    torch.manual_seed(0)

    # Peak memory of a training process: load Fashion-MNIST, train the MLP one epoch, report
    # VmHWM. First, since VmHWM is process-wide; meaningful only alone (`--only peak_rss_train`).
    if wanted("peak_rss_train"):
        start = time.perf_counter()
        rss_start = resident_kib()
        model, optim, loader = fashion_mlp_setup()
        rss_loaded, hwm_loaded = resident_kib(), peak_resident_kib()
        train_epoch(model, optim, loader)
        emit(workload="peak_rss_train", vmhwm_kib=peak_resident_kib(), rss_start_kib=rss_start,
             rss_loaded_kib=rss_loaded, vmhwm_loaded_kib=hwm_loaded, rss_end_kib=resident_kib(), alone=int(only == {"peak_rss_train"}),
             seconds_total=time.perf_counter() - start)

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

    # One MLP train step: 784-512-512-10, batch 256 (fixed random input and labels), SGD lr 0.01
    # momentum 0.9, cross-entropy.
    if wanted("mlp_step"):
        model = make_mlp(flatten=False)
        optim = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x, y = torch.randn(256, 784), torch.randint(0, 10, (256,))
        report("mlp_step", measure(lambda: train_step(model, optim, x, y), rep_seconds=0, budget=3))

    # One CNN train step: batch 128 of [1, 28, 28] (fixed random input and labels), Adam lr 1e-3.
    if wanted("cnn_step"):
        model = make_cnn()
        optim = torch.optim.Adam(model.parameters(), lr=1e-3)
        x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
        report("cnn_step", measure(lambda: train_step(model, optim, x, y), rep_seconds=0, budget=3))

    # One Fashion-MNIST epoch of the MLP (Flatten first) through torch's DataLoader
    # (TensorDataset, batch 128, shuffle, num_workers=0). One warm-up epoch, then 3 timed epochs.
    if wanted("mlp_epoch"):
        model, optim, loader = fashion_mlp_setup()
        report("mlp_epoch", measure(lambda: train_epoch(model, optim, loader), rep_seconds=0, min_reps=3,
                                    max_reps=3, warm_calls=1))


    # Load a ~90 MB safetensors file of float32 tensors and touch every tensor (sum).
    if wanted("load_safetensors90"):
        import os
        from safetensors.torch import load_file
        path = os.path.join(args.io_dir, "bench90.safetensors")

        def load_st():
            for t in load_file(path).values():
                t.sum()

        report("load_safetensors90", measure(load_st, rep_seconds=0, budget=3))

    # Load a ~90 MB torch.save state dict of float32 tensors.
    if wanted("load_pt90"):
        import os
        path = os.path.join(args.io_dir, "bench90.pt")
        report("load_pt90", measure(lambda: torch.load(path, weights_only=True), rep_seconds=0, budget=3))

    # Sequence models: GPT and LSTM language-model train steps, generation with a KV cache,
    # and the peak memory of long-sequence attention (alone in its process, like peak_rss_train).
    import torch_sequence_bench
    torch_sequence_bench.run(wanted, measure, report)
    if wanted("attention_memory"):
        torch_sequence_bench.run_attention_memory(peak_resident_kib, emit)

    # Pretrained models: MiniLM embeddings (time, peak memory, cold start) and MobileNetV2.
    pretrained = {"minilm_embed256", "minilm_peak_rss", "minilm_cold", "mobilenet_batch16"}
    if only is None or only & pretrained:
        import torch_pretrained_bench
        torch_pretrained_bench.run(wanted, measure, report, emit, peak_resident_kib)


if __name__ == "__main__":
    sys.exit(main())
