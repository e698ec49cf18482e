// `ember convert IN OUT`: converts tensor files between PyTorch checkpoints
// (.pt/.pth/.bin), .safetensors and NumPy .npz/.npy, choosing both formats by extension.
import ArgumentParser
import Foundation
import Ember

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert tensors between .pt/.pth/.bin, .safetensors, .npz and .npy files.",
        discussion: """
            The formats are chosen by the extensions. Tensor names, dtypes and shapes are kept \
            (a torch checkpoint's nested dicts become dotted names). An .npy file holds one \
            array: as input it becomes one tensor named after the file (weights.npy → weights); \
            as output it takes the input's only tensor, or the one --tensor names. bfloat16 \
            tensors cannot be written to .npz or .npy (NumPy has no bfloat16 type). The output \
            is written atomically: on any error it is left untouched.
            """)

    @Argument(help: "The input file (.pt, .pth, .bin, .safetensors, .npz or .npy).")
    var input: String

    @Argument(help: "The output file (.pt, .pth, .bin, .safetensors, .npz or .npy).")
    var output: String

    @Option(help: "Convert only this tensor (needed for an .npy output when the input holds several).")
    var tensor: String?

    @Flag(help: "Deflate the entries of an .npz output (as np.savez_compressed).")
    var compressed = false

    func run() throws {
        do {
            try Self.convert(from: URL(fileURLWithPath: input), to: URL(fileURLWithPath: output), compressed: compressed,
                             only: tensor)
        } catch {
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }

    enum Format: String {
        case torch, safetensors, npz, npy

        static let extensions = ".pt, .pth, .bin, .safetensors, .npz, .npy"

        init(_ url: URL) throws {
            switch url.pathExtension.lowercased() {
            case "pt", "pth", "bin": self = .torch
            case "safetensors": self = .safetensors
            case "npz": self = .npz
            case "npy": self = .npy
            default:
                throw ToolError("\(url.path): unsupported file extension '\(url.pathExtension)'; supported: \(Format.extensions)")
            }
        }
    }

    /// Reads `input` and writes its tensors (or only the tensor `only`) to `output`; nothing
    /// is written unless every tensor can be.
    static func convert(from input: URL, to output: URL, compressed: Bool = false, only: String? = nil) throws {
        let inFormat = try Format(input)
        let outFormat = try Format(output)
        if compressed && outFormat != .npz {
            throw ToolError("--compressed applies only to an .npz output, not \(output.path)")
        }
        var tensors: [(name: String, tensor: Tensor)]
        var metadata: [String: String]? = nil
        switch inFormat {
        case .torch:
            let loaded = try TorchCheckpoint.load(input)
            tensors = loaded.keys.sorted().map { ($0, loaded[$0]!) }
        case .safetensors:
            let file = try SafetensorsFile(input)
            tensors = try file.names.map { ($0, try file.tensor($0)) }
            metadata = file.metadata.isEmpty ? nil : file.metadata
        case .npz:
            tensors = try Npz.loadOrdered(input)
        case .npy:
            tensors = [(input.deletingPathExtension().lastPathComponent, try Tensor.load(npy: input))]
        }
        if let only {
            guard let chosen = tensors.first(where: { $0.name == only }) else {
                let names = tensors.prefix(10).map(\.name).joined(separator: ", ")
                throw ToolError("\(input.path) has no tensor named '\(only)' (it has \(tensors.count): \(names)\(tensors.count > 10 ? ", ..." : ""))")
            }
            tensors = [chosen]
        }
        if outFormat == .npz || outFormat == .npy, let bad = tensors.first(where: { $0.tensor.dtype == .bfloat16 }) {
            throw ToolError("\(output.path): cannot write tensor '\(bad.name)' (bfloat16) to .\(outFormat.rawValue): NumPy has no bfloat16 type; convert to .safetensors or .pt instead")
        }
        switch outFormat {
        case .npz:
            try Npz.save(ordered: tensors, to: output, compressed: compressed)
        case .npy:
            guard tensors.count == 1, let single = tensors.first else {
                throw ToolError("\(output.path): an .npy file holds one array but \(input.path) has \(tensors.count) tensors; choose one with --tensor NAME")
            }
            try single.tensor.save(npy: output)
        case .safetensors:
            var dict: [String: Tensor] = [:]
            for (name, tensor) in tensors { dict[name] = tensor }
            try Safetensors.save(dict, to: output, metadata: inFormat == .safetensors ? metadata : nil)
        case .torch:
            var dict: [String: Tensor] = [:]
            for (name, tensor) in tensors { dict[name] = tensor }
            try TorchCheckpoint.save(dict, to: output)
        }
    }
}
