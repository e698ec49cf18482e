// Reading and writing PyTorch checkpoints (`torch.save`'s zip format, PyTorch ≥ 1.6; the
// legacy pre-1.6 format, which many published weights still use, is read too).
//
// A `torch.save` file is a ZIP archive with one top-level folder (named after the file by
// torch, `archive` by Ember): `data.pkl` (the object, pickled with protocol 2), `data/<key>`
// (one entry per storage, raw little-endian elements), `byteorder` and `version`.
// Tensors appear in the pickle as `torch._utils._rebuild_tensor_v2(storage, offset, size,
// stride, requires_grad, hooks)`, where `storage` is a persistent id
// `('storage', torch.FloatStorage, '<key>', 'cpu', numel)`.
//
// The unpickler here is RESTRICTED: it interprets only the opcodes torch emits for state
// dicts and accepts only the globals needed to rebuild tensors and ordered dicts
// (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
// `torch._utils._rebuild_parameter`, `torch.<Type>Storage`). Any other global (such as
// `os.system`) or opcode is refused with an error naming it; nothing is ever executed.
import Foundation

/// A PyTorch checkpoint could not be read or written. It names the file (and the archive
/// entry, where one is involved) and says what is wrong.
///
/// ```swift
/// do { _ = try TorchCheckpoint.load(url) } catch let error as TorchCheckpointError { print(error) }
/// // "evil.pt: entry 'evil/data.pkl': refuses global 'posix.system' at byte 2: …"
/// ```
public struct TorchCheckpointError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// What went wrong, by category.
    public enum Kind: String, Sendable {
        case fileNotFound, unreadable
        /// The ZIP container is damaged (truncated, bad CRC, zip bomb …); see the detail.
        case badArchive
        /// A pre-1.6 (non-zip) `torch.save` file in a variant Ember does not read (only the
        /// protocol-2 pickle stream with version 1001, torch 0.4–1.5, is read).
        case legacyFormat
        /// Not a `torch.save` file at all.
        case notACheckpoint
        /// The pickle names a global outside the allow-list (it is never imported or run).
        case forbiddenGlobal
        /// The pickle uses an opcode the restricted unpickler does not interpret.
        case unknownOpcode
        /// The pickle is malformed (stack underflow, wrong argument types, truncated …).
        case badPickle
        /// A storage type Ember has no dtype for (complex, quantized, float8 …).
        case unsupportedDType
        /// A tensor's offset, sizes or strides reach outside its storage, or a storage is short.
        case badTensor
        /// Writing failed; an existing file is left untouched.
        case writeFailed
    }
    /// What went wrong.
    public let kind: Kind
    /// The checkpoint file.
    public let path: String
    /// The archive entry involved, if any.
    public let entry: String?
    /// What is wrong, in words.
    public let detail: String

    /// Creates the error for `path` (and `entry`, when the problem is inside one).
    public init(_ kind: Kind, path: String, entry: String? = nil, _ detail: String) {
        self.kind = kind; self.path = path; self.entry = entry; self.detail = detail
    }
    public var description: String {
        entry.map { "\(path): entry '\($0)': \(detail)" } ?? "\(path): \(detail)"
    }
    /// The message, for `LocalizedError`.
    public var errorDescription: String? { description }
}

/// A value read from a checkpoint's pickle: tensors and the plain Python values around
/// them (nested dicts, lists, tuples, numbers, strings).
///
/// ```swift
/// let value = try TorchCheckpoint.loadValue(url)
/// if case .dict(let items) = value { print(items.map(\.key)) }
/// let tensors = try value.flattenedTensors()   // ["model.weight": …, "epoch" is skipped]
/// ```
public indirect enum TorchValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes(Data)
    case tensor(Tensor)
    case list([TorchValue])
    case tuple([TorchValue])
    /// A dict (or `OrderedDict`) in insertion order; keys are strings (ints are written in decimal).
    case dict([(key: String, value: TorchValue)])

    /// Every tensor in the tree under a dotted name: dict keys and list/tuple indices joined
    /// with `.` (`{"model": {"layers": [w0, w1]}}` gives `model.layers.0`, `model.layers.1`);
    /// a bare tensor is named `prefix` (empty by default). Non-tensor leaves are skipped.
    /// Throws when two tensors would get the same name.
    public func flattenedTensors(prefix: String = "") throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        try flatten(into: &out, prefix: prefix)
        return out
    }

    private func flatten(into out: inout [String: Tensor], prefix: String) throws {
        func join(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }
        switch self {
        case .tensor(let t):
            if out[prefix] != nil {
                throw TorchCheckpointError(.badPickle, path: "<value>", "two tensors flatten to the name '\(prefix)'")
            }
            out[prefix] = t
        case .dict(let items):
            for (key, value) in items { try value.flatten(into: &out, prefix: join(key)) }
        case .list(let items), .tuple(let items):
            for (i, value) in items.enumerated() { try value.flatten(into: &out, prefix: join(String(i))) }
        default: break
        }
    }
}

