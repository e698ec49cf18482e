// Parquet's RLE / bit-packing hybrid: the encoding of definition levels and dictionary
// indices. A run header (varint) says either "repeat one value n times" (even header) or
// "n groups of 8 values packed with `bitWidth` bits each, least significant bit first" (odd).

enum RLEHybridDecoder {
    /// Decodes exactly `count` values of `bitWidth` bits (0...32) from `bytes[range]`; the
    /// data must hold at least that many (a bit-packed run may pad beyond them).
    static func decode(_ bytes: [UInt8], _ range: Range<Int>, bitWidth: Int, count: Int) throws -> [UInt32] {
        guard (0...32).contains(bitWidth) else { throw ParquetDecodeError(.corruptPage, "a bit width of \(bitWidth) (at most 32 is valid)") }
        var output: [UInt32] = []
        output.reserveCapacity(count)
        var position = range.lowerBound
        let end = range.upperBound
        let valueBytes = (bitWidth + 7) / 8
        let mask: UInt64 = bitWidth == 0 ? 0 : (UInt64(1) << UInt64(bitWidth)) - 1
        while output.count < count {
            // The run header.
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < end else {
                    throw ParquetDecodeError(.corruptPage, "RLE/bit-packed data ends after \(output.count) of \(count) values")
                }
                let b = bytes[position]
                position += 1
                header |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { break }
                shift += 7
                guard shift <= 35 else { throw ParquetDecodeError(.corruptPage, "an RLE run header is longer than 5 bytes") }
            }
            if header & 1 == 0 {
                let runLength = Int(header >> 1)
                guard end - position >= valueBytes else { throw ParquetDecodeError(.corruptPage, "an RLE run's value is truncated") }
                var value: UInt64 = 0
                for k in 0..<valueBytes { value |= UInt64(bytes[position + k]) << UInt64(8 * k) }
                position += valueBytes
                guard value & ~mask == 0 else { throw ParquetDecodeError(.corruptPage, "an RLE value \(value) does not fit \(bitWidth) bits") }
                let take = min(runLength, count - output.count)
                output.append(contentsOf: repeatElement(UInt32(value), count: take))
            } else {
                let groups = Int(header >> 1)
                let packedBytes = groups * bitWidth   // 8 values per group: bitWidth bytes per group
                guard packedBytes <= end - position else {
                    // The last run of a page may be cut short after the values it needs.
                    let needed = count - output.count
                    guard needed * bitWidth <= (end - position) * 8 else {
                        throw ParquetDecodeError(.corruptPage, "a bit-packed run of \(groups * 8) values is truncated")
                    }
                    try unpack(bytes, at: position, bitWidth: bitWidth, mask: mask, count: needed, into: &output)
                    position = end
                    continue
                }
                let take = min(groups * 8, count - output.count)
                try unpack(bytes, at: position, bitWidth: bitWidth, mask: mask, count: take, into: &output)
                position += packedBytes
            }
        }
        return output
    }

    /// Appends `count` values packed LSB-first from `bytes[start...]` (the caller checked the bytes exist).
    private static func unpack(_ bytes: [UInt8], at start: Int, bitWidth: Int, mask: UInt64, count: Int, into output: inout [UInt32]) throws {
        if bitWidth == 0 {
            output.append(contentsOf: repeatElement(0, count: count))
            return
        }
        var buffer: UInt64 = 0
        var bits = 0
        var position = start
        for _ in 0..<count {
            while bits < bitWidth {
                buffer |= UInt64(bytes[position]) << UInt64(bits)
                position += 1
                bits += 8
            }
            output.append(UInt32(buffer & mask))
            buffer >>= UInt64(bitWidth)
            bits -= bitWidth
        }
    }
}
