// `ember generate --checkpoint PATH --prompt "ROMEO:"`: samples text from a model trained
// by `ember train char-lm`, streaming each character to standard output as it is drawn.
import ArgumentParser
import Foundation
import Ember
import EmberNN
import EmberModels

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text with a character-level language model.",
        discussion: "Example: ember generate --checkpoint gpt.safetensors --prompt \"ROMEO:\" --tokens 300 --temperature 0.8 --top-k 40")

    @Option(help: "A checkpoint written by `ember train char-lm --save`.")
    var checkpoint: String

    @Option(help: "The text to continue (every character must be in the model's vocabulary).")
    var prompt: String = "\n"

    @Option(help: "Characters to generate.")
    var tokens: Int = 300

    @Option(help: "Sampling temperature (0: always the most likely character).")
    var temperature: Double = 0.8

    @Option(name: .customLong("top-k"), help: "Sample among the k most likely characters (0: all).")
    var topK: Int = 40

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Flag(help: ArgumentHelp("GPT: recompute the whole context at each step instead of using the KV cache.", visibility: .hidden))
    var noCache = false

    func validate() throws {
        guard tokens >= 0 else { throw ValidationError("--tokens must be zero or more") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be zero or more") }
        guard topK >= 0 else { throw ValidationError("--top-k must be zero or more") }
        guard !prompt.isEmpty else { throw ValidationError("--prompt must not be empty") }
    }

    func run() throws {
        do {
            try generate()
        } catch {
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }

    private func generate() throws {
        guard FileManager.default.fileExists(atPath: checkpoint) else { throw ToolError("\(checkpoint): no such checkpoint file") }
        let (weights, metadata) = try Safetensors.loadWithMetadata(URL(fileURLWithPath: checkpoint))
        guard let task = metadata[Checkpoint.taskKey] else {
            throw ToolError("\(checkpoint): not an ember checkpoint (no \(Checkpoint.taskKey) in its metadata)")
        }
        guard task == CharLMConfig.task else {
            throw ToolError("\(checkpoint): a \(task) checkpoint, not a char-lm one (train one with `ember train char-lm`)")
        }
        let config = try CharLMConfig(metadata: metadata, path: checkpoint)
        let tokenizer = try VocabularyJSON.decode(metadata[VocabularyJSON.key], path: checkpoint)
        guard tokenizer.vocabSize == config.vocabSize else {
            throw ToolError("\(checkpoint): the vocabulary holds \(tokenizer.vocabSize) characters but the model \(config.vocabSize)")
        }
        let model = config.makeModel()
        do {
            try model.loadStateDict(weights)
        } catch let error as StateDictError {
            throw ToolError("checkpoint does not fit the \(config.architecture.rawValue) model: \(error)")
        }
        var promptIDs: [Int] = []
        for c in prompt.unicodeScalars {
            guard let id = tokenizer.id(of: c) else {
                throw ToolError("the prompt character \(c.escaped(asASCII: true).debugDescription) is not in the model's vocabulary")
            }
            promptIDs.append(id)
        }

        let out = FileHandle.standardOutput
        out.write(Data(prompt.utf8))
        let generator = Generator(seed: seed)
        var pending = ""
        let onToken: (Int) -> Void = { id in
            // Every id the model draws is in 0..<vocabSize, so decoding cannot fail.
            pending = (try? tokenizer.decode([id])) ?? ""
            out.write(Data(pending.utf8))
        }
        let k = topK > 0 ? topK : nil
        switch model {
        case let gpt as GPT:
            _ = gpt.generate(promptIDs, maxNewTokens: tokens, temperature: temperature, topK: k,
                             generator: generator, useCache: !noCache, onToken: onToken)
        case let lstm as LSTMLanguageModel:
            _ = lstm.generate(promptIDs, maxNewTokens: tokens, temperature: temperature, topK: k,
                              generator: generator, onToken: onToken)
        default:
            throw ToolError("unsupported model")
        }
        out.write(Data("\n".utf8))
    }
}
