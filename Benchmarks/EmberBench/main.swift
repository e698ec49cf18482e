// Ember side of the Ember-vs-PyTorch benchmark suite (`make bench`, Benchmarks/run.sh).
//
// Each workload prints one JSON line on stdout:
//   {"impl":"ember","workload":"add16","seconds":1.2e-06,"inner":..,"reps":..}
// `seconds` is the median time of one call (per-op / per-iteration for the tiny workloads,
// which are timed as a loop of many calls divided by the loop length).
// The memory check prints {"impl":"ember","workload":"rss_tiny_ops","rss_1m_kib":..,...}.
//
// The peak-memory check prints {"impl":"ember","workload":"peak_rss_train","vmhwm_kib":..,...};
// it reads the process-wide peak (VmHWM), so run it alone (`--only peak_rss_train`), as run.sh does.
//
// The I/O workloads (load_safetensors90, load_pt90) read files that torch_bench.py creates
// (`torch_bench.py --make-io-files --io-dir DIR`, run.sh does it once) in --io-dir
// (default .build-bench/io).
//
// Usage: ember-bench [--only name,name,...] [--mem-ops N] [--quick N] [--io-dir DIR] [--list]
// --quick N: warm up, then 3 repetitions of N calls each (for profiling, not for numbers;
// for mlp_epoch and peak_rss_train, N is ignored: one epoch).
// The workloads and their PyTorch twins (Benchmarks/torch_bench.py) must stay identical.
import Ember
import EmberData
import EmberModels
import EmberNN
import EmberOptim
import EmberVision
import Foundation

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Timing

@inline(__always) func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Times `body`: warms up, picks a loop length so one repetition takes about
/// `repSeconds`, then runs `reps` repetitions (more for fast workloads, within `budget`
/// seconds) and returns the median time of one call plus the loop length and rep count.
func measure(repSeconds: Double = 0.05, minReps: Int = 7, maxReps: Int = 31, budget: Double = 3,
             warmCalls: Int = 3, _ body: () -> Void) -> (seconds: Double, inner: Int, reps: Int) {
    // Warm-up: at least `warmCalls` calls and at least ~0.2 s.
    if quick { // --quick: a few short repetitions, for profilers (callgrind, perf)
        for _ in 0..<warmCalls { body() }
        let inner = quickSingle ? 1 : quickInner
        var samples: [Double] = []
        for _ in 0..<3 {
            let start = now()
            for _ in 0..<inner { body() }
            samples.append((now() - start) / Double(inner))
        }
        return (median(samples), inner, 3)
    }
    var calls = 0
    let warmStart = now()
    while calls < warmCalls || (now() - warmStart < 0.2 && calls < 1_000_000) {
        body()
        calls += 1
    }
    let estimate = (now() - warmStart) / Double(calls)
    let inner = max(1, Int((repSeconds / max(estimate, 1e-9)).rounded(.up)))
    let perRep = estimate * Double(inner)
    let reps = min(maxReps, max(minReps, Int(budget / max(perRep, 1e-9))))
    var samples: [Double] = []
    samples.reserveCapacity(reps)
    for _ in 0..<reps {
        let start = now()
        for _ in 0..<inner { body() }
        samples.append((now() - start) / Double(inner))
    }
    return (median(samples), inner, reps)
}

// MARK: - Memory

/// Resident set size of this process in KiB (VmRSS from /proc/self/status).
func residentKiB() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.dropFirst(6).filter { $0.isNumber }
        return Int(digits) ?? -1
    }
    return -1
}

/// Peak resident set size of this process in KiB (VmHWM from /proc/self/status).
func peakResidentKiB() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let digits = line.dropFirst(6).filter { $0.isNumber }
        return Int(digits) ?? -1
    }
    return -1
}

// MARK: - Output

