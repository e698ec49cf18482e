// Reading and writing NumPy's `.npy` format (versions 1.0, 2.0 and 3.0), and the typed
// error every tensor file operation throws.
//
// Format (numpy/lib/format.py): the magic "\x93NUMPY", a major and a minor version byte, the
// header length (little-endian UInt16 in 1.0, UInt32 in 2.0 and 3.0), then the header: a
// Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
// padded with spaces and ended by a newline, then the raw elements.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure reading or writing a tensor file. It names the file and says what is wrong;
/// a bad file never crashes the process.
///
/// ```swift
/// do {
///     let x = try Tensor.load(npy: URL(fileURLWithPath: "weights.npy"))
/// } catch let error as TensorIOError {
///     print(error)   // "weights.npy: truncated data: the header's shape [10, 10] needs 400 bytes, the file holds 120"
/// }
/// ```
public struct TensorIOError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// What went wrong, by category (the message says the details).
    public enum Kind: String, Sendable {
        /// The file does not exist.
        case fileNotFound
        /// The file exists but could not be read (permissions, a directory, an I/O error).
        case unreadable
        /// The file does not start with the format's magic bytes.
        case badMagic
        /// A format version this reader does not know.
        case unsupportedVersion
        /// The header is malformed.
        case badHeader
        /// An element type Ember cannot hold (or the format cannot store).
        case unsupportedDType
        /// The file ends before the data the header promises.
        case truncated
        /// The file holds more or other data than the header describes.
        case sizeMismatch
        /// Writing the file failed; any previous file at the path is left untouched.
        case writeFailed
    }

    /// The category of the failure.
    public let kind: Kind
    /// The file involved (a path, or a description such as `<memory>` for in-memory data).
    public let path: String
    /// What is wrong, in words.
    public let detail: String

    /// Creates an error for `path`.
    ///
    /// ```swift
    /// throw TensorIOError(.badHeader, path: "x.npy", "missing key 'shape'")
    /// ```
    public init(_ kind: Kind, path: String, _ detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    /// `"<path>: <detail>"`.
    public var description: String { "\(path): \(detail)" }
    /// The same text as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}

// MARK: - Public API

extension Tensor {
    /// Reads a `.npy` file (format 1.0, 2.0 or 3.0) into a new CPU tensor.
    ///
    /// Supported element types: `<f4` (float32), `<f8` (float64), `<f2` (float16), `<i8`
    /// (int64), `<i4` (int32), `|u1` (uint8) and `|b1` (bool); big-endian variants (`>f4` …)
    /// are byte-swapped. Fortran-ordered arrays are converted to Ember's row-major layout.
    /// Everything is validated: a missing, corrupt or truncated file throws a
    /// ``TensorIOError`` naming the file.
    ///
    /// ```swift
    /// let embeddings = try Tensor.load(npy: URL(fileURLWithPath: "glove.npy"))
    /// embeddings.shape   // [400000, 50]
    /// ```
    public static func load(npy url: URL) throws -> Tensor {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TensorIOError(.fileNotFound, path: path, "no such file")
        }
        if isDirectory.boolValue { throw TensorIOError(.unreadable, path: path, "is a directory, not an .npy file") }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw TensorIOError(.unreadable, path: path, "cannot read the file: \(error.localizedDescription)")
        }
        return try load(npyData: data, source: path)
    }

    /// Reads a `.npy` file at a path (see `load(npy:)`).
    ///
    /// ```swift
    /// let x = try Tensor.load(npyPath: "features.npy")
    /// ```
    public static func load(npyPath path: String) throws -> Tensor {
        try load(npy: URL(fileURLWithPath: path))
    }

    /// Decodes `.npy` bytes held in memory; `source` names them in errors.
    ///
    /// ```swift
    /// let bytes = x.npyData()
    /// let y = try Tensor.load(npyData: bytes)   // equal to x
    /// ```
    public static func load(npyData data: Data, source: String = "<memory>") throws -> Tensor {
        try data.withUnsafeBytes { raw in try NpyFormat.decode(raw, source: source) }
    }

    /// The tensor encoded as `.npy` bytes (format 1.0, or 2.0 when the header needs it; C order).
    ///
    /// Throws ``TensorIOError`` (`.unsupportedDType`) for `bfloat16`, which NumPy has no
    /// type for: convert with `.to(.float32)` first.
    ///
    /// ```swift
    /// let bytes = try Tensor.arange(0, 6).reshape(2, 3).npyData()
    /// ```
    public func npyData() throws -> Data {
        try NpyFormat.encode(self, destination: "<memory>")
    }

    /// Writes the tensor to a `.npy` file that NumPy's `np.load` reads.
    ///
    /// The write is atomic: the bytes go to a temporary file in the same directory, which is
    /// flushed and then renamed over `url`, so a failure never leaves a half-written file and
    /// never clobbers the previous one. Non-contiguous tensors and tensors on other devices
    /// are copied to contiguous CPU memory first.
    ///
    /// ```swift
    /// try model.weight.save(npy: URL(fileURLWithPath: "weight.npy"))
    /// // python: np.load("weight.npy")
    /// ```
    public func save(npy url: URL) throws {
        let data = try NpyFormat.encode(self, destination: url.path)
        do {
            try writeAtomically(data, to: url)
        } catch let error as FileWriteError {
            throw TensorIOError(.writeFailed, path: url.path, error.reason)
        }
    }

    /// Writes the tensor to a `.npy` file at a path (see ``save(npy:)``).
    ///
    /// ```swift
    /// try x.save(npyPath: "x.npy")
    /// ```
    public func save(npyPath path: String) throws {
        try save(npy: URL(fileURLWithPath: path))
    }
}

