// The IDX format of MNIST-style datasets.
import Foundation
import Ember

/// An array read from an IDX file, the format of MNIST and Fashion-MNIST
/// (gzipped or plain).
///
/// Layout: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
/// 0x0D float32, 0x0E float64), the number of dimensions, each dimension as a big-endian
/// UInt32, then the elements in big-endian, row-major order. Everything is validated: a
/// wrong magic number, an unknown type, a short header, truncated data or trailing bytes
/// throw a ``DatasetError`` naming the file.
///
/// ```swift
/// let labels = try IDXArray(contentsOf: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
/// labels.shape          // [10000]
/// labels.tensor().dtype // .uint8
/// ```
public struct IDXArray {
    /// The element type stored in an IDX file.
    public enum ElementType: UInt8, Sendable {
        /// Unsigned bytes (MNIST's images and labels).
        case uint8 = 0x08
        /// Signed bytes.
        case int8 = 0x09
        /// Big-endian 16-bit integers.
        case int16 = 0x0B
        /// Big-endian 32-bit integers.
        case int32 = 0x0C
        /// Big-endian 32-bit floats.
        case float32 = 0x0D
        /// Big-endian 64-bit floats.
        case float64 = 0x0E

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .uint8, .int8: return 1
            case .int16: return 2
            case .int32, .float32: return 4
            case .float64: return 8
            }
        }
    }

    /// The file this array came from (for error messages).
    public let path: String
    /// The element type.
    public let elementType: ElementType
    /// The dimensions.
    public let shape: [Int]
    /// The raw elements (big-endian, row-major), exactly `shape.product × elementType.size` bytes.
    public let payload: [UInt8]

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// The magic number as MNIST's documentation writes it (2051 for 3-d uint8 images,
    /// 2049 for 1-d uint8 labels).
    public var magic: Int { Int(elementType.rawValue) << 8 | shape.count }

    /// Reads and validates the IDX file at `path`; gzipped files are inflated.
    ///
    /// ```swift
    /// let images = try IDXArray(contentsOf: "train-images-idx3-ubyte.gz")   // shape [60000, 28, 28]
    /// ```
    public init(contentsOf path: String) throws {
        try self.init(bytes: try FileBytes.readMaybeGzipped(path), path: path)
    }

    /// Parses and validates IDX bytes; `path` names them in errors.
    ///
    /// ```swift
    /// let a = try IDXArray(bytes: [0, 0, 8, 1, 0, 0, 0, 2, 7, 9], path: "<memory>")   // [7, 9]
    /// ```
    public init(bytes: consuming [UInt8], path: String) throws {
        let header = try bytes.withUnsafeBufferPointer { try Self.header(of: $0, path: path) }
        let needed = header.shape.reduce(1, *) * header.type.size
        try Self.checkPayload(bytes.count - header.size, needed: needed, shape: header.shape, path: path)
        self.path = path
        self.elementType = header.type
        self.shape = header.shape
        // Drop the header in place: when the caller handed over its only reference (as
        // `init(contentsOf:)` does), no second copy of the data is made.
        var data = consume bytes
        data.removeFirst(header.size)
        self.payload = data
    }

    /// Reads the IDX file at `path` (gzipped or plain) without ever holding its elements:
    /// `header` gets the validated element type and shape, then `payload` the element bytes
    /// in order, in chunks of up to `chunkSize` bytes. Every check of `init(contentsOf:)`
    /// applies, with its errors.
    ///
    /// ```swift
    /// try IDXArray.stream(contentsOf: path, header: { type, shape in … }, payload: { bytes in … })
    /// ```
    static func stream(contentsOf path: String, chunkSize: Int = 1 << 20, header: (ElementType, [Int]) throws -> Void,
                       payload: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let file = try FileBytes.read(path)
        var start: [UInt8] = []   // the header, until it is complete
        var parsed: (type: ElementType, shape: [Int], size: Int)? = nil
        var needed = 0, received = 0
        func consume(_ chunk: UnsafeBufferPointer<UInt8>) throws {
            var chunk = chunk
            if parsed == nil {
                // Enough bytes for the rank first, then for the whole header.
                let wanted = start.count < 4 ? 4 : 4 + 4 * Int(start[3])
                let take = min(wanted - start.count, chunk.count)
                start.append(contentsOf: chunk.prefix(take))
                chunk = UnsafeBufferPointer(rebasing: chunk.dropFirst(take))
                guard start.count == wanted else { return }
                if wanted == 4 && start[0] == 0 && start[1] == 0 && start[3] > 0 { return try consume(chunk) }
                let complete = try start.withUnsafeBufferPointer { try Self.header(of: $0, path: path) }
                parsed = complete
                needed = complete.shape.reduce(1, *) * complete.type.size
                try header(complete.type, complete.shape)
            }
            // Bytes past the elements are counted for the error at the end, not handed on.
            let usable = max(0, min(chunk.count, needed - received))
            received += chunk.count
            if usable > 0 { try payload(UnsafeBufferPointer(rebasing: chunk.prefix(usable))) }
        }
        if Gzip.isGzip(file) {
            try Gzip.inflate(file, path: path, chunkSize: chunkSize, into: consume)
        } else {
            try file.withUnsafeBufferPointer { all in
                for start in stride(from: 0, to: all.count, by: max(chunkSize, 1)) {
                    try consume(UnsafeBufferPointer(rebasing: all[start ..< min(all.count, start + max(chunkSize, 1))]))
                }
            }
        }
        guard let parsed else {
            // Too short for a header: the whole-buffer parser gives the exact message.
            _ = try start.withUnsafeBufferPointer { try Self.header(of: $0, path: path) }
            return
        }
        try checkPayload(received, needed: needed, shape: parsed.shape, path: path)
    }

    /// Parses and validates the header at the start of `bytes`: element type, shape and the
    /// header's size in bytes.
    private static func header(of bytes: UnsafeBufferPointer<UInt8>, path: String) throws -> (type: ElementType, shape: [Int], size: Int) {
        guard bytes.count >= 4 else {
            throw DatasetError(.truncated, path: path, "file is \(bytes.count) bytes, too short for an IDX header (4 bytes of magic number)")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw DatasetError(.badMagic, path: path,
                               String(format: "not an IDX file: the magic number starts with %02x %02x, expected 00 00", bytes[0], bytes[1]))
        }
        guard let type = ElementType(rawValue: bytes[2]) else {
            throw DatasetError(.badMagic, path: path, String(format: "unknown IDX element type code 0x%02x", bytes[2]))
        }
        let rank = Int(bytes[3])
        guard rank >= 1 else { throw DatasetError(.badMagic, path: path, "IDX header declares 0 dimensions") }
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw DatasetError(.truncated, path: path,
                               "file is \(bytes.count) bytes, too short for the header of a \(rank)-dimensional IDX array (\(headerSize) bytes)")
        }
        var shape: [Int] = []
        var count = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let size = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            shape.append(size)
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            count = product
            if overflow || count > Int(Int32.max) * 64 {
                throw DatasetError(.sizeMismatch, path: path, "IDX dimensions \(shape) are implausibly large")
            }
        }
        return (type, shape, headerSize)
    }

    /// Checks that `available` payload bytes are exactly the `needed` ones.
    private static func checkPayload(_ available: Int, needed: Int, shape: [Int], path: String) throws {
        if available < needed {
            throw DatasetError(.truncated, path: path,
                               "truncated data: dimensions \(shape) need \(needed) bytes, the file holds \(available)")
        }
        if available > needed {
            throw DatasetError(.sizeMismatch, path: path,
                               "dimensions \(shape) need \(needed) bytes, but the file holds \(available) (\(available - needed) unexpected trailing bytes)")
        }
    }

    /// The elements as a tensor of `shape`: uint8 stays uint8, int8 and int16 widen to
    /// int32, int32 to int32, float32 and float64 keep their type.
    ///
    /// ```swift
    /// let images = try IDXArray(contentsOf: path).tensor()   // uint8 [N, 28, 28]
    /// ```
    public func tensor() -> Tensor {
        switch elementType {
        case .uint8:
            return Tensor(payload, shape: shape)
        case .int8:
            return Tensor(payload.map { Int32(Int8(bitPattern: $0)) }, shape: shape)
        case .int16:
            return Tensor((0..<count).map { i in Int32(Int16(bitPattern: UInt16(payload[2 * i]) << 8 | UInt16(payload[2 * i + 1]))) }, shape: shape)
        case .int32:
            return Tensor((0..<count).map { i in Int32(bitPattern: bigEndian32(4 * i)) }, shape: shape)
        case .float32:
            return Tensor((0..<count).map { i in Float(bitPattern: bigEndian32(4 * i)) }, shape: shape)
        case .float64:
            return Tensor((0..<count).map { i -> Double in
                let hi = UInt64(bigEndian32(8 * i)), lo = UInt64(bigEndian32(8 * i + 4))
                return Double(bitPattern: hi << 32 | lo)
            }, shape: shape)
        }
    }

    private func bigEndian32(_ o: Int) -> UInt32 {
        UInt32(payload[o]) << 24 | UInt32(payload[o + 1]) << 16 | UInt32(payload[o + 2]) << 8 | UInt32(payload[o + 3])
    }

    /// Encodes an IDX file (big-endian), for writing test data or exporting.
    ///
    /// ```swift
    /// let bytes = IDXArray.encode(uint8: [1, 2, 3, 4], shape: [2, 2])
    /// ```
    public static func encode(uint8 values: [UInt8], shape: [Int]) -> [UInt8] {
        precondition(shape.reduce(1, *) == values.count, "IDXArray.encode: \(values.count) values for shape \(shape)")
        var bytes: [UInt8] = [0, 0, ElementType.uint8.rawValue, UInt8(shape.count)]
        for d in shape { bytes += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return bytes + values
    }
}
