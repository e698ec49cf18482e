// Sequence-model workloads (issue: sequence models). Their PyTorch twins are in
// Benchmarks/torch_sequence_bench.py and must stay identical in shape and algorithm.
import Ember
import EmberModels
import EmberNN
import EmberOptim

/// The benchmark GPT: vocabulary 65, 4 layers, 4 heads, width 128, context 64, no dropout,
/// tied embeddings (the `ember train char-lm --model gpt` defaults).
func makeBenchGPT() -> GPT {
    GPT(GPTConfig(vocabSize: 65, contextLength: 64, numLayers: 4, numHeads: 4, embedDim: 128, dropout: 0))
}

/// One GPT train step: batch 16 of 64 random tokens and targets, cross-entropy, AdamW
/// (lr 1e-3, betas (0.9, 0.99), weight decay 0.1).
func runGPTStep() {
    let model = makeBenchGPT()
    let optim = AdamW(model.parameters(), lr: 1e-3, betas: (0.9, 0.99), weightDecay: 0.1)
    let x = Tensor.randint(0, 65, [16, 64]), y = Tensor.randint(0, 65, [16, 64])
    report("gpt_step", measure(repSeconds: 0, budget: 3) {
        optim.zeroGrad()
        let loss = languageModelLoss(model(x), y)
        loss.backward()
        optim.step()
    })
}

/// One LSTM language-model train step: embedding 64, 2 layers of hidden 256, vocabulary 65,
/// batch 32 of 64 random tokens, cross-entropy, AdamW (lr 1e-3).
func runLSTMStep() {
    let model = LSTMLanguageModel(vocabSize: 65, embedDim: 64, hiddenSize: 256, numLayers: 2)
    let optim = AdamW(model.parameters(), lr: 1e-3)
    let x = Tensor.randint(0, 65, [32, 64]), y = Tensor.randint(0, 65, [32, 64])
    report("lstm_step", measure(repSeconds: 0, budget: 3) {
        optim.zeroGrad()
        let loss = languageModelLoss(model(x), y)
        loss.backward()
        optim.step()
    })
}

/// Generation: 200 new tokens after a one-token prompt from the benchmark GPT with the
/// key/value cache, temperature 0.8, top-k 40 (the context slides once it passes 64 tokens:
/// the window is recomputed, as `GPT.generate` documents). Reports seconds per 200 tokens.
func runGenerate200() {
    let model = makeBenchGPT()
    model.eval()
    let generator = Generator(seed: 0)
    report("generate200", measure(repSeconds: 0, minReps: 5, budget: 4, warmCalls: 1) {
        _ = model.generate([0], maxNewTokens: 200, temperature: 0.8, topK: 40, generator: generator, useCache: true)
    })
}

/// Memory of long-sequence attention: one causal `scaledDotProductAttention` over
/// [1, 8, 4096, 64] query/key/value without gradients; reports the rise of the process's
/// peak resident set (VmHWM) during the call and its time. The full score matrix alone would
/// be 8 × 4096 × 4096 float32 = 512 MiB. Meaningful only alone in its process (run.sh
/// runs it as `--only attention_memory`).
func runAttentionMemory() {
    let q = Tensor.randn([1, 8, 4096, 64]), k = Tensor.randn([1, 8, 4096, 64]), v = Tensor.randn([1, 8, 4096, 64])
    noGrad {
        let before = peakResidentKiB()
        let start = now()
        let y = scaledDotProductAttention(query: q, key: k, value: v, isCausal: true)
        let seconds = now() - start
        emit([("impl", "ember"), ("workload", "attention_memory"), ("peak_rise_kib", peakResidentKiB() - before),
              ("vmhwm_kib", peakResidentKiB()), ("seconds", seconds), ("checksum", y.sum().item(Double.self))])
    }
}
