// Reading a whole file through a private memory mapping instead of a copy.
import Foundation

/// The contents of the regular file at `path`, memory-mapped private and writable (writes
/// would stay in this process, never reach the file) and unmapped when the returned `Data`
/// is released; nil when the file cannot be mapped (callers then read it normally).
///
/// ```swift
/// let bytes = mappedFileContents("model.pt") ?? (try Data(contentsOf: url))
/// ```
func mappedFileContents(_ path: String) -> Data? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
    let size = Int(info.st_size)
    if size == 0 { return Data() }
    guard let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), address != MAP_FAILED else { return nil }
    return Data(bytesNoCopy: address, count: size, deallocator: .custom { pointer, count in munmap(pointer, count) })
}