func emit(_ fields: [(String, Any)]) {
    var parts: [String] = []
    for (key, value) in fields {
        switch value {
        case let s as String: parts.append("\"\(key)\":\"\(s)\"")
        case let d as Double: parts.append("\"\(key)\":\(d)")
        case let i as Int: parts.append("\"\(key)\":\(i)")
        default: parts.append("\"\(key)\":\"\(value)\"")
        }
    }
    print("{" + parts.joined(separator: ",") + "}")
    fflush(stdout)
}

func report(_ name: String, _ result: (seconds: Double, inner: Int, reps: Int)) {
    emit([("impl", "ember"), ("workload", name), ("seconds", result.seconds),
          ("inner", result.inner), ("reps", result.reps)])
}

// MARK: - Arguments

var only: Set<String>? = nil
var memOps = 10_000_000
var ioDir = ".build-bench/io"
nonisolated(unsafe) var quick = false
nonisolated(unsafe) var quickInner = 1000
nonisolated(unsafe) var quickSingle = false   // --quick for the epoch workloads: one call per repetition
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let arg = arguments.next() {
    switch arg {
    case "--only": only = Set((arguments.next() ?? "").split(separator: ",").map(String.init))
    case "--mem-ops": memOps = Int(arguments.next() ?? "") ?? memOps
    case "--io-dir": ioDir = arguments.next() ?? ioDir
    case "--quick":
        quick = true
        if let n = Int(arguments.next() ?? "") { quickInner = n }
    case "--list":
        print("add16 mlp16 matmul1024 matmul4096 fma10m softmax4096 sum10m rss_tiny_ops mlp_step cnn_step mlp_epoch peak_rss_train load_safetensors90 load_pt90 gpt_step lstm_step generate200 attention_memory minilm_embed256 minilm_peak_rss minilm_cold mobilenet_batch16")
        exit(0)
    default:
        FileHandle.standardError.write("ember-bench: unknown argument \(arg)\n".data(using: .utf8)!)
        exit(2)
    }
}
func wanted(_ name: String) -> Bool { only?.contains(name) ?? true }

// Match PyTorch's torch.set_num_threads(n): oneDNN reads OMP_NUM_THREADS itself; Ember's
// own kernels follow Threading.threadCount (default: the core count).
if let value = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"], let n = Int(value), n > 0 {
    Threading.threadCount = n
}
emit([("impl", "ember"), ("workload", "_info"), ("threads", Threading.threadCount)])

manualSeed(0)

// MARK: - Training models (shared by the training workloads)

/// 784-512-512-10 with ReLU (with a leading Flatten for [N, 1, 28, 28] images).
func makeMLP(flatten: Bool) -> Sequential {
    Sequential {
        if flatten { Flatten() }
        Linear(784, 512)
        ReLU()
        Linear(512, 512)
        ReLU()
        Linear(512, 10)
    }
}

/// conv(1→32, 3, pad 1)-ReLU-maxpool 2-conv(32→64, 3, pad 1)-ReLU-maxpool 2-flatten-linear(3136→128)-ReLU-linear(128→10).
func makeCNN() -> Sequential {
    Sequential {
        Conv2d(1, 32, kernelSize: 3, padding: 1)
        ReLU()
        MaxPool2d(kernelSize: 2)
        Conv2d(32, 64, kernelSize: 3, padding: 1)
        ReLU()
        MaxPool2d(kernelSize: 2)
        Flatten()
        Linear(3136, 128)
        ReLU()
        Linear(128, 10)
    }
}

func loadFashionMNIST() -> FashionMNIST {
    do { return try FashionMNIST(split: .train) } catch {
        FileHandle.standardError.write("ember-bench: \(error)\n".data(using: .utf8)!)
        exit(1)
    }
}

/// One epoch of the Fashion-MNIST MLP: batch 128, shuffled, SGD lr 0.05 momentum 0.9.
func trainEpoch(_ model: Module, _ optim: Optimizer, _ loader: DataLoader<FashionMNIST, (Tensor, Tensor)>) {
    for (images, labels) in loader {
        optim.zeroGrad()
        let loss = crossEntropy(model(images), labels)
        loss.backward()
        optim.step()
    }
}

