// Snappy decompression (the raw block format Parquet uses for its SNAPPY codec): a varint
// with the uncompressed length, then literals and back-references with 1-, 2- or 4-byte offsets.

/// Snappy's raw block format, decompressed with every length and offset checked.
///
/// ```swift
/// let raw = try Snappy.decompress(pageBytes[...], expectedCount: 4096)
/// ```
enum Snappy {
    /// The most a Snappy block can expand: a 3-byte copy element yields at most 64 bytes.
    static let maxExpansion = 22

    /// Decompresses one raw Snappy block. `expectedCount`, when given, must equal the block's
    /// declared length. The output is allocated once, after the declared length has been
    /// checked against what `input` can possibly expand to.
    static func decompress(_ input: ArraySlice<UInt8>, expectedCount: Int? = nil) throws -> [UInt8] {
        var position = input.startIndex
        let end = input.endIndex
        // The preamble: the uncompressed length as a varint of at most 32 bits.
        var declared: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw ParquetDecodeError(.corruptCompressedData, "snappy data ends inside its length preamble") }
            let b = input[position]
            position += 1
            declared |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
            guard shift < 35 else { throw ParquetDecodeError(.corruptCompressedData, "snappy length preamble is longer than 5 bytes") }
        }
        guard declared <= UInt64(UInt32.max) else {
            throw ParquetDecodeError(.corruptCompressedData, "snappy declares \(declared) bytes, more than 2^32 - 1")
        }
        let count = Int(declared)
        if let expectedCount, count != expectedCount {
            throw ParquetDecodeError(.corruptCompressedData, "snappy data declares \(count) bytes, the page header \(expectedCount)")
        }
        guard count <= (end - position) * maxExpansion else {
            throw ParquetDecodeError(.corruptCompressedData,
                                     "snappy declares \(count) bytes, more than its \(end - position) compressed bytes can hold")
        }
        return try [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            var produced = 0
            // Everything written so far is initialised; `initialized` tracks it for early exits.
            defer { initialized = produced }
            while position < end {
                let tag = input[position]
                position += 1
                var length: Int
                var offset: Int
                switch tag & 3 {
                case 0: // literal
                    length = Int(tag >> 2)
                    if length >= 60 {
                        let extra = length - 59
                        guard end - position >= extra else { throw ParquetDecodeError(.corruptCompressedData, "snappy literal length is truncated") }
                        length = 0
                        for k in 0..<extra { length |= Int(input[position + k]) << (8 * k) }
                        position += extra
                    }
                    length += 1
                    guard length <= end - position else {
                        throw ParquetDecodeError(.corruptCompressedData, "a snappy literal of \(length) bytes runs past the end of the data")
                    }
                    guard length <= count - produced else {
                        throw ParquetDecodeError(.corruptCompressedData, "snappy output overflows its declared \(count) bytes")
                    }
                    for k in 0..<length { out[produced + k] = input[position + k] }
                    position += length
                    produced += length
                    continue
                case 1:
                    guard position < end else { throw ParquetDecodeError(.corruptCompressedData, "snappy copy is truncated") }
                    length = 4 + Int((tag >> 2) & 7)
                    offset = Int(tag >> 5) << 8 | Int(input[position])
                    position += 1
                case 2:
                    guard end - position >= 2 else { throw ParquetDecodeError(.corruptCompressedData, "snappy copy is truncated") }
                    length = 1 + Int(tag >> 2)
                    offset = Int(input[position]) | Int(input[position + 1]) << 8
                    position += 2
                default:
                    guard end - position >= 4 else { throw ParquetDecodeError(.corruptCompressedData, "snappy copy is truncated") }
                    length = 1 + Int(tag >> 2)
                    offset = 0
                    for k in 0..<4 { offset |= Int(input[position + k]) << (8 * k) }
                    position += 4
                }
                guard offset > 0, offset <= produced else {
                    throw ParquetDecodeError(.corruptCompressedData, "a snappy copy refers \(offset) bytes back, \(produced) bytes are written")
                }
                guard length <= count - produced else {
                    throw ParquetDecodeError(.corruptCompressedData, "snappy output overflows its declared \(count) bytes")
                }
                // Byte by byte: the source may overlap the destination (a repeating pattern).
                for k in 0..<length { out[produced + k] = out[produced + k - offset] }
                produced += length
            }
            guard produced == count else {
                throw ParquetDecodeError(.corruptCompressedData, "snappy data ends after \(produced) of its declared \(count) bytes")
            }
        }
    }
}