/// Reads and writes PyTorch checkpoints (`torch.save` / `torch.load`).
///
/// ```swift
/// let state = try TorchCheckpoint.load(URL(fileURLWithPath: "resnet18.pth"))
/// state["fc.weight"]!.shape          // [1000, 512]
/// try TorchCheckpoint.save(model.stateDict(), to: URL(fileURLWithPath: "out.pt"))
/// // python: torch.load("out.pt", weights_only=True)
/// ```
public enum TorchCheckpoint {
    /// Loads a `torch.save` file and returns its tensors under dotted names (see
    /// ``TorchValue/flattenedTensors(prefix:)``): a state dict keeps its keys; a nested
    /// checkpoint such as `{"model": sd, "epoch": 3}` gives `model.<key>` and drops `epoch`.
    ///
    /// Tensors come back on the CPU with torch's dtype (int16 and int8 are widened to int32),
    /// offsets, sizes and strides: tensors that shared a storage in torch share one here.
    ///
    /// - Parameter verifyChecksums: also check the CRC-32 of every tensor storage. Off by
    ///   default, as in torch's own reader (the pickle is always checked, and sizes and
    ///   offsets are checked either way); turn it on to detect corrupted tensor bytes.
    public static func load(_ url: URL, verifyChecksums: Bool = false) throws -> [String: Tensor] {
        let value = try loadValue(url, verifyChecksums: verifyChecksums)
        do { return try value.flattenedTensors() } catch let error as TorchCheckpointError {
            throw TorchCheckpointError(error.kind, path: url.path, error.detail)
        }
    }

