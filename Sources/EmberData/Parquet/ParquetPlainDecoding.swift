// Parquet's PLAIN encoding for each physical type this reader supports: little-endian
// fixed-width numbers, bit-packed booleans, and 4-byte-length-prefixed byte arrays (read as
// UTF-8 strings). Every count is checked against the bytes present before anything is allocated.

/// A Swift type that a Parquet column of one physical type decodes to.
///
/// `String` reads `BYTE_ARRAY` columns (the bytes must be valid UTF-8), `Int32`/`Int64`
/// `INT32`/`INT64`, `Float`/`Double` `FLOAT`/`DOUBLE`, `Bool` `BOOLEAN`.
///
/// ```swift
/// let ids = try file.read(Int64.self, column: "id")
/// ```
public protocol ParquetValue: Sendable {
    /// The physical type whose columns decode to this type.
    static var parquetPhysicalType: ParquetPhysicalType { get }
}

extension String: ParquetValue {
    /// `BYTE_ARRAY`.
    public static var parquetPhysicalType: ParquetPhysicalType { .byteArray }
}
extension Int64: ParquetValue {
    /// `INT64`.
    public static var parquetPhysicalType: ParquetPhysicalType { .int64 }
}
extension Int32: ParquetValue {
    /// `INT32`.
    public static var parquetPhysicalType: ParquetPhysicalType { .int32 }
}
extension Double: ParquetValue {
    /// `DOUBLE`.
    public static var parquetPhysicalType: ParquetPhysicalType { .double }
}
extension Float: ParquetValue {
    /// `FLOAT`.
    public static var parquetPhysicalType: ParquetPhysicalType { .float }
}
extension Bool: ParquetValue {
    /// `BOOLEAN`.
    public static var parquetPhysicalType: ParquetPhysicalType { .boolean }
}

/// PLAIN decoding into `T`, for each supported value type.
enum ParquetPlain {
    /// `count` PLAIN values of type `T` from `bytes[range]`; returns them and where they end.
    static func decode<T: ParquetValue>(_ type: T.Type, _ bytes: [UInt8], _ range: Range<Int>, count: Int) throws -> ([T], Int) {
        switch T.parquetPhysicalType {
        case .byteArray: let (v, e) = try strings(bytes, range, count: count); return (v as! [T], e)
        case .int64: let (v, e) = try fixed(bytes, range, count: count, width: 8) { Int64(bitPattern: $0) }; return (v as! [T], e)
        case .int32: let (v, e) = try fixed(bytes, range, count: count, width: 4) { Int32(bitPattern: UInt32(truncatingIfNeeded: $0)) }; return (v as! [T], e)
        case .double: let (v, e) = try fixed(bytes, range, count: count, width: 8) { Double(bitPattern: $0) }; return (v as! [T], e)
        case .float: let (v, e) = try fixed(bytes, range, count: count, width: 4) { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }; return (v as! [T], e)
        case .boolean: let (v, e) = try booleans(bytes, range, count: count); return (v as! [T], e)
        default: throw ParquetDecodeError(.unsupported, "PLAIN \(T.parquetPhysicalType) values are not supported")
        }
    }

    private static func fixed<T>(_ bytes: [UInt8], _ range: Range<Int>, count: Int, width: Int, _ make: (UInt64) -> T) throws -> ([T], Int) {
        guard count <= range.count / width else {
            throw ParquetDecodeError(.corruptPage, "\(count) PLAIN values of \(width) bytes need \(count * width) bytes, the page holds \(range.count)")
        }
        var result: [T] = []
        result.reserveCapacity(count)
        bytes.withUnsafeBytes { raw in
            var p = range.lowerBound
            for _ in 0..<count {
                let bits = width == 8 ? UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt64.self))
                                      : UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt32.self)))
                result.append(make(bits))
                p += width
            }
        }
        return (result, range.lowerBound + count * width)
    }

    private static func booleans(_ bytes: [UInt8], _ range: Range<Int>, count: Int) throws -> ([Bool], Int) {
        guard count <= range.count * 8 else {
            throw ParquetDecodeError(.corruptPage, "\(count) PLAIN booleans need \((count + 7) / 8) bytes, the page holds \(range.count)")
        }
        var result: [Bool] = []
        result.reserveCapacity(count)
        for i in 0..<count { result.append(bytes[range.lowerBound + i / 8] >> UInt8(i % 8) & 1 == 1) }
        return (result, range.lowerBound + (count + 7) / 8)
    }

    private static func strings(_ bytes: [UInt8], _ range: Range<Int>, count: Int) throws -> ([String], Int) {
        guard count <= range.count / 4 else {
            throw ParquetDecodeError(.corruptPage, "\(count) PLAIN byte arrays need at least \(count * 4) bytes, the page holds \(range.count)")
        }
        var result: [String] = []
        result.reserveCapacity(count)
        var p = range.lowerBound
        for i in 0..<count {
            guard range.upperBound - p >= 4 else { throw ParquetDecodeError(.corruptPage, "byte array \(i) of \(count): its length is truncated") }
            let length = Int(bytes[p]) | Int(bytes[p + 1]) << 8 | Int(bytes[p + 2]) << 16 | Int(bytes[p + 3]) << 24
            p += 4
            guard length <= range.upperBound - p else {
                throw ParquetDecodeError(.corruptPage, "byte array \(i) of \(count) declares \(length) bytes, \(range.upperBound - p) remain")
            }
            guard let s = String(validating: bytes[p..<(p + length)], as: UTF8.self) else {
                throw ParquetDecodeError(.corruptPage, "byte array \(i) of \(count) is not valid UTF-8")
            }
            result.append(s)
            p += length
        }
        return (result, p)
    }
}
