// `ember inspect FILE`: the tensors of a .safetensors, .npy, .npz or torch (.pt/.pth/.bin)
// file, without loading a model.
import ArgumentParser
import Foundation
import Ember

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors of a .safetensors, .npy, .npz or .pt/.pth/.bin file.",
        discussion: "Prints one line per tensor (name, dtype, shape, bytes), a total, and the file's metadata if any.")

    @Argument(help: "A .safetensors, .npy, .npz or .pt/.pth/.bin file.")
    var file: String

    func run() throws {
        do {
            for line in try Self.report(for: URL(fileURLWithPath: file)) { print(line) }
        } catch {
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }

    struct Row {
        let name: String
        let dtype: DType
        let shape: [Int]
        let bytes: Int
    }

    /// The lines `ember inspect` prints for `url`.
    static func report(for url: URL) throws -> [String] {
        var rows: [Row] = []
        var metadata: [String: String] = [:]
        switch url.pathExtension.lowercased() {
        case "safetensors":
            let st = try SafetensorsFile(url)
            for name in st.names {
                let info = st.info(name)!
                rows.append(Row(name: name, dtype: info.dtype, shape: info.shape, bytes: info.byteCount))
            }
            metadata = st.metadata
        case "npy":
            let tensor = try Tensor.load(npy: url)
            rows.append(Row(name: url.deletingPathExtension().lastPathComponent, dtype: tensor.dtype,
                            shape: tensor.shape, bytes: tensor.count * tensor.dtype.itemSize))
        case "npz":
            for (name, tensor) in try Npz.loadOrdered(url) {
                rows.append(Row(name: name, dtype: tensor.dtype, shape: tensor.shape, bytes: tensor.count * tensor.dtype.itemSize))
            }
        case "pt", "pth", "bin":
            let tensors: [String: Tensor]
            do { tensors = try TorchCheckpoint.load(url) } catch let error as TorchCheckpointError where error.kind == .notACheckpoint {
                // `.bin` in particular is used for many things; say which formats are read.
                throw ToolError("\(error); supported: .safetensors, .npy, .npz, .pt, .pth, .bin (torch.save zip format)")
            }
            for name in tensors.keys.sorted() {
                let tensor = tensors[name]!
                rows.append(Row(name: name, dtype: tensor.dtype, shape: tensor.shape, bytes: tensor.count * tensor.dtype.itemSize))
            }
        default:
            throw ToolError("\(url.path): unsupported file extension '\(url.pathExtension)'; supported: .safetensors, .npy, .npz, .pt, .pth, .bin")
        }
        let nameWidth = rows.map(\.name.count).max() ?? 0
        let dtypeWidth = rows.map(\.dtype.rawValue.count).max() ?? 0
        let shapes = rows.map { "[" + $0.shape.map(String.init).joined(separator: ", ") + "]" }
        let shapeWidth = shapes.map(\.count).max() ?? 0
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        var lines: [String] = []
        for (row, shape) in zip(rows, shapes) {
            lines.append("\(pad(row.name, nameWidth))  \(pad(row.dtype.rawValue, dtypeWidth))  \(pad(shape, shapeWidth))  \(row.bytes) bytes")
        }
        let elements = rows.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let bytes = rows.reduce(0) { $0 + $1.bytes }
        lines.append("total: \(rows.count) tensor\(rows.count == 1 ? "" : "s"), \(elements) elements, \(bytes) bytes")
        if !metadata.isEmpty {
            lines.append("metadata:")
            for key in metadata.keys.sorted() { lines.append("  \(key): \(metadata[key]!)") }
        }
        return lines
    }
}