// MARK: - Peak memory of a training process (first, since VmHWM is process-wide)

// Load Fashion-MNIST (train split), train the MLP one epoch, report VmHWM. Meaningful only
// as the only workload of its process: run.sh runs it as `--only peak_rss_train`.
if wanted("peak_rss_train") {
    let start = now()
    let rssStart = residentKiB()
    let data = loadFashionMNIST()
    let rssLoaded = residentKiB(), hwmLoaded = peakResidentKiB()
    let model = makeMLP(flatten: true)
    let optim = SGD(model.parameters(), lr: 0.05, momentum: 0.9)
    let loader = DataLoader(data, batchSize: 128, shuffle: true, numWorkers: 0, seed: 0)
    trainEpoch(model, optim, loader)
    emit([("impl", "ember"), ("workload", "peak_rss_train"), ("vmhwm_kib", peakResidentKiB()),
          ("rss_start_kib", rssStart), ("rss_loaded_kib", rssLoaded), ("vmhwm_loaded_kib", hwmLoaded), ("rss_end_kib", residentKiB()),
          ("alone", only == ["peak_rss_train"] ? 1 : 0), ("seconds_total", now() - start)])
}

// MARK: - Workloads

// Per-op overhead: x + x on 16 float32.
if wanted("add16") {
    let x = Tensor.randn([16])
    report("add16", measure { _ = x + x })
}

// Autograd overhead: forward and backward of a tiny tanh layer, grads cleared each time.
if wanted("mlp16") {
    let x = Tensor.randn([16]).requiresGrad(true)
    let w = Tensor.randn([16, 16]).requiresGrad(true)
    report("mlp16", measure {
        x.grad = nil; w.grad = nil
        tanh(x.matmul(w)).sum().backward()
    })
}

// Large matrix products (oneDNN sgemm on both sides).
if wanted("matmul1024") {
    let a = Tensor.randn([1024, 1024]), b = Tensor.randn([1024, 1024])
    report("matmul1024", measure(repSeconds: 0, budget: 3) { _ = a.matmul(b) })
}
if wanted("matmul4096") {
    let a = Tensor.randn([4096, 4096]), b = Tensor.randn([4096, 4096])
    report("matmul4096", measure(repSeconds: 0, minReps: 5, budget: 6, warmCalls: 2) { _ = a.matmul(b) })
}

// Memory-bound elementwise: a * b + c over 10M float32 (two kernels, one temporary).
if wanted("fma10m") {
    let a = Tensor.randn([10_000_000]), b = Tensor.randn([10_000_000]), c = Tensor.randn([10_000_000])
    report("fma10m", measure(repSeconds: 0, budget: 3) { _ = a * b + c })
}

// Row softmax of a [4096, 4096] float32 matrix.
if wanted("softmax4096") {
    let x = Tensor.randn([4096, 4096])
    report("softmax4096", measure(repSeconds: 0, budget: 3) { _ = softmax(x, dim: 1) })
}

// Full reduction of 10M float32.
if wanted("sum10m") {
    let x = Tensor.randn([10_000_000])
    report("sum10m", measure(repSeconds: 0, budget: 3) { _ = x.sum() })
}

// Memory check: many tiny ops with dropped results must not grow the resident set.
if wanted("rss_tiny_ops") {
    let x = Tensor.randn([16])
    for _ in 0..<10_000 { _ = x + x }   // warm caches and allocator
    let before = residentKiB()
    let first = max(1, memOps / 10)
    let start = now()
    for _ in 0..<first { _ = x + x }
    let rssFirst = residentKiB()
    for _ in first..<memOps { _ = x + x }
    let rssAll = residentKiB()
    emit([("impl", "ember"), ("workload", "rss_tiny_ops"), ("ops_first", first), ("ops_total", memOps),
          ("rss_start_kib", before), ("rss_first_kib", rssFirst), ("rss_total_kib", rssAll),
          ("growth_kib", rssAll - rssFirst), ("seconds_total", now() - start)])
}