// MARK: - Format

/// The `.npy` codec.
enum NpyFormat {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // "\x93NUMPY"

    /// An element type as NumPy's `descr` spells it.
    struct Descr {
        var dtype: DType
        var bigEndian: Bool

        init(parsing text: String, source: String) throws {
            guard text.count >= 2 else {
                throw TensorIOError(.badHeader, path: source, "invalid 'descr' '\(text)'")
            }
            let order = text.first!
            let code = String(text.dropFirst())
            switch order {
            case "<", "|", "=": bigEndian = false
            case ">", "!": bigEndian = true
            default: throw TensorIOError(.badHeader, path: source, "invalid byte order in 'descr' '\(text)'")
            }
            switch code {
            case "f4": dtype = .float32
            case "f8": dtype = .float64
            case "f2": dtype = .float16
            case "i8": dtype = .int64
            case "i4": dtype = .int32
            case "u1": dtype = .uint8
            case "b1": dtype = .bool
            default:
                throw TensorIOError(.unsupportedDType, path: source,
                                    "unsupported element type '\(text)' (Ember reads <f4, <f8, <f2, <i8, <i4, |u1 and |b1)")
            }
            if dtype.itemSize == 1 { bigEndian = false }
        }

        /// NumPy's little-endian `descr` for an Ember dtype.
        static func string(for dtype: DType, destination: String) throws -> String {
            switch dtype {
            case .float32: return "<f4"
            case .float64: return "<f8"
            case .float16: return "<f2"
            case .int64: return "<i8"
            case .int32: return "<i4"
            case .uint8: return "|u1"
            case .bool: return "|b1"
            case .bfloat16:
                throw TensorIOError(.unsupportedDType, path: destination,
                                    "NumPy has no bfloat16 type; convert with .to(.float32) before saving")
            }
        }
    }

    /// The parsed header.
    struct Header {
        var descr: Descr
        var fortranOrder: Bool
        var shape: [Int]
    }

    // MARK: Decoding

    static func decode(_ raw: UnsafeRawBufferPointer, source: String) throws -> Tensor {
        guard raw.count >= 8 else {
            throw TensorIOError(.truncated, path: source, "file is \(raw.count) bytes, too short for an .npy header")
        }
        guard Array(raw[0..<6]) == magic else {
            throw TensorIOError(.badMagic, path: source, "not an .npy file (it does not start with \\x93NUMPY)")
        }
        let major = raw[6], minor = raw[7]
        let lengthBytes: Int
        switch (major, minor) {
        case (1, 0): lengthBytes = 2
        case (2, 0), (3, 0): lengthBytes = 4
        default:
            throw TensorIOError(.unsupportedVersion, path: source,
                                "unsupported .npy format version \(major).\(minor) (Ember reads 1.0, 2.0 and 3.0)")
        }
        guard raw.count >= 8 + lengthBytes else {
            throw TensorIOError(.truncated, path: source, "file ends inside the header length field")
        }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(raw[8 + i]) << (8 * i) }
        let dataStart = 8 + lengthBytes + headerLength
        guard raw.count >= dataStart else {
            throw TensorIOError(.truncated, path: source,
                                "file ends inside the header (header length \(headerLength), file \(raw.count) bytes)")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: raw[(8 + lengthBytes)..<dataStart])
        let headerText: String
        if major == 3 {
            guard let text = String(validating: headerBytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
                throw TensorIOError(.badHeader, path: source, "header is not valid UTF-8")
            }
            headerText = text
        } else {
            // Latin-1: every byte is one character.
            headerText = String(headerBytes.map { Character(Unicode.Scalar($0)) })
        }
        let header = try parseHeader(headerText, source: source)

