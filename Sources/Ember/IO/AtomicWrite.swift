// Writing a file so that readers see either the old content or the complete new one.
import Foundation

/// Writes `data` to `url` atomically: the bytes go to a new temporary file in the same
/// directory, are flushed to disk (`fsync`), and the file is renamed over the destination.
/// A failure at any step removes the temporary file and leaves an existing file untouched.
///
/// ```swift
/// try writeAtomically(bytes, to: URL(fileURLWithPath: "model.safetensors"))
/// ```
public func writeAtomically(_ data: Data, to url: URL) throws {
    let path = url.path
    let directory = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw FileWriteError(path: path, reason: "directory \(directory) does not exist")
    }
    let temporary = (directory as NSString).appendingPathComponent(
        ".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
        throw FileWriteError(path: path, reason: "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
    }
    var failure: String? = nil
    data.withUnsafeBytes { raw in
        var written = 0
        while written < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + written, raw.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                failure = "write failed after \(written) of \(raw.count) bytes: \(String(cString: strerror(errno)))"
                return
            }
            written += n
        }
    }
    if failure == nil && fsync(fd) != 0 { failure = "fsync failed: \(String(cString: strerror(errno)))" }
    if close(fd) != 0 && failure == nil { failure = "close failed: \(String(cString: strerror(errno)))" }
    if failure == nil && rename(temporary, path) != 0 {
        failure = "cannot rename the temporary file into place: \(String(cString: strerror(errno)))"
    }
    if let failure {
        unlink(temporary)
        throw FileWriteError(path: path, reason: failure)
    }
}

/// A file could not be written; an existing file at `path` is unchanged.
public struct FileWriteError: Error, CustomStringConvertible {
    /// The destination path.
    public let path: String
    /// What went wrong.
    public let reason: String
    public var description: String { "cannot save \(path): \(reason)" }
}
