// Reading and writing safetensors files (Hugging Face's format): an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte range, then the
// raw little-endian data.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads and saves tensors in the safetensors format.
///
/// ```swift
/// try Safetensors.save(model.stateDict(), to: URL(fileURLWithPath: "model.safetensors"))
/// let weights = try Safetensors.load(URL(fileURLWithPath: "model.safetensors"))
/// ```
public enum Safetensors {
    /// Largest header accepted (the reference implementation's limit is 100 MB).
    static let maximumHeaderBytes = 100_000_000

    /// The tensors of a file by name (CPU, contiguous).
    ///
    /// Reads every tensor eagerly; use ``SafetensorsFile`` to look at the header or load
    /// only some tensors.
    ///
    /// - Throws: `SafetensorsError` naming the file and the problem for a missing,
    ///   truncated or malformed file.
    public static func load(_ url: URL) throws -> [String: Tensor] {
        try SafetensorsFile(url).tensors()
    }

    /// The tensors of a file and its free-form `__metadata__` strings.
    public static func loadWithMetadata(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let file = try SafetensorsFile(url)
        return (try file.tensors(), file.metadata)
    }

    /// Decodes the bytes of a safetensors file; `path` only labels errors.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        try data.withUnsafeBytes { raw in
            let layout = try parseHeader(raw, path: path)
            var tensors: [String: Tensor] = [:]
            for info in layout.entries {
                tensors[info.name] = copyTensor(info, from: raw.baseAddress)
            }
            return (tensors, layout.metadata)
        }
    }

    /// The validated header of a safetensors file.
    struct Layout {
        var entries: [SafetensorsFile.TensorInfo]
        var metadata: [String: String]
    }

    /// Parses and fully validates the header of the file whose bytes are `bytes` (only the
    /// first `8 + header length` bytes are read; `bytes.count` is the file size).
    static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Layout {
        func fail(_ reason: String) -> SafetensorsError { SafetensorsError(path: path, reason: reason) }
        guard bytes.count >= 8 else { throw fail("file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard headerLength <= UInt64(maximumHeaderBytes) else { throw fail("header length \(headerLength) exceeds the \(maximumHeaderBytes)-byte limit") }
        guard 8 + Int(headerLength) <= bytes.count else {
            throw fail("truncated: header needs \(headerLength) bytes but only \(bytes.count - 8) follow")
        }
        let headerBytes = Data(bytes: bytes.baseAddress! + 8, count: Int(headerLength))
        guard let object = try? JSONSerialization.jsonObject(with: headerBytes), let header = object as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let bufferStart = 8 + Int(headerLength)
        let bufferLength = bytes.count - bufferStart
        var metadata: [String: String] = [:]
        var entries: [SafetensorsFile.TensorInfo] = []
        for (name, entry) in header {
            if name == "__metadata__" {
                guard let values = entry as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (key, value) in values {
                    guard let text = value as? String else { throw fail("__metadata__ value for '\(key)' is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let info = entry as? [String: Any] else { throw fail("entry '\(name)' is not an object") }
            guard let code = info["dtype"] as? String, let dtype = dtypeByCode[code] else {
                throw fail("tensor '\(name)' has unsupported dtype \(info["dtype"].map { "\($0)" } ?? "(missing)")")
            }
            guard let shapeValues = info["shape"] as? [Any], let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor '\(name)' has an invalid shape")
            }
            guard let offsetValues = info["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2,
                  offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw fail("tensor '\(name)' has invalid data_offsets")
            }
            guard offsets[1] <= bufferLength else {
                throw fail("truncated: tensor '\(name)' ends at byte \(offsets[1]) of a \(bufferLength)-byte data section")
            }
            var elements = 1
            for size in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: size)
                guard !overflow else { throw fail("tensor '\(name)' shape \(shape) is too large") }
                elements = product
            }
            guard elements * dtype.itemSize == offsets[1] - offsets[0] else {
                throw fail("tensor '\(name)' of shape \(shape) and dtype \(code) needs \(elements * dtype.itemSize) bytes, data_offsets span \(offsets[1] - offsets[0])")
            }
            entries.append(SafetensorsFile.TensorInfo(name: name, dtype: dtype, shape: shape,
                                                      dataOffsets: offsets[0]..<offsets[1],
                                                      fileOffsets: (bufferStart + offsets[0])..<(bufferStart + offsets[1])))
        }
        // The byte ranges must tile the data section exactly: no overlaps, no holes.
        entries.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name) }
        var expected = 0
        for entry in entries {
            let (start, end, name) = (entry.dataOffsets.lowerBound, entry.dataOffsets.upperBound, entry.name)
            guard start == expected else {
                throw fail(start < expected ? "tensor '\(name)' overlaps the previous tensor's bytes" : "hole in the data section before tensor '\(name)'")
            }
            expected = end
        }
        guard expected == bufferLength else { throw fail("data section has \(bufferLength - expected) trailing bytes not used by any tensor") }
        return Layout(entries: entries, metadata: metadata)
    }

    /// A new contiguous CPU tensor holding a copy of the bytes `info` describes in the file
    /// starting at `base`.
    static func copyTensor(_ info: SafetensorsFile.TensorInfo, from base: UnsafeRawPointer?) -> Tensor {
        let tensor = Tensor.empty(info.shape, dtype: info.dtype)
        if info.byteCount > 0, let base {
            tensor.rawPointer.copyMemory(from: base + info.fileOffsets.lowerBound, byteCount: info.byteCount)
        }
        return tensor
    }

    /// Writes tensors to `url` atomically (an existing file is replaced only when the whole
    /// new file is written). Tensors are saved in name order, contiguous, little-endian.
    ///
    /// - Parameters:
    ///   - tensors: tensors by name (any device; copied to the CPU).
    ///   - metadata: optional free-form strings stored under `__metadata__`.
    public static func save(_ tensors: [String: Tensor], to url: URL, metadata: [String: String]? = nil) throws {
        try writeAtomically(encode(tensors, metadata: metadata), to: url)
    }

    /// The bytes of a safetensors file holding `tensors`.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String]? = nil) -> Data {
        let names = tensors.keys.sorted()
        var header: [String: Any] = [:]
        var offset = 0
        var payloads: [Tensor] = []
        for name in names {
            let tensor = noGrad { tensors[name]!.to(.cpu).contiguous() }
            let bytes = tensor.count * tensor.dtype.itemSize
            header[name] = ["dtype": code(for: tensor.dtype), "shape": tensor.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
            payloads.append(tensor)
        }
        if let metadata { header["__metadata__"] = metadata }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        // Pad the header with spaces to a multiple of 8 bytes, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for tensor in payloads where tensor.count > 0 {
            out.append(Data(bytes: tensor.rawPointer, count: tensor.count * tensor.dtype.itemSize))
        }
        return out
    }

    private static let dtypeByCode: [String: DType] = [
        "F32": .float32, "F64": .float64, "F16": .float16, "BF16": .bfloat16,
        "I64": .int64, "I32": .int32, "U8": .uint8, "BOOL": .bool,
    ]

    private static func code(for dtype: DType) -> String {
        dtypeByCode.first { $0.value == dtype }!.key
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            guard let number = value as? NSNumber, number.doubleValue.rounded() == number.doubleValue,
                  Swift.abs(number.doubleValue) < 9e15 else { return nil }
            result.append(number.intValue)
        }
        return result
    }
}