        var count = 1
        for size in header.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw TensorIOError(.badHeader, path: source, "shape \(header.shape) is too large") }
            count = product
        }
        let itemSize = header.descr.dtype.itemSize
        let (needed, overflow) = count.multipliedReportingOverflow(by: itemSize)
        guard !overflow else { throw TensorIOError(.badHeader, path: source, "shape \(header.shape) is too large") }
        let available = raw.count - dataStart
        if available < needed {
            throw TensorIOError(.truncated, path: source,
                                "truncated data: the header's shape \(header.shape) needs \(needed) bytes, the file holds \(available)")
        }
        if available > needed {
            throw TensorIOError(.sizeMismatch, path: source,
                                "the header's shape \(header.shape) needs \(needed) bytes, but the file holds \(available) (\(available - needed) unexpected trailing bytes)")
        }

        let dtype = header.descr.dtype
        // Fortran order: the bytes are the row-major layout of the reversed shape.
        let storedShape = header.fortranOrder ? Array(header.shape.reversed()) : header.shape
        let stored = Tensor(uninitializedShape: storedShape, dtype: dtype)
        if needed > 0 {
            stored.rawPointer.copyMemory(from: raw.baseAddress! + dataStart, byteCount: needed)
        }
        if header.descr.bigEndian { byteSwap(stored.rawPointer, count: count, itemSize: itemSize) }
        if dtype == .bool {
            // NumPy writes 0 and 1, but normalise any other byte so Ember's bool invariant holds.
            let bytes = stored.rawPointer.assumingMemoryBound(to: UInt8.self)
            for i in 0..<count where bytes[i] > 1 { bytes[i] = 1 }
        }
        if header.fortranOrder && header.shape.count > 1 {
            return noGrad { stored.permute(Array((0..<storedShape.count).reversed())).contiguous() }
        }
        return stored
    }

    static func byteSwap(_ pointer: UnsafeMutableRawPointer, count: Int, itemSize: Int) {
        let bytes = pointer.assumingMemoryBound(to: UInt8.self)
        for i in 0..<count {
            var lo = i * itemSize, hi = lo + itemSize - 1
            while lo < hi {
                let t = bytes[lo]; bytes[lo] = bytes[hi]; bytes[hi] = t
                lo += 1; hi -= 1
            }
        }
    }

    /// Parses the header dict: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    static func parseHeader(_ text: String, source: String) throws -> Header {
        var parser = HeaderParser(text: Array(text.unicodeScalars), source: source)
        let dict = try parser.parseDictionary()
        var descr: Descr? = nil, fortran: Bool? = nil, shape: [Int]? = nil
        for (key, value) in dict {
            switch (key, value) {
            case ("descr", .string(let s)): descr = try Descr(parsing: s, source: source)
            case ("descr", .list):
                throw TensorIOError(.unsupportedDType, path: source, "structured arrays (a list 'descr') are not supported")
            case ("fortran_order", .bool(let b)): fortran = b
            case ("shape", .tuple(let dims)): shape = dims
            case ("descr", _), ("fortran_order", _), ("shape", _):
                throw TensorIOError(.badHeader, path: source, "header key '\(key)' has a value of the wrong type")
            default:
                throw TensorIOError(.badHeader, path: source, "unexpected header key '\(key)'")
            }
        }
        guard let descr else { throw TensorIOError(.badHeader, path: source, "header has no 'descr' key") }
        guard let fortran else { throw TensorIOError(.badHeader, path: source, "header has no 'fortran_order' key") }
        guard let shape else { throw TensorIOError(.badHeader, path: source, "header has no 'shape' key") }
        return Header(descr: descr, fortranOrder: fortran, shape: shape)
    }

    /// The values a header may hold.
    enum HeaderValue { case string(String), bool(Bool), tuple([Int]), list }

    /// A small recursive-descent parser for the header's Python literal.
    struct HeaderParser {
        let text: [Unicode.Scalar]
        let source: String
        var position = 0

        func fail(_ what: String) -> TensorIOError {
            TensorIOError(.badHeader, path: source, "malformed header at character \(position): \(what)")
        }

        mutating func skipSpace() {
            while position < text.count, text[position] == " " || text[position] == "\n" || text[position] == "\t" || text[position] == "\r" {
                position += 1
            }
        }

        mutating func expect(_ c: Unicode.Scalar) throws {
            skipSpace()
            guard position < text.count, text[position] == c else { throw fail("expected '\(c)'") }
            position += 1
        }

        mutating func peek() -> Unicode.Scalar? {
            skipSpace()
            return position < text.count ? text[position] : nil
        }

        mutating func parseDictionary() throws -> [(String, HeaderValue)] {
            try expect("{")
            var entries: [(String, HeaderValue)] = []
            while true {
                if peek() == "}" { position += 1; break }
                let key = try parseString()
                if entries.contains(where: { $0.0 == key }) { throw fail("duplicate key '\(key)'") }
                try expect(":")
                entries.append((key, try parseValue()))
                if peek() == "," { position += 1; continue }
                try expect("}")
                break
            }
            skipSpace()
            guard position == text.count else { throw fail("unexpected text after the dictionary") }
            return entries
        }

        mutating func parseString() throws -> String {
            guard let quote = peek(), quote == "'" || quote == "\"" else { throw fail("expected a quoted string") }
            position += 1
            var scalars = String.UnicodeScalarView()
            while position < text.count, text[position] != quote {
                if text[position] == "\\" { throw fail("escapes in strings are not supported") }
                scalars.append(text[position])
                position += 1
            }
            guard position < text.count else { throw fail("unterminated string") }
            position += 1
            return String(scalars)
        }

        mutating func parseWord() -> String {
            var word = String.UnicodeScalarView()
            while position < text.count, text[position].properties.isAlphabetic || ("0"..."9").contains(text[position]) || text[position] == "_" {
                word.append(text[position])
                position += 1
            }
            return String(word)
        }

        mutating func parseValue() throws -> HeaderValue {
            guard let c = peek() else { throw fail("unexpected end of header") }
            switch c {
            case "'", "\"": return .string(try parseString())
            case "(": return .tuple(try parseTuple())
            case "[":
                try skipList()
                return .list
            default:
                let word = parseWord()
                switch word {
                case "True": return .bool(true)
                case "False": return .bool(false)
                default: throw fail("unexpected value '\(word.isEmpty ? String(c) : word)'")
                }
            }
        }

        /// Skips a bracketed list (a structured dtype's fields), strings included.
        mutating func skipList() throws {
            var depth = 0
            while position < text.count {
                let c = text[position]
                if c == "'" || c == "\"" { _ = try parseString(); continue }
                position += 1
                if c == "[" || c == "(" { depth += 1 }
                if c == "]" || c == ")" { depth -= 1; if depth == 0 { return } }
            }
            throw fail("unterminated list")
        }

        mutating func parseTuple() throws -> [Int] {
            try expect("(")
            var values: [Int] = []
            while true {
                if peek() == ")" { position += 1; break }
                skipSpace()
                let word = parseWord()
                let digits = word.hasSuffix("L") ? String(word.dropLast()) : word   // Python 2 longs
                guard !digits.isEmpty, digits.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }), let value = Int(digits) else {
                    throw fail("shape entries must be non-negative integers, found '\(word)'")
                }
                values.append(value)
                if peek() == "," { position += 1; continue }
                try expect(")")
                break
            }
            return values
        }
    }

    // MARK: Encoding

    static func encode(_ tensor: Tensor, destination: String) throws -> Data {
        let descr = try Descr.string(for: tensor.dtype, destination: destination)
        let host = noGrad { tensor.to(.cpu).contiguous() }
        let shapeText: String
        switch host.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(host.shape[0]),)"
        default: shapeText = "(" + host.shape.map(String.init).joined(separator: ", ") + ")"
        }
        let dictionary = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad with spaces so the data starts at a multiple of 64 bytes, ending with '\n';
        // version 2.0 only when the header does not fit 1.0's UInt16 length.
        func padded(prefix: Int) -> String {
            let total = prefix + dictionary.utf8.count + 1
            return dictionary + String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        }
        var major: UInt8 = 1
        var header = padded(prefix: 10)     // magic (6), version (2), UInt16 length (2)
        if header.utf8.count > Int(UInt16.max) { major = 2; header = padded(prefix: 12) }
        let headerLength = header.utf8.count
        let prefix = major == 1 ? 10 : 12

        var data = Data(capacity: prefix + headerLength + host.count * host.dtype.itemSize)
        data.append(contentsOf: magic)
        data.append(contentsOf: [major, 0])
        if major == 1 {
            data.append(contentsOf: [UInt8(headerLength & 0xFF), UInt8(headerLength >> 8)])
        } else {
            data.append(contentsOf: (0..<4).map { UInt8((headerLength >> (8 * $0)) & 0xFF) })
        }
        data.append(contentsOf: Array(header.utf8))
        let byteCount = host.count * host.dtype.itemSize
        if byteCount > 0 {
            data.append(UnsafeRawBufferPointer(start: host.rawPointer, count: byteCount).bindMemory(to: UInt8.self))
        }
        return data
    }
}
