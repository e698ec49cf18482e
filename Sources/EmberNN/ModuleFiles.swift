// Saving a module's weights to a file and loading them back, choosing the format by the
// file's extension.
import Foundation
import Ember

extension Module {
    /// File extensions `save(to:)` and `loadStateDict(from:strict:)` understand.
    public static var supportedWeightFileExtensions: [String] { ["safetensors", "npz", "pt", "pth", "bin"] }

    /// Saves this module's state dict (parameters and persistent buffers) to a
    /// `.safetensors`, `.npz` (NumPy, stored) or `.pt`/`.pth`/`.bin` (`torch.save` zip format)
    /// file, chosen by the extension, atomically: an existing file is replaced only once the
    /// new one is completely written.
    ///
    /// - Parameters:
    ///   - url: the destination; its extension picks the format.
    ///   - metadata: optional free-form strings stored in a `.safetensors` file's
    ///     `__metadata__`; the other formats cannot hold them, so passing metadata with them
    ///     throws `ModuleFileError` rather than dropping it.
    /// - Throws: `ModuleFileError` for an unsupported extension; `FileWriteError`,
    ///   `NpzError` or `TorchCheckpointError` when the file cannot be written (`NpzError`
    ///   also for bfloat16 weights, which NumPy cannot store).
    ///
    /// ```swift
    /// try model.save(to: URL(fileURLWithPath: "mlp.safetensors"))
    /// ```
    public func save(to url: URL, metadata: [String: String]? = nil) throws {
        switch try Self.weightFormat(of: url) {
        case .safetensors:
            try Safetensors.save(stateDict(), to: url, metadata: metadata)
        case .npz:
            try Self.refuseMetadata(metadata, url)
            try Npz.save(stateDict(), to: url)
        case .torch:
            try Self.refuseMetadata(metadata, url)
            try TorchCheckpoint.save(stateDict(), to: url)
        }
    }

    private static func refuseMetadata(_ metadata: [String: String]?, _ url: URL) throws {
        guard metadata != nil else { return }
        throw ModuleFileError(path: url.path,
                              reason: "metadata can only be stored in a .safetensors file, not a .\(url.pathExtension) file")
    }

    /// Loads parameters and buffers from a weights file, choosing the format by the
    /// extension (`.safetensors`, `.npz`, or `.pt`/`.pth`/`.bin` for `torch.save` files, whose
    /// tensors are read with their dotted state-dict names). The file is validated and every key, shape and dtype
    /// checked before anything is changed (see `loadStateDict(_:strict:)`).
    ///
    /// - Parameters:
    ///   - url: the file.
    ///   - strict: when true (the default), missing and unexpected keys are errors.
    /// - Throws: `ModuleFileError` for an unsupported extension, `SafetensorsError` for a
    ///   missing or malformed file, `StateDictError` when the weights do not fit.
    ///
    /// ```swift
    /// let model = MLP()
    /// try model.loadStateDict(from: URL(fileURLWithPath: "mlp.safetensors"))
    /// ```
    public func loadStateDict(from url: URL, strict: Bool = true) throws {
        switch try Self.weightFormat(of: url) {
        case .safetensors:
            try loadStateDict(Safetensors.load(url), strict: strict)
        case .npz:
            try loadStateDict(Npz.load(url), strict: strict)
        case .torch:
            try loadStateDict(TorchCheckpoint.load(url), strict: strict)
        }
    }

    private enum WeightFormat { case safetensors, npz, torch }

    private static func weightFormat(of url: URL) throws -> WeightFormat {
        switch url.pathExtension.lowercased() {
        case "safetensors": return .safetensors
        case "npz": return .npz
        case "pt", "pth", "bin": return .torch
        default:
            throw ModuleFileError(path: url.path,
                                  reason: "unsupported file extension '\(url.pathExtension)'; supported: "
                                      + supportedWeightFileExtensions.map { ".\($0)" }.joined(separator: ", "))
        }
    }
}

/// A module could not be saved to or loaded from a file for a reason other than the file's
/// content (e.g. an unsupported extension).
public struct ModuleFileError: Error, CustomStringConvertible {
    /// The file.
    public let path: String
    /// What is wrong.
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}