    /// Loads a `torch.save` file as a value tree (dicts, lists, tuples, numbers, strings,
    /// tensors); `verifyChecksums` as in ``load(_:verifyChecksums:)``.
    public static func loadValue(_ url: URL, verifyChecksums: Bool = false) throws -> TorchValue {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TorchCheckpointError(.fileNotFound, path: path, "no such file")
        }
        if isDirectory.boolValue { throw TorchCheckpointError(.unreadable, path: path, "is a directory, not a checkpoint") }
        let data: Data
        if let mapped = mappedFileContents(path) {
            data = mapped
        } else {
            do { data = try Data(contentsOf: url) } catch {
                throw TorchCheckpointError(.unreadable, path: path, "cannot read the file: \(error.localizedDescription)")
            }
        }
        return try decode(data, path: path, verifyChecksums: verifyChecksums)
    }

    /// Decodes checkpoint bytes held in memory; `path` names them in errors and
    /// `verifyChecksums` is as in ``load(_:verifyChecksums:)``.
    public static func decode(_ data: Data, path: String = "<memory>", verifyChecksums: Bool = false) throws -> TorchValue {
        let bytes = data.startIndex == 0 ? data : Data(data)
        let zipMagic = Data([0x50, 0x4b, 0x03, 0x04])
        if bytes.prefix(4) != zipMagic {
            if bytes.starts(with: legacyMagic) { return try decodeLegacy(bytes, path: path) }
            if bytes.count >= 2 && bytes[0] == 0x80 && bytes[1] <= 5 {
                throw TorchCheckpointError(.legacyFormat, path: path,
                    "legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it in PyTorch with torch.save(torch.load(path), path)")
            }
            throw TorchCheckpointError(.notACheckpoint, path: path, "not a PyTorch checkpoint (no ZIP signature at the start)")
        }
        let zip: ZipArchive
        do { zip = try ZipArchive(data: bytes, path: path) } catch let error as ZipArchiveError {
            throw TorchCheckpointError(.badArchive, path: path, entry: error.entry, error.reason)
        }
        guard let pickleEntry = zip.entries.first(where: { entry in
            let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl" && !parts[0].isEmpty
        }) else {
            throw TorchCheckpointError(.notACheckpoint, path: path, "the ZIP archive has no '<name>/data.pkl': not a torch.save file")
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        /// An entry's bytes. Tensor storages skip the CRC-32 pass unless `verifyChecksums`, as
        /// torch's own reader does (their sizes and offsets are still checked).
        func entryData(_ name: String, verifyChecksum: Bool = true, copy: Bool = true) throws -> Data {
            do { return try zip.data(for: name, verifyChecksum: verifyChecksum, copy: copy) } catch let error as ZipArchiveError {
                throw TorchCheckpointError(error.kind == .missingEntry ? .badTensor : .badArchive,
                                           path: path, entry: error.entry, error.reason)
            }
        }
        var bigEndian = false
        if zip.entry(named: prefix + "byteorder") != nil {
            let order = String(decoding: try entryData(prefix + "byteorder"), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            switch order {
            case "little": bigEndian = false
            case "big": bigEndian = true
            default: throw TorchCheckpointError(.notACheckpoint, path: path, entry: prefix + "byteorder", "unknown byte order '\(order)'")
            }
        }
        let pickle = try entryData(pickleEntry.name)
        var unpickler = Unpickler(data: pickle, path: path, entry: pickleEntry.name) { key, dtypeName, numel in
            guard let source = storageTypes[dtypeName] else {
                throw TorchCheckpointError(.unsupportedDType, path: path, entry: pickleEntry.name,
                                           "storage type torch.\(dtypeName) has no Ember dtype (supported: \(storageTypes.keys.sorted().map { "torch.\($0)" }.joined(separator: ", ")))")
            }
            let name = prefix + "data/" + key
            // Read in place (no intermediate copy): `makeStorage` copies it out once.
            let raw = try entryData(name, verifyChecksum: verifyChecksums, copy: false)
            let (needed, overflow) = numel.multipliedReportingOverflow(by: source.itemSize)
            guard numel >= 0, !overflow, needed <= raw.count else {
                throw TorchCheckpointError(.badTensor, path: path, entry: name,
                                           "storage of \(numel) torch.\(dtypeName) elements needs \(numel &* source.itemSize) bytes, the entry holds \(raw.count)")
            }
            return (makeStorage(raw, count: numel, source: source, bigEndian: bigEndian), source.dtype)
        }
        return try unpickler.run()
    }

    /// The first pickle of a legacy `torch.save` file: protocol 2, the magic number
    /// 0x1950a86a20f9469cfc6c as a 10-byte LONG1, STOP.
    static let legacyMagic = Data([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e])

    /// Decodes the legacy (PyTorch < 1.6) `torch.save` stream: five pickles in a row (the magic
    /// number, the protocol version 1001, a `sys_info` dict, the object, the sorted list of
    /// storage keys) followed by each storage in that order as an int64 element count and raw
    /// elements. Storages are allocated while the object is unpickled and filled afterwards.
    static func decodeLegacy(_ bytes: Data, path: String) throws -> TorchValue {
        let noStorage: Unpickler.StorageLoader = { key, _, _ in
            throw TorchCheckpointError(.badPickle, path: path, "a storage ('\(key)') appears outside the object pickle")
        }
        var position = legacyMagic.count
        /// Unpickles the next pickle, advancing `position`.
        func next(entry: String, _ loader: @escaping Unpickler.StorageLoader) throws -> TorchValue {
            var unpickler = Unpickler(data: bytes, path: path, entry: entry, loadStorage: loader)
            unpickler.position = position   // byte offsets in errors are the file's
            let value = try unpickler.run()
            position = unpickler.position
            return value
        }
        guard case .int(1001) = try next(entry: "protocol version", noStorage) else {
            throw TorchCheckpointError(.legacyFormat, path: path, "legacy torch.save file with an unknown protocol version (expected 1001)")
        }
        guard case .dict(let info) = try next(entry: "sys_info", noStorage) else {
            throw TorchCheckpointError(.legacyFormat, path: path, "legacy torch.save file without its sys_info dict")
        }
        var bigEndian = false
        if let order = info.first(where: { $0.key == "little_endian" })?.value, case .bool(let little) = order { bigEndian = !little }
        var pending: [String: (storage: Storage, source: StorageType, count: Int)] = [:]
        var declaredBytes = 0   // every storage's bytes must be in the file: bounds what is allocated
        let object = try next(entry: "object") { key, typeName, numel in
            guard let source = storageTypes[typeName] else {
                throw TorchCheckpointError(.unsupportedDType, path: path,
                                           "storage type torch.\(typeName) has no Ember dtype (supported: \(storageTypes.keys.sorted().map { "torch.\($0)" }.joined(separator: ", ")))")
            }
            let (needed, overflow) = numel.multipliedReportingOverflow(by: source.itemSize)
            declaredBytes = overflow ? Int.max : declaredBytes.addingReportingOverflow(needed).partialValue
            guard numel >= 0, !overflow, declaredBytes <= bytes.count else {
                throw TorchCheckpointError(.badTensor, path: path, "storage '\(key)' of \(numel) elements does not fit in the file")
            }
            let storage = Storage.cpu(byteCount: numel * source.dtype.itemSize)
            pending[key] = (storage, source, numel)
            return (storage, source.dtype)
        }
        guard case .list(let keyValues) = try next(entry: "storage keys", noStorage) else {
            throw TorchCheckpointError(.badPickle, path: path, "legacy torch.save file without its list of storage keys")
        }
        for keyValue in keyValues {
            guard case .string(let key) = keyValue else { throw TorchCheckpointError(.badPickle, path: path, "a storage key is not a string") }
            guard 8 <= bytes.count - position else {
                throw TorchCheckpointError(.badTensor, path: path, "truncated file: storage '\(key)' is missing")
            }
            let raw = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: Int64.self) }
            let count = Int(bigEndian ? Int64(bigEndian: raw) : Int64(littleEndian: raw))
            position += 8
            guard let target = pending.removeValue(forKey: key) else {
                throw TorchCheckpointError(.badTensor, path: path, "storage '\(key)' is listed but no tensor refers to it")
            }
            let length = target.count * target.source.itemSize
            guard count == target.count, length <= bytes.count - position else {
                throw TorchCheckpointError(.badTensor, path: path,
                                           "storage '\(key)' holds \(count) elements in the file (\(bytes.count - position) bytes left), the pickle says \(target.count)")
            }
            fillStorage(target.storage, from: bytes.subdata(in: position..<(position + length)), count: count,
                        source: target.source, bigEndian: bigEndian)
            position += length
        }
        if let missing = pending.keys.sorted().first {
            throw TorchCheckpointError(.badTensor, path: path, "storage '\(missing)' is used by a tensor but not stored in the file")
        }
        return object
    }

    /// Writes `tensors` to `url` as a `torch.save` zip archive holding an `OrderedDict` of
    /// tensors (keys sorted), which `torch.load(url, weights_only=True)` reads. Each tensor gets
    /// its own contiguous storage; the write is atomic (see ``writeAtomically(_:to:)``).
    public static func save(_ tensors: [String: Tensor], to url: URL) throws {
        let data = encode(tensors)
        do { try writeAtomically(data, to: url) } catch let error as FileWriteError {
            throw TorchCheckpointError(.writeFailed, path: url.path, error.reason)
        }
    }

    /// The bytes of a `torch.save` archive holding `tensors` (see ``save(_:to:)``).
    public static func encode(_ tensors: [String: Tensor], archiveName: String = "archive") -> Data {
        var pickle = PickleWriter()
        pickle.bytes.append(contentsOf: [0x80, 0x02])
        pickle.global("collections", "OrderedDict")
        pickle.bytes.append(contentsOf: [0x29, 0x52])        // EMPTY_TUPLE REDUCE
        let names = tensors.keys.sorted()
        var payloads: [Data] = []
        if !names.isEmpty { pickle.bytes.append(0x28) }    // MARK
        for (index, name) in names.enumerated() {
            let tensor = noGrad { tensors[name]!.to(.cpu).contiguous() }
            pickle.string(name)
            pickle.global("torch._utils", "_rebuild_tensor_v2")
            pickle.bytes.append(0x28)                           // MARK (args)
            pickle.bytes.append(0x28)                           // MARK (persistent id)
            pickle.string("storage")
            pickle.global("torch", storageName(tensor.dtype))
            pickle.string(String(index))
            pickle.string("cpu")
            pickle.int(tensor.count)
            pickle.bytes.append(contentsOf: [0x74, 0x51])       // TUPLE BINPERSID
            pickle.int(0)
            pickle.intTuple(tensor.shape)
            pickle.intTuple(contiguousStrides(tensor.shape))
            pickle.bytes.append(0x89)                           // NEWFALSE
            pickle.global("collections", "OrderedDict")
            pickle.bytes.append(contentsOf: [0x29, 0x52])       // EMPTY_TUPLE REDUCE
            pickle.bytes.append(contentsOf: [0x74, 0x52])       // TUPLE REDUCE
            payloads.append(tensor.count == 0 ? Data() : Data(bytes: tensor.rawPointer, count: tensor.count * tensor.dtype.itemSize))
        }
        if !names.isEmpty { pickle.bytes.append(0x75) }    // SETITEMS
        pickle.bytes.append(0x2e)                           // STOP
        var zip = ZipWriter(alignment: 64)
        let root = archiveName + "/"
        zip.add(root + "data.pkl", Data(pickle.bytes))
        zip.add(root + "byteorder", Data("little".utf8))
        for (index, payload) in payloads.enumerated() { zip.add(root + "data/\(index)", payload) }
        zip.add(root + "version", Data("3\n".utf8))
        return zip.finish()
    }

    // MARK: - Storage types

    struct StorageType {
        let dtype: DType
        /// Bytes per element in the file (int16/int8 are widened to int32 on load).
        let itemSize: Int
        let isSigned: Bool
    }

    static let storageTypes: [String: StorageType] = [
        "FloatStorage": StorageType(dtype: .float32, itemSize: 4, isSigned: true),
        "DoubleStorage": StorageType(dtype: .float64, itemSize: 8, isSigned: true),
        "HalfStorage": StorageType(dtype: .float16, itemSize: 2, isSigned: true),
        "BFloat16Storage": StorageType(dtype: .bfloat16, itemSize: 2, isSigned: true),
        "LongStorage": StorageType(dtype: .int64, itemSize: 8, isSigned: true),
        "IntStorage": StorageType(dtype: .int32, itemSize: 4, isSigned: true),
        "ShortStorage": StorageType(dtype: .int32, itemSize: 2, isSigned: true),
        "CharStorage": StorageType(dtype: .int32, itemSize: 1, isSigned: true),
        "ByteStorage": StorageType(dtype: .uint8, itemSize: 1, isSigned: false),
        "BoolStorage": StorageType(dtype: .bool, itemSize: 1, isSigned: false),
    ]

    static func storageName(_ dtype: DType) -> String {
        switch dtype {
        case .float32: return "FloatStorage"
        case .float64: return "DoubleStorage"
        case .float16: return "HalfStorage"
        case .bfloat16: return "BFloat16Storage"
        case .int64: return "LongStorage"
        case .int32: return "IntStorage"
        case .uint8: return "ByteStorage"
        case .bool: return "BoolStorage"
        }
    }

    /// Copies `count` elements of `source` type into a new Ember storage (byte-swapping a
    /// big-endian file, widening int16/int8 to int32).
    static func makeStorage(_ raw: Data, count: Int, source: StorageType, bigEndian: Bool) -> Storage {
        let storage = Storage.cpu(byteCount: count * source.dtype.itemSize)
        fillStorage(storage, from: raw, count: count, source: source, bigEndian: bigEndian)
        return storage
    }

    /// Copies `count` elements of `source` type into `storage` (which holds `count` elements
    /// of `source.dtype`), byte-swapping and widening as ``makeStorage(_:count:source:bigEndian:)``.
    static func fillStorage(_ storage: Storage, from raw: Data, count: Int, source: StorageType, bigEndian: Bool) {
        let target = source.dtype.itemSize
        guard count > 0 else { return }
        raw.withUnsafeBytes { input in
            let src = input.baseAddress!
            let dst = storage.pointer
            if source.itemSize == target && (!bigEndian || target == 1) {
                dst.copyMemory(from: src, byteCount: count * target)
                return
            }
            if source.itemSize == target {
                for i in 0..<count {
                    for b in 0..<target { dst.storeBytes(of: src.load(fromByteOffset: i * target + target - 1 - b, as: UInt8.self), toByteOffset: i * target + b, as: UInt8.self) }
                }
                return
            }
            let out = dst.assumingMemoryBound(to: Int32.self)
            for i in 0..<count {
                if source.itemSize == 1 {
                    out[i] = Int32(src.load(fromByteOffset: i, as: Int8.self))
                } else {
                    var v = src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
                    v = bigEndian ? UInt16(bigEndian: v) : UInt16(littleEndian: v)
                    out[i] = Int32(Int16(bitPattern: v))
                }
            }
        }
    }
}