// MARK: - Training

// One MLP train step: 784-512-512-10, batch 256 (fixed random input and labels), SGD lr 0.01
// momentum 0.9, cross-entropy.
if wanted("mlp_step") {
    let model = makeMLP(flatten: false)
    let optim = SGD(model.parameters(), lr: 0.01, momentum: 0.9)
    let x = Tensor.randn([256, 784]), y = Tensor.randint(0, 10, [256])
    report("mlp_step", measure(repSeconds: 0, budget: 3) {
        optim.zeroGrad()
        let loss = crossEntropy(model(x), y)
        loss.backward()
        optim.step()
    })
}

// One CNN train step: batch 128 of [1, 28, 28] (fixed random input and labels), Adam lr 1e-3.
if wanted("cnn_step") {
    let model = makeCNN()
    let optim = Adam(model.parameters(), lr: 1e-3)
    let x = Tensor.randn([128, 1, 28, 28]), y = Tensor.randint(0, 10, [128])
    report("cnn_step", measure(repSeconds: 0, budget: 3) {
        optim.zeroGrad()
        let loss = crossEntropy(model(x), y)
        loss.backward()
        optim.step()
    })
}

// One Fashion-MNIST epoch of the MLP (Flatten first) through the DataLoader: 60000 training
// images, batch 128, shuffled, SGD lr 0.05 momentum 0.9. One warm-up epoch, then 3 timed epochs.
if wanted("mlp_epoch") {
    let data = loadFashionMNIST()
    let model = makeMLP(flatten: true)
    let optim = SGD(model.parameters(), lr: 0.05, momentum: 0.9)
    let loader = DataLoader(data, batchSize: 128, shuffle: true, numWorkers: 0, seed: 0)
    quickSingle = true
    report("mlp_epoch", measure(repSeconds: 0, minReps: 3, maxReps: 3, warmCalls: 1) {
        trainEpoch(model, optim, loader)
    })
    quickSingle = false
}

// MARK: - I/O

/// The path of an I/O benchmark file, or exit when torch_bench.py has not created it.
func ioFile(_ name: String) -> URL {
    let url = URL(fileURLWithPath: ioDir).appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: url.path) else {
        FileHandle.standardError.write("ember-bench: \(url.path) is missing; create it with `torch_bench.py --make-io-files --io-dir \(ioDir)`\n".data(using: .utf8)!)
        exit(1)
    }
    return url
}

func orExit<T>(_ body: () throws -> T) -> T {
    do { return try body() } catch {
        FileHandle.standardError.write("ember-bench: \(error)\n".data(using: .utf8)!)
        exit(1)
    }
}

// Load a ~90 MB safetensors file of float32 tensors (zero-copy) and touch every tensor (sum).
if wanted("load_safetensors90") {
    let url = ioFile("bench90.safetensors")
    report("load_safetensors90", measure(repSeconds: 0, budget: 3) {
        let tensors = orExit { try SafetensorsFile(url).tensors(copy: false) }
        for (_, t) in tensors { _ = t.sum() }
    })
}

// Load a ~90 MB torch.save state dict of float32 tensors.
if wanted("load_pt90") {
    let url = ioFile("bench90.pt")
    report("load_pt90", measure(repSeconds: 0, budget: 3) {
        _ = orExit { try TorchCheckpoint.load(url) }
    })
}

// MARK: - Sequence models (SequenceWorkloads.swift)

if wanted("gpt_step") { runGPTStep() }
if wanted("lstm_step") { runLSTMStep() }
if wanted("generate200") { runGenerate200() }
if wanted("attention_memory") { runAttentionMemory() }

// MARK: - Pretrained models (PretrainedWorkloads.swift)

if wanted("minilm_embed256") { runMiniLMEmbed() }
if wanted("minilm_peak_rss") { runMiniLMPeakRSS() }
if wanted("minilm_cold") { runMiniLMColdStart() }
if wanted("mobilenet_batch16") { runMobileNetBatch16() }
