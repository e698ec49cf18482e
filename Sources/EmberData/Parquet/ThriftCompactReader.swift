// A reader for Apache Thrift's compact protocol, the encoding of Parquet's footer and page
// headers: varints, zigzag integers, field headers with id deltas, lists and nested structs.
//
// Every read is checked against the end of the buffer, every declared length and element
// count against the bytes that remain, and nesting is limited, so hostile bytes end in a
// `ParquetDecodeError` instead of a crash or a huge allocation.

/// The compact protocol's wire types (the low nibble of a field header).
enum ThriftType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
    case binary = 8, list = 9, set = 10, map = 11, structure = 12
}

/// A cursor over compact-protocol bytes.
struct ThriftCompactReader {
    /// The deepest nesting of structs, lists and maps accepted (Parquet's metadata needs about 6).
    static let maxDepth = 32

    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    private var depth = 0

    /// A reader over `bytes[start..<end]`.
    init(_ bytes: [UInt8], start: Int, end: Int) {
        precondition(start >= 0 && start <= end && end <= bytes.count)
        self.bytes = bytes
        self.position = start
        self.end = end
    }

    private func fail(_ detail: String) -> ParquetDecodeError {
        ParquetDecodeError(.corruptMetadata, "\(detail) (Thrift byte \(position))")
    }

    mutating func readByte() throws -> UInt8 {
        guard position < end else { throw ParquetDecodeError(.truncated, "the Thrift data ends early (byte \(position))") }
        defer { position += 1 }
        return bytes[position]
    }

    /// An unsigned LEB128 varint of at most 64 bits.
    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try readByte()
            if shift == 63 && b > 1 { throw fail("a varint overflows 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw fail("a varint is longer than 10 bytes") }
        }
    }

    private static func unzigzag(_ n: UInt64) -> Int64 { Int64(bitPattern: (n >> 1) ^ (0 &- (n & 1))) }

    mutating func readI64() throws -> Int64 { Self.unzigzag(try readVarint()) }

    mutating func readI32() throws -> Int32 {
        let v = try readI64()
        guard let r = Int32(exactly: v) else { throw fail("an i32 value \(v) is out of range") }
        return r
    }

    mutating func readI16() throws -> Int16 {
        let v = try readI64()
        guard let r = Int16(exactly: v) else { throw fail("an i16 value \(v) is out of range") }
        return r
    }

    mutating func readDouble() throws -> Double {
        guard end - position >= 8 else { throw ParquetDecodeError(.truncated, "the Thrift data ends inside a double") }
        var bits: UInt64 = 0
        for k in 0..<8 { bits |= UInt64(bytes[position + k]) << UInt64(8 * k) }
        position += 8
        return Double(bitPattern: bits)
    }