// MARK: - Pickle writer

private struct PickleWriter {
    var bytes: [UInt8] = []

    mutating func global(_ module: String, _ name: String) {
        bytes.append(0x63)
        bytes.append(contentsOf: Array(module.utf8)); bytes.append(0x0a)
        bytes.append(contentsOf: Array(name.utf8)); bytes.append(0x0a)
    }

    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes.append(0x58)
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: utf8)
    }

    mutating func int(_ value: Int) {
        if value >= 0 && value < 256 {
            bytes.append(0x4b); bytes.append(UInt8(value))
        } else if let small = Int32(exactly: value) {
            bytes.append(0x4a)
            withUnsafeBytes(of: small.littleEndian) { bytes.append(contentsOf: $0) }
        } else {
            bytes.append(0x8a); bytes.append(8)
            withUnsafeBytes(of: Int64(value).littleEndian) { bytes.append(contentsOf: $0) }
        }
    }

    mutating func intTuple(_ values: [Int]) {
        switch values.count {
        case 0: bytes.append(0x29)
        case 1: int(values[0]); bytes.append(0x85)
        case 2: int(values[0]); int(values[1]); bytes.append(0x86)
        case 3: int(values[0]); int(values[1]); int(values[2]); bytes.append(0x87)
        default:
            bytes.append(0x28)
            for value in values { int(value) }
            bytes.append(0x74)
        }
    }
}

