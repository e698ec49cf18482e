// Reading whole files, inflating gzip when needed, with typed errors.
import Foundation

/// Whole-file reads that turn every failure into a ``DatasetError`` naming the file.
enum FileBytes {
    /// The bytes of the file at `path`.
    static func read(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DatasetError(.fileNotFound, path: path, "no such file")
        }
        if isDirectory.boolValue { throw DatasetError(.unreadable, path: path, "is a directory, not a file") }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return [UInt8](data)
        } catch {
            throw DatasetError(.unreadable, path: path, "cannot read the file: \(error.localizedDescription)")
        }
    }

    /// The file's bytes, inflated when they are gzip-compressed (detected by the gzip
    /// magic bytes, not the file name).
    static func readMaybeGzipped(_ path: String) throws -> [UInt8] {
        let bytes = try read(path)
        if Gzip.isGzip(bytes) { return try Gzip.inflate(bytes, path: path) }
        return bytes
    }
}
