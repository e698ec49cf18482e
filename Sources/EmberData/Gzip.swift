// Inflating gzip data with zlib.
import CZlib

/// gzip decompression through zlib, validating the stream (corrupt data, a bad CRC or a
/// truncated file throw a ``DatasetError`` naming the file).
///
/// ```swift
/// let raw = try Gzip.inflate(compressedBytes, path: "train-images-idx3-ubyte.gz")
/// ```
public enum Gzip {
    /// True when `bytes` start with gzip's magic number (1f 8b).
    ///
    /// ```swift
    /// Gzip.isGzip([0x1f, 0x8b, 8, 0])   // true
    /// ```
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Inflates a complete gzip file (several concatenated members are read one after
    /// another, as `gunzip` does). `path` names the data in errors.
    ///
    /// ```swift
    /// let bytes = try Gzip.inflate(Array(try Data(contentsOf: url)), path: url.path)
    /// ```
    public static func inflate(_ compressed: [UInt8], path: String) throws -> [UInt8] {
        var output: [UInt8] = []
        // The trailer's ISIZE (uncompressed size mod 2^32) of the last member is a good first
        // guess; a damaged trailer must not make us reserve gigabytes (deflate never expands
        // more than 1032:1).
        if compressed.count >= 18 {
            let n = compressed.count
            let isize = Int(compressed[n - 4]) | Int(compressed[n - 3]) << 8 | Int(compressed[n - 2]) << 16 | Int(compressed[n - 1]) << 24
            output.reserveCapacity(min(isize, compressed.count * 1032 + 64))
        }
        try inflate(compressed, path: path) { output.append(contentsOf: $0) }
        return output
    }

    /// Inflates a complete gzip file piece by piece: `sink` receives the uncompressed bytes
    /// in order, in chunks of up to `chunkSize` bytes, so the whole output is never held at
    /// once. Errors are those of `inflate(_:path:)`; `sink`'s errors propagate.
    ///
    /// ```swift
    /// var total = 0
    /// try Gzip.inflate(compressedBytes, path: "data.gz") { chunk in total += chunk.count }
    /// ```
    public static func inflate(_ compressed: [UInt8], path: String, chunkSize: Int = 1 << 20,
                               into sink: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        guard isGzip(compressed) else {
            throw DatasetError(.corruptCompressedData, path: path, "not gzip data (it does not start with 1f 8b)")
        }
        var stream = z_stream()
        var status = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw DatasetError(.corruptCompressedData, path: path, "zlib could not start inflating (error \(status))")
        }
        defer { inflateEnd(&stream) }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(chunkSize, 64))
        defer { buffer.deallocate() }
        var filled = 0
        func flush() throws {
            if filled > 0 { try sink(UnsafeBufferPointer(start: buffer.baseAddress, count: filled)) }
            filled = 0
        }

        try compressed.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!)
            stream.avail_in = UInt32(input.count)
            while true {
                if filled == buffer.count { try flush() }
                let room = buffer.count - filled
                stream.next_out = buffer.baseAddress! + filled
                stream.avail_out = UInt32(room)
                status = CZlib.inflate(&stream, Z_NO_FLUSH)
                filled += room - Int(stream.avail_out)
                switch status {
                case Z_STREAM_END:
                    // Another member may follow (skip trailing zero padding, as gzip does).
                    let consumed = input.count - Int(stream.avail_in)
                    if stream.avail_in == 0 || input[consumed...].allSatisfy({ $0 == 0 }) { return }
                    guard input.count - consumed >= 2, input[consumed] == 0x1F, input[consumed + 1] == 0x8B else {
                        throw DatasetError(.corruptCompressedData, path: path,
                                           "\(input.count - consumed) bytes of trailing garbage after the gzip stream")
                    }
                    inflateReset(&stream)
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    if stream.avail_in == 0 {
                        throw DatasetError(.truncated, path: path,
                                           "the gzip stream is truncated (the file ends after \(input.count) bytes, before the end of the compressed data)")
                    }
                    continue   // no room: the loop hands the chunk on
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw DatasetError(.corruptCompressedData, path: path, "corrupt gzip data: \(message)")
                }
            }
        }
        try flush()
    }

    /// Compresses `bytes` into one gzip member (for writing `.gz` files and tests).
    ///
    /// ```swift
    /// let gz = Gzip.deflate(IDXArray.encode(uint8: [1, 2, 3], shape: [3]))
    /// try Gzip.inflate(gz, path: "<memory>")   // the IDX bytes again
    /// ```
    public static func deflate(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "Gzip.deflate: zlib could not start compressing (error \(status))")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
        var input = bytes
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                let result = CZlib.deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "Gzip.deflate: zlib failed (error \(result))")
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[..<produced])
    }
}
