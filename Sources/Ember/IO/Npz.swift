// Reading and writing NumPy's `.npz` archives (`np.savez`, `np.savez_compressed`).
//
// An `.npz` file is a ZIP archive holding one `.npy` file per array, named `<key>.npy`
// (`np.load` strips the `.npy`). `np.savez` stores the entries; `np.savez_compressed`
// deflates them. Reading goes through `ZipArchive` (bounds-checked, CRC-checked, capped
// inflation) and the `.npy` codec of Npy.swift, so a hostile file gives a typed error
// naming the file and the entry, never a crash.
import Foundation

/// A failure reading or writing an `.npz` file. It names the file and, where one is
/// involved, the array entry (`weights.npy`).
///
/// ```swift
/// do { _ = try Npz.load(url) } catch let error as NpzError { print(error) }
/// // "arrays.npz: entry 'w.npy': truncated data: the header's shape [4] needs 16 bytes, the file holds 8"
/// ```
public struct NpzError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// What went wrong, by category.
    public enum Kind: String, Sendable {
        /// The file does not exist.
        case fileNotFound
        /// The file exists but could not be read.
        case unreadable
        /// Not a ZIP archive, or the archive is damaged (truncated, bad CRC, zip bomb …).
        case badArchive
        /// An entry is not a valid `.npy` file (bad header, truncated data …).
        case badEntry
        /// An element type Ember cannot hold, or that NumPy cannot store (bfloat16).
        case unsupportedDType
        /// Two arrays with the same name (when saving a list of named tensors).
        case duplicateName
        /// Writing failed; any previous file at the path is left untouched.
        case writeFailed
    }

    /// The category of the failure.
    public let kind: Kind
    /// The `.npz` file (or `<memory>`).
    public let path: String
    /// The archive entry involved, if any (`<key>.npy`).
    public let entry: String?
    /// What is wrong, in words.
    public let detail: String

    /// Creates the error for `path` (and `entry`, when the problem is inside one).
    public init(_ kind: Kind, path: String, entry: String? = nil, _ detail: String) {
        self.kind = kind; self.path = path; self.entry = entry; self.detail = detail
    }
    /// `"<path>: entry '<entry>': <detail>"`.
    public var description: String {
        entry.map { "\(path): entry '\($0)': \(detail)" } ?? "\(path): \(detail)"
    }
    /// The message, for `LocalizedError`.
    public var errorDescription: String? { description }
}