// MARK: - Restricted unpickler

/// A mutable list or dict built by the pickle (memoised objects can be mutated later).
private final class PickleContainer {
    enum Kind { case list, dict }
    let kind: Kind
    var items: [PickleValue] = []
    var pairs: [(PickleValue, PickleValue)] = []
    init(_ kind: Kind) { self.kind = kind }
}

private indirect enum PickleValue {
    case none, bool(Bool), int(Int), float(Double), string(String), bytes(Data)
    /// A tuple and its nesting depth (tuples are immutable, so the depth is known when built).
    case tuple([PickleValue], depth: Int)
    case container(PickleContainer)
    case global(module: String, name: String)
    case storage(Storage, DType, count: Int)
    case tensor(Tensor)

    var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .container(let c): return c.kind == .list ? "list" : "dict"
        case .global(let m, let n): return "\(m).\(n)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }

    var isNone: Bool {
        if case .none = self { return true }
        return false
    }
}

private struct Unpickler {
    typealias StorageLoader = (_ key: String, _ typeName: String, _ count: Int) throws -> (Storage, DType)

    let data: Data
    let path: String
    let entry: String
    let loadStorage: StorageLoader
    var position = 0
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var containers: [PickleContainer] = []
    var storages: [String: (Storage, DType, Int)] = [:]
    /// Deepest nesting converted to a `TorchValue`.
    static let maximumDepth = 200

    init(data: Data, path: String, entry: String, loadStorage: @escaping StorageLoader) {
        self.data = data.startIndex == 0 ? data : Data(data)
        self.path = path
        self.entry = entry
        self.loadStorage = loadStorage
    }

    func fail(_ kind: TorchCheckpointError.Kind, _ detail: String) -> TorchCheckpointError {
        TorchCheckpointError(kind, path: path, entry: entry, detail)
    }

    func fail(_ detail: String) -> TorchCheckpointError { fail(.badPickle, detail) }