    /// A length-prefixed byte string, as a range into `bytes`.
    mutating func readBinaryRange() throws -> Range<Int> {
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw ParquetDecodeError(.truncated, "a Thrift string of \(length) bytes runs past the end of its \(end - position) remaining bytes")
        }
        let start = position
        position += Int(length)
        return start..<position
    }

    /// A length-prefixed UTF-8 string (invalid UTF-8 is an error).
    mutating func readString() throws -> String {
        let range = try readBinaryRange()
        guard let s = String(validating: bytes[range], as: UTF8.self) else { throw fail("a Thrift string is not valid UTF-8") }
        return s
    }

    /// A list (or set) header: the element type and count, the count checked against the
    /// remaining bytes (every element, booleans included, takes at least one byte).
    mutating func readListHeader() throws -> (ThriftType, Int) {
        let header = try readByte()
        guard let type = ThriftType(rawValue: header & 0x0F), type != .stop else {
            throw fail("a list has the unknown element type \(header & 0x0F)")
        }
        var count = UInt64(header >> 4)
        if count == 15 { count = try readVarint() }
        guard count <= UInt64(end - position) else {
            throw ParquetDecodeError(.truncated, "a Thrift list declares \(count) elements but only \(end - position) bytes remain")
        }
        return (type, Int(count))
    }

    /// Reads a struct's fields: `field(&reader, id, type)` reads the fields it knows and
    /// returns false for the others, which are skipped.
    mutating func readStruct(_ field: (inout ThriftCompactReader, Int16, ThriftType) throws -> Bool) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("Thrift structs are nested deeper than \(Self.maxDepth)") }
        var lastID: Int16 = 0
        while true {
            let header = try readByte()
            guard let type = ThriftType(rawValue: header & 0x0F) else { throw fail("a field has the unknown type \(header & 0x0F)") }
            if type == .stop { return }
            let delta = Int16(header >> 4)
            let id: Int16
            if delta != 0 {
                let (sum, overflow) = lastID.addingReportingOverflow(delta)
                guard !overflow else { throw fail("a field id overflows") }
                id = sum
            } else {
                id = try readI16()
            }
            lastID = id
            if try !field(&self, id, type) { try skip(type) }
        }
    }

    /// Skips one value of `type` (with everything nested inside it).
    mutating func skip(_ type: ThriftType) throws {
        switch type {
        case .stop: throw fail("a stray stop byte")
        case .boolTrue, .boolFalse: return
        case .byte: _ = try readByte()
        case .i16, .i32, .i64: _ = try readVarint()
        case .double: _ = try readDouble()
        case .binary: _ = try readBinaryRange()
        case .list, .set:
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { throw fail("Thrift lists are nested deeper than \(Self.maxDepth)") }
            let (elementType, count) = try readListHeader()
            for _ in 0..<count {
                if elementType == .boolTrue || elementType == .boolFalse { _ = try readByte() } else { try skip(elementType) }
            }
        case .map:
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { throw fail("Thrift maps are nested deeper than \(Self.maxDepth)") }
            let count = try readVarint()
            if count == 0 { return }
            guard count <= UInt64(end - position) else { throw ParquetDecodeError(.truncated, "a Thrift map declares \(count) entries") }
            let kinds = try readByte()
            guard let keyType = ThriftType(rawValue: kinds >> 4), let valueType = ThriftType(rawValue: kinds & 0x0F),
                  keyType != .stop, valueType != .stop else { throw fail("a map has an unknown key or value type") }
            for _ in 0..<count {
                for t in [keyType, valueType] {
                    if t == .boolTrue || t == .boolFalse { _ = try readByte() } else { try skip(t) }
                }
            }
        case .structure:
            try readStruct { _, _, _ in false }
        }
    }

    // MARK: Typed field reads (the field's wire type must match)

    private func expect(_ type: ThriftType, _ wanted: ThriftType, _ name: String) throws {
        guard type == wanted else { throw fail("field \(name) has wire type \(type), expected \(wanted)") }
    }

    mutating func i32(_ type: ThriftType, _ name: String) throws -> Int32 {
        try expect(type, .i32, name)
        return try readI32()
    }

    mutating func i64(_ type: ThriftType, _ name: String) throws -> Int64 {
        try expect(type, .i64, name)
        return try readI64()
    }

    mutating func string(_ type: ThriftType, _ name: String) throws -> String {
        try expect(type, .binary, name)
        return try readString()
    }

    mutating func bool(_ type: ThriftType, _ name: String) throws -> Bool {
        guard type == .boolTrue || type == .boolFalse else { throw fail("field \(name) has wire type \(type), expected a boolean") }
        return type == .boolTrue
    }

    /// A list field whose elements `element` reads.
    mutating func list<T>(_ type: ThriftType, _ name: String, _ element: (inout ThriftCompactReader, ThriftType) throws -> T) throws -> [T] {
        guard type == .list || type == .set else { throw fail("field \(name) has wire type \(type), expected a list") }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("Thrift lists are nested deeper than \(Self.maxDepth)") }
        let (elementType, count) = try readListHeader()
        var result: [T] = []
        result.reserveCapacity(min(count, 1024))   // elements may be large structs: grow as they arrive
        for _ in 0..<count { result.append(try element(&self, elementType)) }
        return result
    }

    /// A struct field read by `body`.
    mutating func structure<T>(_ type: ThriftType, _ name: String, _ body: (inout ThriftCompactReader) throws -> T) throws -> T {
        try expect(type, .structure, name)
        return try body(&self)
    }
}