/// A safetensors file opened for lazy reading: the header is read and fully validated when
/// the file is opened, the data is memory-mapped (read-only), and each tensor is read only
/// when asked for.
///
/// By default `tensor(_:)` copies the tensor's bytes out of the mapping into a fresh CPU
/// tensor, which is independent of the file in every way. Loading is still lazy per tensor:
/// untouched tensors cost nothing, and pages of the file are read only when a tensor over
/// them is copied.
///
/// `tensor(_:copy: false)` instead returns a tensor that views the mapping without copying
/// (as `safetensors.torch.load_file` does): pages are read from the page cache on first
/// access. The mapping is private copy-on-write, so writing to such a tensor changes only
/// this process's copy of the touched pages, never the file. The caveat is the file itself:
/// it must not be truncated or rewritten in place while the tensor lives (replacing it by
/// rename, as Ember's writers do, is fine); a truncated file makes access crash with
/// `SIGBUS`. A tensor whose bytes are not aligned to its element size is always copied.
/// The mapping is unmapped when the `SafetensorsFile` and every tensor viewing it are gone.
///
/// ```swift
/// let file = try SafetensorsFile(URL(fileURLWithPath: "model.safetensors"))
/// for name in file.names { print(name, file.info(name)!.shape) }
/// let embedding = try file.tensor("wte.weight")   // reads only this tensor
/// ```
public final class SafetensorsFile: @unchecked Sendable {
    /// Where one tensor lives in the file and what it holds.
    public struct TensorInfo: Equatable {
        /// The tensor's name in the header.
        public let name: String
        /// Element type.
        public let dtype: DType
        /// Shape (row-major, contiguous).
        public let shape: [Int]
        /// Byte range within the data section, as written in the header's `data_offsets`.
        public let dataOffsets: Range<Int>
        /// Byte range within the whole file (the data section starts after the 8-byte
        /// length and the JSON header).
        public let fileOffsets: Range<Int>
        /// Size of the tensor's data in bytes.
        public var byteCount: Int { dataOffsets.count }
    }