/// Reads and writes NumPy `.npz` archives.
///
/// ```swift
/// let arrays = try Npz.load(URL(fileURLWithPath: "data.npz"))      // python: np.savez("data.npz", x=x, y=y)
/// arrays["x"]!.shape
/// try Npz.save(["w": w, "b": b], to: URL(fileURLWithPath: "out.npz"), compressed: true)
/// // python: d = np.load("out.npz"); d["w"]
/// ```
public enum Npz {
    /// Loads every array of an `.npz` file as CPU tensors keyed by name (the entry name
    /// without `.npy`, as `np.load` gives). Use ``loadOrdered(_:)`` to keep the archive's order.
    ///
    /// Stored and deflated entries are read; each entry is decoded as an `.npy` file (all the
    /// dtypes, byte orders, Fortran order and versions that `Tensor.load(npy:)` reads).
    /// - Throws: ``NpzError`` naming the file and the entry.
    public static func load(_ url: URL) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, tensor) in try loadOrdered(url) { result[name] = tensor }
        return result
    }

    /// Loads every array of an `.npz` file in archive order (the order they were passed to
    /// `np.savez`).
    ///
    /// ```swift
    /// for (name, tensor) in try Npz.loadOrdered(url) { print(name, tensor.shape) }
    /// ```
    public static func loadOrdered(_ url: URL) throws -> [(name: String, tensor: Tensor)] {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw NpzError(.fileNotFound, path: path, "no such file")
        }
        if isDirectory.boolValue { throw NpzError(.unreadable, path: path, "is a directory, not an .npz file") }
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw NpzError(.unreadable, path: path, "cannot read the file: \(error.localizedDescription)")
        }
        return try decode(data, path: path)
    }

    /// Decodes `.npz` bytes held in memory, in archive order; `path` names them in errors.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> [(name: String, tensor: Tensor)] {
        if data.prefix(6).elementsEqual(NpyFormat.magic) {
            throw NpzError(.badArchive, path: path, "this is an .npy file, not an .npz archive (load it with Tensor.load(npy:))")
        }
        let zip: ZipArchive
        do { zip = try ZipArchive(data: data, path: path) } catch let error as ZipArchiveError {
            let detail = error.kind == .notAZip ? "not an .npz file: \(error.reason)" : error.reason
            throw NpzError(.badArchive, path: path, entry: error.entry, detail)
        }
        var result: [(name: String, tensor: Tensor)] = []
        result.reserveCapacity(zip.entries.count)
        var seen = Set<String>()
        for entry in zip.entries {
            if entry.name.hasSuffix("/") { continue }   // a directory record
            let name = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
            guard seen.insert(name).inserted else {
                throw NpzError(.badArchive, path: path, entry: entry.name, "two entries give the array name '\(name)'")
            }
            let bytes: Data
            do { bytes = try zip.data(for: entry) } catch let error as ZipArchiveError {
                throw NpzError(.badArchive, path: path, entry: entry.name, error.reason)
            }
            guard bytes.prefix(6).elementsEqual(NpyFormat.magic) else {
                throw NpzError(.badEntry, path: path, entry: entry.name,
                               "not an .npy array (np.load would return its raw bytes); Ember reads only arrays")
            }
            let tensor: Tensor
            do {
                tensor = try bytes.withUnsafeBytes { raw in try NpyFormat.decode(raw, source: entry.name) }
            } catch let error as TensorIOError {
                let kind: NpzError.Kind = error.kind == .unsupportedDType ? .unsupportedDType : .badEntry
                throw NpzError(kind, path: path, entry: entry.name, error.detail)
            }
            result.append((name, tensor))
        }
        return result
    }

    /// Writes `tensors` to an `.npz` file that `np.load` reads, in sorted key order, atomically
    /// (a failure leaves any previous file untouched).
    ///
    /// - Parameter compressed: deflate the entries, as `np.savez_compressed` does (default:
    ///   stored, as `np.savez`).
    /// - Throws: ``NpzError`` (`.unsupportedDType` naming the entry for `bfloat16`, which NumPy
    ///   has no type for; `.writeFailed`).
    public static func save(_ tensors: [String: Tensor], to url: URL, compressed: Bool = false) throws {
        try save(ordered: tensors.keys.sorted().map { ($0, tensors[$0]!) }, to: url, compressed: compressed)
    }

    /// Writes named tensors to an `.npz` file in the given order (see ``save(_:to:compressed:)``).
    public static func save(ordered tensors: [(name: String, tensor: Tensor)], to url: URL, compressed: Bool = false) throws {
        let data = try encode(ordered: tensors, compressed: compressed, path: url.path)
        do { try writeAtomically(data, to: url) } catch let error as FileWriteError {
            throw NpzError(.writeFailed, path: url.path, error.reason)
        }
    }

    /// The bytes of an `.npz` archive holding `tensors` in order; `path` names it in errors.
    public static func encode(ordered tensors: [(name: String, tensor: Tensor)], compressed: Bool = false,
                              path: String = "<memory>") throws -> Data {
        var writer = ZipWriter()
        var seen = Set<String>()
        for (name, tensor) in tensors {
            let entry = name + ".npy"
            guard seen.insert(name).inserted else {
                throw NpzError(.duplicateName, path: path, entry: entry, "two arrays are named '\(name)'")
            }
            guard !name.isEmpty, name.utf8.count < 0xFFF0 else {
                throw NpzError(.badEntry, path: path, entry: entry, "array names must be non-empty and shorter than 65520 bytes")
            }
            let bytes: Data
            do { bytes = try NpyFormat.encode(tensor, destination: entry) } catch let error as TensorIOError {
                let kind: NpzError.Kind = error.kind == .unsupportedDType ? .unsupportedDType : .badEntry
                throw NpzError(kind, path: path, entry: entry, error.detail)
            }
            writer.add(entry, bytes, compress: compressed)
        }
        return writer.finish()
    }
}
