// `ember export --checkpoint PATH --onnx OUT`: a trained model as an ONNX file that
// ONNX Runtime (or any ONNX consumer) runs.
import ArgumentParser
import Foundation
import Ember
import EmberNN
import EmberONNX

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a trained model to ONNX.",
        discussion: """
            The model is rebuilt from the checkpoint's metadata (or --model) and traced on an example input. \
            Fashion-MNIST models take input "image" [batch, 1, 28, 28] float32 with pixels in [0, 1] \
            (the training normalisation is part of the graph) and give "logits" [batch, 10]. \
            Char-LM models (gpt, lstm) take "tokens" [batch, T] int64 (T = the context length) and give \
            "logits" [batch, T, vocab]. \
            Example: ember export --checkpoint cnn.safetensors --onnx cnn.onnx
            """)

    @Option(help: "A checkpoint written by `ember train ... --save`.")
    var checkpoint: String

    @Option(help: "Where to write the ONNX model.")
    var onnx: String

    @Option(help: "The architecture (mlp, cnn, gpt, lstm); default: the one the checkpoint records.")
    var model: String?

    @Option(help: "The ONNX opset version (\(ONNX.supportedOpsets.lowerBound)...\(ONNX.supportedOpsets.upperBound)).")
    var opset: Int = ONNX.defaultOpset

    @Flag(help: "Fix the batch size to 1 instead of making it a dynamic dimension.")
    var staticBatch = false

    func validate() throws {
        guard ONNX.supportedOpsets.contains(opset) else {
            throw ValidationError("--opset must be between \(ONNX.supportedOpsets.lowerBound) and \(ONNX.supportedOpsets.upperBound)")
        }
        guard !onnx.isEmpty else { throw ValidationError("--onnx must not be empty") }
    }

    func run() throws {
        do {
            try export()
        } catch {
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }

    private func export() throws {
        guard FileManager.default.fileExists(atPath: checkpoint) else { throw ToolError("\(checkpoint): no such checkpoint file") }
        let (weights, metadata) = try Safetensors.loadWithMetadata(URL(fileURLWithPath: checkpoint))
        guard let task = metadata[Checkpoint.taskKey] else {
            throw ToolError("\(checkpoint): not an ember checkpoint (no \(Checkpoint.taskKey) in its metadata)")
        }
        let network: Module, example: Tensor, inputName: String, description: String
        let function: (Tensor) -> Tensor
        switch task {
        case "fashion-mnist":
            let name = model ?? metadata[Checkpoint.architectureKey] ?? ""
            guard let architecture = FashionMNISTArchitecture(rawValue: name) else {
                throw ToolError("unknown fashion-mnist model '\(name)' (expected one of: \(FashionMNISTArchitecture.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            network = try loaded(architecture.makeModel(), weights, architecture.rawValue)
            // The graph takes raw [0, 1] pixels: the training normalisation is part of it.
            function = { network(FashionMNISTArchitecture.normalize($0)) }
            example = Tensor.rand([1, 1, 28, 28])
            inputName = "image"
            description = "fashion-mnist \(architecture.rawValue)"
        case CharLMConfig.task:
            var config = try CharLMConfig(metadata: metadata, path: checkpoint)
            if let model {
                guard let architecture = CharLMArchitecture(rawValue: model) else {
                    throw ToolError("unknown char-lm model '\(model)' (expected one of: \(CharLMArchitecture.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                config.architecture = architecture
            }
            network = try loaded(config.makeModel(), weights, config.architecture.rawValue)
            function = { network($0) }
            let length = config.contextLength > 0 ? config.contextLength : 64
            example = Tensor((0..<length).map { Int64($0 % config.vocabSize) }, shape: [1, length])
            inputName = "tokens"
            description = "char-lm \(config.architecture.rawValue)"
        default:
            throw ToolError("\(checkpoint): unknown task '\(task)'")
        }
        network.eval()
        let named = network.namedParameters() + network.namedBuffers()
        try ONNX.export(function, exampleInput: example, namedTensors: named, to: URL(fileURLWithPath: onnx),
                        inputNames: [inputName], outputNames: ["logits"], dynamicBatch: !staticBatch, opset: opset)
        print("\(checkpoint) (\(description)) -> \(onnx): ONNX opset \(opset), input '\(inputName)' \(staticBatch ? example.shape.description : "[batch, \(example.shape.dropFirst().map(String.init).joined(separator: ", "))]")")
    }

    /// `module` with the checkpoint's weights loaded strictly.
    private func loaded(_ module: Module, _ weights: [String: Tensor], _ architecture: String) throws -> Module {
        do {
            try module.loadStateDict(weights)
        } catch let error as StateDictError {
            throw ToolError("\(checkpoint) does not fit the \(architecture) architecture: \(error)")
        }
        return module
    }
}
