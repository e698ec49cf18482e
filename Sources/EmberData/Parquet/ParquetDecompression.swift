// Decompressing one Parquet page: UNCOMPRESSED, SNAPPY (Snappy.swift) and GZIP (zlib); any
// other codec is refused by name. The output size is the page header's, checked against
// what the compressed bytes could possibly expand to before anything is allocated.
import CZlib

enum ParquetDecompression {
    /// Deflate never expands more than about 1032:1.
    static let maxDeflateExpansion = 1032

    /// The `uncompressedSize` bytes that `input` decompresses to with `codec`.
    static func decompress(_ input: ArraySlice<UInt8>, codec: Int32, uncompressedSize: Int) throws -> [UInt8] {
        switch ParquetCodec(rawValue: codec) {
        case .uncompressed:
            guard input.count == uncompressedSize else {
                throw ParquetDecodeError(.corruptPage, "an uncompressed page holds \(input.count) bytes, its header says \(uncompressedSize)")
            }
            return Array(input)
        case .snappy:
            return try Snappy.decompress(input, expectedCount: uncompressedSize)
        case .gzip:
            return try inflate(input, count: uncompressedSize)
        default:
            throw ParquetDecodeError(.unsupported, "the \(ParquetCodec.name(codec)) codec is not supported (UNCOMPRESSED, SNAPPY and GZIP are)")
        }
    }

    /// Inflates a gzip (or zlib) stream that must produce exactly `count` bytes.
    static func inflate(_ input: ArraySlice<UInt8>, count: Int) throws -> [UInt8] {
        guard count <= input.count * maxDeflateExpansion + 64 else {
            throw ParquetDecodeError(.corruptCompressedData, "a gzip page declares \(count) bytes, more than its \(input.count) compressed bytes can hold")
        }
        guard !input.isEmpty else { throw ParquetDecodeError(.corruptCompressedData, "a gzip page is empty") }
        guard input.count <= Int(UInt32.max), count < Int(UInt32.max) else {
            throw ParquetDecodeError(.unsupported, "a gzip page larger than 4 GiB")
        }
        var output = [UInt8](repeating: 0, count: count + 1)   // one spare byte detects overlong data
        var stream = z_stream()
        // 15 + 32: accept the gzip or the zlib wrapper, whichever the writer used.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ParquetDecodeError(.corruptCompressedData, "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        let status: Int32 = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress!)
                stream.avail_in = UInt32(source.count)
                stream.next_out = out.baseAddress!
                stream.avail_out = UInt32(out.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        let produced = Int(stream.total_out)
        guard status == Z_STREAM_END else {
            if status == Z_BUF_ERROR && produced > count {
                throw ParquetDecodeError(.corruptCompressedData, "a gzip page inflates to more than its declared \(count) bytes")
            }
            let reason = status == Z_BUF_ERROR ? "the gzip data is truncated" : "the gzip data is corrupt (zlib error \(status))"
            throw ParquetDecodeError(.corruptCompressedData, reason)
        }
        guard produced == count else {
            throw ParquetDecodeError(.corruptCompressedData, "a gzip page inflates to \(produced) bytes, its header says \(count)")
        }
        output.removeLast()
        return output
    }
}