    /// The file (labels errors).
    public let url: URL
    /// The tensors' names in file order (by data offset).
    public let names: [String]
    /// The free-form `__metadata__` strings (empty when the file has none).
    public let metadata: [String: String]
    /// Size of the file in bytes.
    public let fileSize: Int
    private let infos: [String: TensorInfo]
    private let mapping: Mapping?

    /// A private (copy-on-write) mapping of the whole file; unmapped when the last
    /// `SafetensorsFile` or storage that references it dies.
    private final class Mapping {
        let pointer: UnsafeMutableRawPointer
        let length: Int
        init(pointer: UnsafeMutableRawPointer, length: Int) {
            self.pointer = pointer
            self.length = length
        }
        deinit { munmap(pointer, length) }
    }

    /// Opens `url`, maps it read-only and validates its header (dtypes, shapes, byte ranges
    /// that tile the data section exactly).
    ///
    /// - Throws: `SafetensorsError` naming the file and the problem for a missing,
    ///   unreadable, truncated or malformed file.
    public init(_ url: URL) throws {
        let path = url.path
        self.url = url
        func fail(_ reason: String) -> SafetensorsError { SafetensorsError(path: path, reason: reason) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail("cannot read the file (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail("cannot read the file (\(String(cString: strerror(errno))))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw fail("cannot read the file (not a regular file)") }
        let size = Int(info.st_size)
        fileSize = size
        var mapped: Mapping? = nil
        if size > 0 {
            // Writable but private: writes through a zero-copy tensor never reach the file.
            guard let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
                throw fail("cannot map the file (\(String(cString: strerror(errno))))")
            }
            mapped = Mapping(pointer: address, length: size)
        }
        let layout = try Safetensors.parseHeader(UnsafeRawBufferPointer(start: mapped?.pointer, count: size), path: path)
        mapping = mapped
        names = layout.entries.map(\.name)
        metadata = layout.metadata
        infos = Dictionary(uniqueKeysWithValues: layout.entries.map { ($0.name, $0) })
    }

    /// Where tensor `name` lives and what it holds, or nil when the file has no such tensor.
    public func info(_ name: String) -> TensorInfo? { infos[name] }

    /// Reads tensor `name` as a contiguous CPU tensor.
    ///
    /// - Parameter copy: true (the default): a new tensor holding a copy of the bytes.
    ///   false: a tensor viewing the file's private mapping without copying (see the type's
    ///   documentation for the caveat about the file changing underneath).
    /// - Throws: `SafetensorsError` when the file has no tensor of that name.
    public func tensor(_ name: String, copy: Bool = true) throws -> Tensor {
        guard let info = infos[name] else {
            throw SafetensorsError(path: url.path, reason: "no tensor named '\(name)' (the file has \(names.count) tensors)")
        }
        guard let mapping, info.byteCount > 0, !copy,
              Int(bitPattern: mapping.pointer + info.fileOffsets.lowerBound) % info.dtype.itemSize == 0 else {
            return Safetensors.copyTensor(info, from: mapping.map { UnsafeRawPointer($0.pointer) })
        }
        let storage = Storage(pointer: mapping.pointer + info.fileOffsets.lowerBound, byteCount: info.byteCount,
                              device: .cpu, release: { _ in withExtendedLifetime(mapping) {} })
        return Tensor(storage: storage, shape: info.shape, dtype: info.dtype)
    }

    /// Reads every tensor (see `tensor(_:copy:)`).
    public func tensors(copy: Bool = true) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        result.reserveCapacity(names.count)
        for name in names { result[name] = try tensor(name, copy: copy) }
        return result
    }
}

/// A safetensors file could not be read.
public struct SafetensorsError: Error, CustomStringConvertible {
    /// The file.
    public let path: String
    /// What is wrong with it.
    public let reason: String
    public var description: String { "\(path): invalid safetensors file: \(reason)" }
}
