// Writing a file so that readers see either the old content or the complete new one.
import Foundation

/// Writes `data` to `url` atomically: the bytes go to a temporary file in the same
/// directory, which is then renamed over the destination. A failure leaves any existing
/// file untouched.
///
/// ```swift
/// try writeAtomically(bytes, to: URL(fileURLWithPath: "model.safetensors"))
/// ```
public func writeAtomically(_ data: Data, to url: URL) throws {
    let directory = url.deletingLastPathComponent()
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw FileWriteError(path: url.path, reason: "directory \(directory.path) does not exist")
    }
    let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    do {
        try data.write(to: temporary)
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw FileWriteError(path: url.path, reason: "cannot write: \(error.localizedDescription)")
    }
    if rename(temporary.path, url.path) != 0 {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temporary)
        throw FileWriteError(path: url.path, reason: "cannot replace the file: \(reason)")
    }
}

/// A file could not be written.
public struct FileWriteError: Error, CustomStringConvertible {
    /// The destination path.
    public let path: String
    /// What went wrong.
    public let reason: String
    public var description: String { "cannot save \(path): \(reason)" }
}