    mutating func bytes(_ n: Int) throws -> Data {
        guard n >= 0, n <= data.count - position else {
            throw fail("truncated pickle: needs \(n) bytes at byte \(position), \(data.count - position) left")
        }
        defer { position += n }
        return data.subdata(in: position..<(position + n))
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard size <= data.count - position else { throw fail("truncated pickle at byte \(position)") }
        defer { position += size }
        return data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: position, as: T.self)) }
    }

    mutating func line() throws -> String {
        guard let end = data[position...].firstIndex(of: 0x0a), end - position <= 256 else {
            throw fail("GLOBAL at byte \(position) has no short newline-terminated name")
        }
        defer { position = end + 1 }
        return String(decoding: data[position..<end], as: UTF8.self)
    }

    mutating func pop() throws -> PickleValue {
        guard let value = stack.popLast() else { throw fail("stack underflow at byte \(position)") }
        if let mark = marks.last, stack.count < mark { throw fail("pop across a MARK at byte \(position)") }
        return value
    }

    mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail("no MARK for the opcode at byte \(position - 1)") }
        guard mark <= stack.count else { throw fail("MARK beyond the stack at byte \(position - 1)") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    mutating func top() throws -> PickleValue {
        guard let value = stack.last else { throw fail("stack underflow at byte \(position)") }
        return value
    }

    func checkGlobal(_ module: String, _ name: String, at offset: Int) throws -> PickleValue {
        let allowed: Bool
        switch (module, name) {
        case ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"),
             ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            allowed = true
        case ("torch", _) where name.hasSuffix("Storage") && name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }):
            allowed = true
        default:
            allowed = false
        }
        guard allowed else {
            throw fail(.forbiddenGlobal, "refuses global '\(module).\(name)' at byte \(offset): only collections.OrderedDict, torch._utils._rebuild_tensor_v2/_rebuild_parameter and torch.*Storage may appear in a checkpoint (nothing is imported or run)")
        }
        return .global(module: module, name: name)
    }

    mutating func run() throws -> TorchValue {
        defer {
            // Break every mutable container apart so that deeply nested or cyclic structures
            // are released without deep recursion.
            for container in containers { container.items.removeAll(); container.pairs.removeAll() }
            memo.removeAll(); stack.removeAll()
        }
        while true {
            guard position < data.count else { throw fail("truncated pickle: no STOP opcode") }
            let opcodeOffset = position
            let opcode = data[position]
            position += 1
            switch opcode {
            case 0x80:  // PROTO
                let version = try integer(UInt8.self)
                guard version <= 5 else { throw fail("pickle protocol \(version) is not supported") }
            case 0x95:  // FRAME
                let length = try integer(UInt64.self)
                guard length <= UInt64(data.count - position) else { throw fail("FRAME of \(length) bytes runs past the end") }
            case 0x7d: stack.append(.container(newContainer(.dict)))   // EMPTY_DICT
            case 0x5d: stack.append(.container(newContainer(.list)))   // EMPTY_LIST
            case 0x29: stack.append(.tuple([], depth: 1))               // EMPTY_TUPLE
            case 0x28: marks.append(stack.count)                        // MARK
            case 0x58:  // BINUNICODE
                let n = Int(try integer(UInt32.self)); stack.append(.string(try text(n)))
            case 0x8c:  // SHORT_BINUNICODE
                let n = Int(try integer(UInt8.self)); stack.append(.string(try text(n)))
            case 0x8d:  // BINUNICODE8
                let n = try integer(UInt64.self)
                guard n <= UInt64(data.count) else { throw fail("string length \(n) runs past the end") }
                stack.append(.string(try text(Int(n))))
            case 0x42:  // BINBYTES
                let n = Int(try integer(UInt32.self)); stack.append(.bytes(try bytes(n)))
            case 0x43:  // SHORT_BINBYTES
                let n = Int(try integer(UInt8.self)); stack.append(.bytes(try bytes(n)))
            case 0x4a: stack.append(.int(Int(try integer(Int32.self))))   // BININT
            case 0x4b: stack.append(.int(Int(try integer(UInt8.self))))   // BININT1
            case 0x4d: stack.append(.int(Int(try integer(UInt16.self))))  // BININT2
            case 0x8a, 0x8b:  // LONG1, LONG4
                let n = opcode == 0x8a ? Int(try integer(UInt8.self)) : Int(try integer(Int32.self))
                guard n >= 0, n <= 8 else { throw fail("integer of \(n) bytes at byte \(opcodeOffset) does not fit in 64 bits") }
                let raw = try bytes(n)
                var value: UInt64 = 0
                for (i, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
                if n > 0 && n < 8 && raw[raw.startIndex + n - 1] & 0x80 != 0 { value |= ~UInt64(0) << (8 * UInt64(n)) }
                stack.append(.int(Int(Int64(bitPattern: value))))
            case 0x47:  // BINFLOAT (big-endian)
                let bits = UInt64(bigEndian: try integer(UInt64.self))
                stack.append(.float(Double(bitPattern: bits)))
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4e: stack.append(.none)
            case 0x85: let a = try pop(); stack.append(try tuple([a]))
            case 0x86: let b = try pop(); let a = try pop(); stack.append(try tuple([a, b]))
            case 0x87: let c = try pop(); let b = try pop(); let a = try pop(); stack.append(try tuple([a, b, c]))
            case 0x74: stack.append(try tuple(try popMark()))           // TUPLE
            case 0x73:  // SETITEM
                let value = try pop(); let key = try pop()
                try dict(try top()).pairs.append((key, value))
            case 0x75:  // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items at byte \(opcodeOffset)") }
                let target = try dict(try top())
                for i in stride(from: 0, to: items.count, by: 2) { target.pairs.append((items[i], items[i + 1])) }
            case 0x61:  // APPEND
                let value = try pop(); try list(try top()).items.append(value)
            case 0x65:  // APPENDS
                let items = try popMark(); try list(try top()).items.append(contentsOf: items)
            case 0x71: memo[Int(try integer(UInt8.self))] = try top()   // BINPUT
            case 0x72: memo[Int(try integer(UInt32.self))] = try top()  // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()                     // MEMOIZE
            case 0x68, 0x6a:  // BINGET, LONG_BINGET
                let key = opcode == 0x68 ? Int(try integer(UInt8.self)) : Int(try integer(UInt32.self))
                guard let value = memo[key] else { throw fail("BINGET of unknown memo key \(key) at byte \(opcodeOffset)") }
                stack.append(value)
            case 0x63:  // GLOBAL
                let module = try line(); let name = try line()
                stack.append(try checkGlobal(module, name, at: opcodeOffset))
            case 0x93:  // STACK_GLOBAL
                let name = try pop(); let module = try pop()
                guard case .string(let n) = name, case .string(let m) = module else { throw fail("STACK_GLOBAL needs two strings") }
                stack.append(try checkGlobal(m, n, at: opcodeOffset))
            case 0x51:  // BINPERSID
                stack.append(try persistentLoad(try pop(), at: opcodeOffset))
            case 0x52:  // REDUCE
                let args = try pop(); let callable = try pop()
                stack.append(try reduce(callable, args, at: opcodeOffset))
            case 0x62:  // BUILD: state on dicts (e.g. a state dict's `_metadata`) and tensors is ignored.
                _ = try pop()
                switch try top() {
                case .container(let c) where c.kind == .dict: break
                case .tensor: break
                case let other: throw fail("BUILD on a \(other.typeName) at byte \(opcodeOffset) is not supported")
                }
            case 0x2e:  // STOP
                let result = try pop()
                return try convert(result, depth: 0)
            default:
                let printable = opcode >= 0x20 && opcode < 0x7f ? " ('\(Character(UnicodeScalar(opcode)))')" : ""
                throw fail(.unknownOpcode, String(format: "unsupported pickle opcode 0x%02x", opcode) + printable + " at byte \(opcodeOffset)")
            }
        }
    }

    /// Builds a tuple, refusing nesting deeper than `maximumDepth` (so that releasing it
    /// never recurses deeply).
    func tuple(_ items: [PickleValue]) throws -> PickleValue {
        var depth = 1
        for item in items { if case .tuple(_, let d) = item { depth = max(depth, d + 1) } }
        guard depth <= Unpickler.maximumDepth else {
            throw fail("tuples nest deeper than \(Unpickler.maximumDepth) levels at byte \(position - 1)")
        }
        return .tuple(items, depth: depth)
    }

    mutating func text(_ n: Int) throws -> String {
        let raw = try bytes(n)
        guard let s = String(data: raw, encoding: .utf8) else { throw fail("invalid UTF-8 in a string at byte \(position - n)") }
        return s
    }

    mutating func newContainer(_ kind: PickleContainer.Kind) -> PickleContainer {
        let container = PickleContainer(kind)
        containers.append(container)
        return container
    }

    func dict(_ value: PickleValue) throws -> PickleContainer {
        guard case .container(let c) = value, c.kind == .dict else { throw fail("SETITEM on a \(value.typeName) at byte \(position - 1)") }
        return c
    }

    func list(_ value: PickleValue) throws -> PickleContainer {
        guard case .container(let c) = value, c.kind == .list else { throw fail("APPEND on a \(value.typeName) at byte \(position - 1)") }
        return c
    }

    mutating func persistentLoad(_ pid: PickleValue, at offset: Int) throws -> PickleValue {
        // Legacy files add a sixth element, the view metadata: None unless the storage is a view.
        guard case .tuple(let parts, _) = pid, parts.count == 5 || (parts.count == 6 && parts[5].isNone),
              case .string("storage") = parts[0],
              case .global("torch", let typeName) = parts[1], case .string(let key) = parts[2],
              case .string = parts[3], case .int(let count) = parts[4] else {
            throw fail("persistent id at byte \(offset) is not ('storage', torch.<Type>Storage, key, location, numel)")
        }
        guard count >= 0 else { throw fail(.badTensor, "storage '\(key)' has negative size \(count)") }
        guard !key.isEmpty, !key.contains("/"), !key.contains("..") else { throw fail("invalid storage key '\(key)'") }
        if let (storage, dtype, known) = storages[key] {
            guard known == count, TorchCheckpoint.storageTypes[typeName]?.dtype == dtype else {
                throw fail(.badTensor, "storage '\(key)' is referenced with different types or sizes")
            }
            return .storage(storage, dtype, count: count)
        }
        let (storage, dtype) = try loadStorage(key, typeName, count)
        storages[key] = (storage, dtype, count)
        return .storage(storage, dtype, count: count)
    }

    func intTuple(_ value: PickleValue, _ what: String) throws -> [Int] {
        guard case .tuple(let items, _) = value else { throw fail(.badTensor, "tensor \(what) is a \(value.typeName), not a tuple") }
        return try items.map { item in
            guard case .int(let v) = item else { throw fail(.badTensor, "tensor \(what) holds a \(item.typeName)") }
            return v
        }
    }

    mutating func reduce(_ callable: PickleValue, _ argsValue: PickleValue, at offset: Int) throws -> PickleValue {
        guard case .tuple(let args, _) = argsValue else { throw fail("REDUCE arguments at byte \(offset) are a \(argsValue.typeName), not a tuple") }
        guard case .global(let module, let name) = callable else { throw fail("REDUCE at byte \(offset) calls a \(callable.typeName)") }
        switch (module, name) {
        case ("collections", "OrderedDict"):
            let container = newContainer(.dict)
            if let first = args.first {
                guard args.count == 1, case .container(let list) = first, list.kind == .list else {
                    throw fail("OrderedDict(...) at byte \(offset) takes no arguments or one list of pairs")
                }
                for pair in list.items {
                    guard case .tuple(let kv, _) = pair, kv.count == 2 else { throw fail("OrderedDict item is not a pair") }
                    container.pairs.append((kv[0], kv[1]))
                }
            }
            return .container(container)
        case ("torch._utils", "_rebuild_tensor_v2"):
            guard args.count == 6 || args.count == 7 else {
                throw fail(.badTensor, "_rebuild_tensor_v2 at byte \(offset) takes 6 or 7 arguments, got \(args.count)")
            }
            guard case .storage(let storage, let dtype, let storageCount) = args[0] else {
                throw fail(.badTensor, "_rebuild_tensor_v2 at byte \(offset): first argument is a \(args[0].typeName), not a storage")
            }
            guard case .int(let storageOffset) = args[1] else { throw fail(.badTensor, "tensor storage offset is a \(args[1].typeName)") }
            let sizes = try intTuple(args[2], "size")
            let strides = try intTuple(args[3], "stride")
            return .tensor(try makeTensor(storage, dtype, storageCount, storageOffset, sizes, strides, at: offset))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard args.count >= 1, case .tensor(let tensor) = args[0] else {
                throw fail(.badTensor, "\(name) at byte \(offset) needs a tensor argument")
            }
            return .tensor(tensor)
        default:
            throw fail(.badPickle, "REDUCE at byte \(offset) cannot call \(module).\(name)")
        }
    }

    func makeTensor(_ storage: Storage, _ dtype: DType, _ storageCount: Int, _ offset: Int,
                    _ sizes: [Int], _ strides: [Int], at byte: Int) throws -> Tensor {
        guard sizes.count == strides.count, sizes.count <= 64 else {
            throw fail(.badTensor, "tensor at byte \(byte) has \(sizes.count) sizes but \(strides.count) strides")
        }
        guard offset >= 0, sizes.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw fail(.badTensor, "tensor at byte \(byte) has a negative offset, size or stride (offset \(offset), size \(sizes), stride \(strides))")
        }
        var count = 1
        var last = offset
        for (size, stride) in zip(sizes, strides) {
            let (c, o1) = count.multipliedReportingOverflow(by: size)
            guard !o1 else { throw fail(.badTensor, "tensor size \(sizes) at byte \(byte) is too large") }
            count = c
            if size > 0 {
                let (step, o2) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, o3) = last.addingReportingOverflow(step)
                guard !o2, !o3 else { throw fail(.badTensor, "tensor strides \(strides) at byte \(byte) overflow") }
                last = sum
            }
        }
        if count > 0 {
            guard last < storageCount else {
                throw fail(.badTensor, "tensor at byte \(byte) (offset \(offset), size \(sizes), stride \(strides)) reaches element \(last) of a \(storageCount)-element storage")
            }
        } else {
            guard offset <= storageCount else {
                throw fail(.badTensor, "tensor at byte \(byte) has offset \(offset) past the end of a \(storageCount)-element storage")
            }
        }
        return Tensor(storage: storage, shape: sizes, strides: strides, offset: offset, dtype: dtype)
    }

    func convert(_ value: PickleValue, depth: Int) throws -> TorchValue {
        guard depth <= Unpickler.maximumDepth else {
            throw fail("the object nests deeper than \(Unpickler.maximumDepth) levels (or contains a cycle)")
        }
        switch value {
        case .none: return .none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .float(let f): return .float(f)
        case .string(let s): return .string(s)
        case .bytes(let d): return .bytes(d)
        case .tensor(let t): return .tensor(t)
        case .tuple(let items, _): return .tuple(try items.map { try convert($0, depth: depth + 1) })
        case .container(let c):
            if c.kind == .list { return .list(try c.items.map { try convert($0, depth: depth + 1) }) }
            return .dict(try c.pairs.map { pair in
                let key: String
                switch pair.0 {
                case .string(let s): key = s
                case .int(let i): key = String(i)
                case .bool(let b): key = b ? "True" : "False"
                case .none: key = "None"
                default: throw fail("dict key of type \(pair.0.typeName) is not supported")
                }
                return (key: key, value: try convert(pair.1, depth: depth + 1))
            })
        case .global(let m, let n): throw fail("the checkpoint holds a bare reference to \(m).\(n)")
        case .storage: throw fail("the checkpoint holds a bare storage, not a tensor")
        }
    }
}
