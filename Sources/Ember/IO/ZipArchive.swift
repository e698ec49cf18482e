// A small ZIP reader and writer for checkpoint containers (PyTorch's `torch.save` format).
//
// The reader trusts nothing in the file: every offset and size is checked against the file's
// length before use, deflated entries are inflated with a hard cap (an entry that inflates
// past its declared size, or declares more than `maximumEntryBytes`, is refused, so a zip
// bomb cannot exhaust memory), and every entry's CRC-32 is verified. ZIP64 records (used by
// torch for files over 4 GiB) are understood. Encrypted, multi-disk and other compression
// methods are refused with a typed error naming the file and the entry.
//
// The writer stores entries uncompressed with their data aligned to 64 bytes (as torch's
// writer does, so the storages can be memory-mapped) and switches to ZIP64 records when an
// offset or size does not fit in 32 bits.
import Foundation
import CZlib

/// A ZIP archive could not be read or written. It names the file and, where one is
/// involved, the entry.
///
/// ```swift
/// do { _ = try ZipArchive(url: url) } catch let error as ZipArchiveError { print(error) }
/// // "model.pt: not a ZIP archive: no end-of-central-directory record"
/// ```
public struct ZipArchiveError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// What went wrong, by category.
    public enum Kind: String, Sendable {
        case fileNotFound, unreadable
        /// No end-of-central-directory record: not a ZIP file (or cut off at the end).
        case notAZip
        /// A record points past the end of the file or is cut short.
        case truncated
        /// A record is malformed (bad signature, inconsistent sizes, bad deflate stream).
        case corrupt
        /// Encryption, multi-disk archives or a compression method other than stored/deflate.
        case unsupported
        /// The entry is larger than the reader's limit (or inflates past its declared size).
        case tooLarge
        /// The entry's CRC-32 does not match its data.
        case checksumMismatch
        /// No entry with the requested name.
        case missingEntry
        /// Writing failed; an existing file is left untouched.
        case writeFailed
    }
    /// What kind of problem it is.
    public let kind: Kind
    /// The archive's path (or `<memory>`).
    public let path: String
    /// The entry involved, if any.
    public let entry: String?
    /// What is wrong, in words.
    public let reason: String

    /// Creates the error for `path` (and `entry`, when the problem is inside one).
    public init(_ kind: Kind, path: String, entry: String? = nil, _ reason: String) {
        self.kind = kind; self.path = path; self.entry = entry; self.reason = reason
    }
    /// `"<path>: entry '<entry>': <reason>"`.
    public var description: String {
        entry.map { "\(path): entry '\($0)': \(reason)" } ?? "\(path): \(reason)"
    }
    /// The message, for `LocalizedError`.
    public var errorDescription: String? { description }
}

/// A read-only view of a ZIP archive held in memory (or memory-mapped).
///
/// ```swift
/// let zip = try ZipArchive(url: URL(fileURLWithPath: "model.pt"))
/// for entry in zip.entries { print(entry.name, entry.uncompressedSize) }
/// let bytes = try zip.data(for: "model/data.pkl")
/// ```
public struct ZipArchive {
    /// One file in the archive, as the central directory describes it.
    public struct Entry: Sendable {
        /// The entry's path inside the archive.
        public let name: String
        /// 0 (stored) or 8 (deflated).
        public let method: UInt16
        /// The CRC-32 the central directory records for the uncompressed bytes.
        public let crc32: UInt32
        /// Bytes the entry occupies in the archive.
        public let compressedSize: Int
        /// Bytes the entry has once inflated.
        public let uncompressedSize: Int
        /// Offset of the entry's local header in the archive.
        public let localHeaderOffset: Int
    }

    /// The default cap on one entry's uncompressed size (64 GiB).
    public static let defaultMaximumEntryBytes = 64 << 30

    /// The archive's bytes.
    public let data: Data
    /// The file name used in errors.
    public let path: String
    /// Entries in central-directory order.
    public let entries: [Entry]
    /// Entries by name.
    private let index: [String: Int]
    /// Entries larger than this (uncompressed) are refused.
    public let maximumEntryBytes: Int

    /// Opens the archive at `url` (memory-mapped when possible).
    public init(url: URL, maximumEntryBytes: Int = ZipArchive.defaultMaximumEntryBytes) throws {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ZipArchiveError(.fileNotFound, path: path, "no such file")
        }
        if isDirectory.boolValue { throw ZipArchiveError(.unreadable, path: path, "is a directory") }
        let data: Data
        if let mapped = mappedFileContents(path) {
            data = mapped
        } else {
            do { data = try Data(contentsOf: url) } catch {
                throw ZipArchiveError(.unreadable, path: path, "cannot read the file: \(error.localizedDescription)")
            }
        }
        try self.init(data: data, path: path, maximumEntryBytes: maximumEntryBytes)
    }

    /// Parses an archive held in memory; `path` names it in errors.
    public init(data: Data, path: String = "<memory>", maximumEntryBytes: Int = ZipArchive.defaultMaximumEntryBytes) throws {
        self.data = data.startIndex == 0 ? data : Data(data)
        self.path = path
        self.maximumEntryBytes = maximumEntryBytes
        self.entries = try ZipArchive.readCentralDirectory(self.data, path: path)
        var index: [String: Int] = [:]
        for (i, entry) in entries.enumerated() {
            if index[entry.name] != nil { throw ZipArchiveError(.corrupt, path: path, entry: entry.name, "duplicate entry name") }
            index[entry.name] = i
        }
        self.index = index
    }

    /// The entry called `name`, if present.
    public func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The uncompressed bytes of the entry called `name`, CRC-checked unless
    /// `verifyChecksum` is false (sizes and offsets are checked either way). With
    /// `copy: false` a stored (uncompressed) entry comes back as a slice of the archive's own
    /// bytes (its indices start at the entry's offset), for a caller that copies it out once.
    ///
    /// ```swift
    /// let pickle = try zip.data(for: "archive/data.pkl")
    /// ```
    public func data(for name: String, verifyChecksum: Bool = true, copy: Bool = true) throws -> Data {
        guard let entry = entry(named: name) else {
            throw ZipArchiveError(.missingEntry, path: path, entry: name, "no such entry in the archive")
        }
        return try data(for: entry, verifyChecksum: verifyChecksum, copy: copy)
    }

    /// The uncompressed bytes of `entry`, CRC-checked unless `verifyChecksum` is false; a slice
    /// of the archive's bytes for a stored entry when `copy` is false.
    public func data(for entry: Entry, verifyChecksum: Bool = true, copy: Bool = true) throws -> Data {
        func fail(_ kind: ZipArchiveError.Kind, _ reason: String) -> ZipArchiveError {
            ZipArchiveError(kind, path: path, entry: entry.name, reason)
        }
        guard entry.uncompressedSize <= maximumEntryBytes else {
            throw fail(.tooLarge, "declares \(entry.uncompressedSize) uncompressed bytes, over the \(maximumEntryBytes)-byte limit")
        }
        let start = try dataStart(of: entry)
        let (end, overflow) = start.addingReportingOverflow(entry.compressedSize)
        guard !overflow, end <= data.count else {
            throw fail(.truncated, "data of \(entry.compressedSize) bytes at offset \(start) runs past the end of the \(data.count)-byte file")
        }
        let result: Data
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw fail(.corrupt, "stored entry has compressed size \(entry.compressedSize) ≠ uncompressed size \(entry.uncompressedSize)")
            }
            result = copy ? data.subdata(in: start..<end) : data[start..<end]
        case 8:
            // Deflate cannot expand data more than about 1032:1, so a larger declared ratio is a lie.
            guard entry.uncompressedSize / 1100 <= entry.compressedSize + 1 else {
                throw fail(.tooLarge, "declares \(entry.uncompressedSize) bytes from \(entry.compressedSize) deflated bytes, more than deflate can produce (a zip bomb?)")
            }
            result = try inflate(start: start, count: entry.compressedSize, expected: entry.uncompressedSize, fail: fail)
        default:
            throw fail(.unsupported, "compression method \(entry.method) (only stored and deflate are supported)")
        }
        guard verifyChecksum else { return result }
        let crc = ZipArchive.crc32(of: result)
        guard crc == entry.crc32 else {
            throw fail(.checksumMismatch, String(format: "CRC-32 is %08x, the directory says %08x", crc, entry.crc32))
        }
        return result
    }

    /// Offset of the entry's data: after its local header, name and extra field.
    private func dataStart(of entry: Entry) throws -> Int {
        let offset = entry.localHeaderOffset
        guard offset >= 0, offset <= data.count - 30 else {
            throw ZipArchiveError(.truncated, path: path, entry: entry.name, "local header at offset \(offset) lies past the end of the file")
        }
        let signature: UInt32 = ZipArchive.read(data, offset)
        guard signature == 0x0403_4b50 else {
            throw ZipArchiveError(.corrupt, path: path, entry: entry.name, "bad local header signature at offset \(offset)")
        }
        let nameLength = Int(ZipArchive.read(data, offset + 26) as UInt16)
        let extraLength = Int(ZipArchive.read(data, offset + 28) as UInt16)
        return offset + 30 + nameLength + extraLength
    }

    /// Inflates a raw deflate stream into at most `expected` bytes.
    private func inflate(start: Int, count: Int, expected: Int, fail: (ZipArchiveError.Kind, String) -> ZipArchiveError) throws -> Data {
        var output = Data(count: expected)
        if expected == 0 && count == 0 { return output }
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail(.corrupt, "cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        var produced = 0
        var consumed = 0
        var finished = false
        let scratch = UnsafeMutablePointer<Bytef>.allocate(capacity: 1)
        defer { scratch.deallocate() }
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            try output.withUnsafeMutableBytes { (out: UnsafeMutableRawBufferPointer) in
                while !finished {
                    let inChunk = min(count - consumed, Int(UInt32.max >> 1))
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.advanced(by: start + consumed).assumingMemoryBound(to: Bytef.self))
                    stream.avail_in = uInt(inChunk)
                    let room = expected - produced
                    let outChunk = min(room, Int(UInt32.max >> 1))
                    if outChunk > 0 {
                        stream.next_out = out.baseAddress!.advanced(by: produced).assumingMemoryBound(to: Bytef.self)
                        stream.avail_out = uInt(outChunk)
                    } else {
                        // The declared size is reached: any further output means a lie (zip bomb).
                        stream.next_out = scratch
                        stream.avail_out = 1
                    }
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    let usedIn = inChunk - Int(stream.avail_in)
                    let usedOut = (outChunk > 0 ? outChunk : 1) - Int(stream.avail_out)
                    consumed += usedIn
                    if outChunk == 0 && usedOut > 0 {
                        throw fail(.tooLarge, "inflates past its declared size of \(expected) bytes")
                    }
                    produced += usedOut
                    switch status {
                    case Z_STREAM_END: finished = true
                    case Z_OK, Z_BUF_ERROR:
                        if usedIn == 0 && usedOut == 0 {
                            throw fail(.corrupt, consumed >= count ? "deflate stream ends early (\(produced) of \(expected) bytes)" : "deflate stream makes no progress")
                        }
                    default:
                        throw fail(.corrupt, "bad deflate data (zlib status \(status))")
                    }
                }
            }
        }
        guard produced == expected else {
            throw fail(.corrupt, "inflates to \(produced) bytes, the directory says \(expected)")
        }
        return output
    }

    /// CRC-32 (the ZIP/zlib polynomial) of `bytes`.
    public static func crc32(of bytes: Data) -> UInt32 {
        bytes.withUnsafeBytes { raw -> UInt32 in
            var crc = CZlib.crc32(0, nil, 0)
            var offset = 0
            while offset < raw.count {
                let chunk = min(raw.count - offset, 1 << 30)
                crc = CZlib.crc32(crc, raw.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(chunk))
                offset += chunk
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }

    @inline(__always) static func read<T: FixedWidthInteger>(_ data: Data, _ offset: Int) -> T {
        data.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    private static func readCentralDirectory(_ data: Data, path: String) throws -> [Entry] {
        func fail(_ kind: ZipArchiveError.Kind, _ reason: String, entry: String? = nil) -> ZipArchiveError {
            ZipArchiveError(kind, path: path, entry: entry, reason)
        }
        let size = data.count
        guard size >= 22 else {
            throw fail(.notAZip, "not a ZIP archive: the file is \(size) bytes, shorter than an end-of-central-directory record")
        }
        // The end-of-central-directory record is within the last 22 + 65535 bytes.
        var eocd = -1
        var position = size - 22
        let lowest = max(0, size - 22 - 65535)
        while position >= lowest {
            if read(data, position) as UInt32 == 0x0605_4b50 {
                let commentLength = Int(read(data, position + 20) as UInt16)
                if position + 22 + commentLength <= size { eocd = position; break }
            }
            position -= 1
        }
        guard eocd >= 0 else {
            let magic = data.prefix(4)
            throw fail(.notAZip, magic == Data([0x50, 0x4b, 0x03, 0x04])
                       ? "truncated ZIP archive: no end-of-central-directory record"
                       : "not a ZIP archive: no end-of-central-directory record")
        }
        let disk: UInt16 = read(data, eocd + 4)
        let cdDisk: UInt16 = read(data, eocd + 6)
        var count = Int(read(data, eocd + 10) as UInt16)
        var cdSize = Int(read(data, eocd + 12) as UInt32)
        var cdOffset = Int(read(data, eocd + 16) as UInt32)
        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            // ZIP64: a locator just before the record points at the ZIP64 end record.
            let locator = eocd - 20
            guard locator >= 0, read(data, locator) as UInt32 == 0x0706_4b50 else {
                throw fail(.corrupt, "ZIP64 values without a ZIP64 end-of-central-directory locator")
            }
            let recordOffset: UInt64 = read(data, locator + 8)
            guard recordOffset <= UInt64(size - 56), read(data, Int(recordOffset)) as UInt32 == 0x0606_4b50 else {
                throw fail(.corrupt, "ZIP64 end-of-central-directory record missing or out of range")
            }
            let record = Int(recordOffset)
            let count64: UInt64 = read(data, record + 32)
            let size64: UInt64 = read(data, record + 40)
            let offset64: UInt64 = read(data, record + 48)
            guard count64 <= UInt64(size), size64 <= UInt64(size), offset64 <= UInt64(size) else {
                throw fail(.truncated, "ZIP64 central directory (offset \(offset64), \(size64) bytes) lies outside the \(size)-byte file")
            }
            count = Int(count64); cdSize = Int(size64); cdOffset = Int(offset64)
        } else if disk != 0 || cdDisk != 0 {
            throw fail(.unsupported, "multi-disk archives are not supported")
        }
        guard cdOffset <= size, cdSize <= size - cdOffset else {
            throw fail(.truncated, "central directory (offset \(cdOffset), \(cdSize) bytes) runs past the end of the \(size)-byte file")
        }
        guard count <= cdSize / 46 else {
            throw fail(.corrupt, "\(count) entries cannot fit in a \(cdSize)-byte central directory")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var p = cdOffset
        let cdEnd = cdOffset + cdSize
        for number in 0..<count {
            guard p + 46 <= cdEnd else { throw fail(.truncated, "central directory ends inside entry \(number)") }
            guard read(data, p) as UInt32 == 0x0201_4b50 else {
                throw fail(.corrupt, "bad central directory signature for entry \(number) at offset \(p)")
            }
            let flags: UInt16 = read(data, p + 8)
            let method: UInt16 = read(data, p + 10)
            let crc: UInt32 = read(data, p + 16)
            var compressed = UInt64(read(data, p + 20) as UInt32)
            var uncompressed = UInt64(read(data, p + 24) as UInt32)
            let nameLength = Int(read(data, p + 28) as UInt16)
            let extraLength = Int(read(data, p + 30) as UInt16)
            let commentLength = Int(read(data, p + 32) as UInt16)
            var localOffset = UInt64(read(data, p + 42) as UInt32)
            let next = p + 46 + nameLength + extraLength + commentLength
            guard next <= cdEnd else { throw fail(.truncated, "central directory ends inside entry \(number)") }
            let nameBytes = data.subdata(in: (p + 46)..<(p + 46 + nameLength))
            let name = String(decoding: nameBytes, as: UTF8.self)
            if flags & 1 != 0 { throw fail(.unsupported, "encrypted entries are not supported", entry: name) }
            // ZIP64 extended information: the 64-bit values of the fields saturated above.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id: UInt16 = read(data, e)
                let length = Int(read(data, e + 2) as UInt16)
                guard e + 4 + length <= extraEnd else { throw fail(.corrupt, "malformed extra field", entry: name) }
                if id == 0x0001 {
                    var f = e + 4
                    func next64() throws -> UInt64 {
                        guard f + 8 <= e + 4 + length else { throw fail(.corrupt, "short ZIP64 extra field", entry: name) }
                        defer { f += 8 }
                        return read(data, f)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next64() }
                    if compressed == 0xFFFF_FFFF { compressed = try next64() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next64() }
                }
                e += 4 + length
            }
            guard compressed <= UInt64(size), localOffset <= UInt64(size) else {
                throw fail(.truncated, "entry data (offset \(localOffset), \(compressed) bytes) lies outside the \(size)-byte file", entry: name)
            }
            guard uncompressed <= UInt64(Int.max / 2) else { throw fail(.tooLarge, "declares \(uncompressed) bytes", entry: name) }
            entries.append(Entry(name: name, method: method, crc32: crc, compressedSize: Int(compressed),
                                 uncompressedSize: Int(uncompressed), localHeaderOffset: Int(localOffset)))
            p = next
        }
        return entries
    }
}

/// Builds a ZIP archive of stored (uncompressed) entries in memory, with each entry's data
/// aligned to `alignment` bytes (64, as torch writes), and ZIP64 records where needed.
///
/// ```swift
/// var writer = ZipWriter()
/// writer.add("archive/version", Data("3\n".utf8))
/// try writeAtomically(writer.finish(), to: url)
/// ```
public struct ZipWriter {
    private var output = Data()
    private var central = Data()
    private var count = 0
    private var needsZip64 = false
    /// Data alignment in bytes.
    public let alignment: Int
    /// Sizes and offsets at or above this go into ZIP64 fields (tests lower it).
    let zip64Threshold: UInt64

    /// A writer whose stored entries start at multiples of `alignment` bytes (for memory-mapping).
    public init(alignment: Int = 64) { self.init(alignment: alignment, zip64Threshold: 0xFFFF_FFFF) }

    init(alignment: Int, zip64Threshold: UInt64) {
        self.alignment = max(1, alignment)
        self.zip64Threshold = zip64Threshold
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    /// Appends an entry, stored (the default, data aligned) or deflated (`compress: true`).
    public mutating func add(_ name: String, _ bytes: Data, compress: Bool = false) {
        let nameBytes = Data(name.utf8)
        let crc = ZipArchive.crc32(of: bytes)
        let offset = UInt64(output.count)
        let payload = compress ? ZipWriter.deflate(bytes) : bytes
        let method: UInt16 = compress ? 8 : 0
        let size = UInt64(bytes.count)
        let compressedSize = UInt64(payload.count)
        let bigSize = size >= zip64Threshold || compressedSize >= zip64Threshold
        let bigOffset = offset >= zip64Threshold
        // Local header: ZIP64 extra carries both sizes when they do not fit.
        var localExtra = Data()
        if bigSize {
            ZipWriter.append(UInt16(1), to: &localExtra); ZipWriter.append(UInt16(16), to: &localExtra)
            ZipWriter.append(size, to: &localExtra); ZipWriter.append(compressedSize, to: &localExtra)
        }
        // Pad with an extra field ("FB", as torch) so the data starts on an aligned offset.
        let headerEnd = output.count + 30 + nameBytes.count + localExtra.count
        let padding = (alignment - (headerEnd + 4) % alignment) % alignment
        if alignment > 1 {
            ZipWriter.append(UInt16(0x4246), to: &localExtra)
            ZipWriter.append(UInt16(padding), to: &localExtra)
            localExtra.append(Data(count: padding))
        }
        let version: UInt16 = (bigSize || bigOffset) ? 45 : 20
        let size32 = bigSize ? UInt32.max : UInt32(size)
        let compressed32 = bigSize ? UInt32.max : UInt32(compressedSize)
        ZipWriter.append(UInt32(0x0403_4b50), to: &output)
        ZipWriter.append(version, to: &output)
        ZipWriter.append(UInt16(0), to: &output)          // flags
        ZipWriter.append(method, to: &output)
        ZipWriter.append(UInt16(0), to: &output)          // time
        ZipWriter.append(UInt16(0x21), to: &output)       // date: 1980-01-01
        ZipWriter.append(crc, to: &output)
        ZipWriter.append(compressed32, to: &output)
        ZipWriter.append(size32, to: &output)
        ZipWriter.append(UInt16(nameBytes.count), to: &output)
        ZipWriter.append(UInt16(localExtra.count), to: &output)
        output.append(nameBytes)
        output.append(localExtra)
        output.append(payload)
        // Central directory record.
        var centralExtra = Data()
        if bigSize || bigOffset {
            var fields = Data()
            if bigSize { ZipWriter.append(size, to: &fields); ZipWriter.append(compressedSize, to: &fields) }
            if bigOffset { ZipWriter.append(offset, to: &fields) }
            ZipWriter.append(UInt16(1), to: &centralExtra); ZipWriter.append(UInt16(fields.count), to: &centralExtra)
            centralExtra.append(fields)
            needsZip64 = true
        }
        ZipWriter.append(UInt32(0x0201_4b50), to: &central)
        ZipWriter.append(version, to: &central)   // made by
        ZipWriter.append(version, to: &central)   // needed
        ZipWriter.append(UInt16(0), to: &central)  // flags
        ZipWriter.append(method, to: &central)
        ZipWriter.append(UInt16(0), to: &central)
        ZipWriter.append(UInt16(0x21), to: &central)
        ZipWriter.append(crc, to: &central)
        ZipWriter.append(compressed32, to: &central)
        ZipWriter.append(size32, to: &central)
        ZipWriter.append(UInt16(nameBytes.count), to: &central)
        ZipWriter.append(UInt16(centralExtra.count), to: &central)
        ZipWriter.append(UInt16(0), to: &central)  // comment
        ZipWriter.append(UInt16(0), to: &central)  // disk
        ZipWriter.append(UInt16(0), to: &central)  // internal attributes
        ZipWriter.append(UInt32(0), to: &central)  // external attributes
        ZipWriter.append(bigOffset ? UInt32.max : UInt32(offset), to: &central)
        central.append(nameBytes)
        central.append(centralExtra)
        count += 1
    }

    /// Raw deflate (no zlib header) of `bytes`, as ZIP stores it.
    static func deflate(_ bytes: Data) -> Data {
        var stream = z_stream()
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { fatalError("deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        var input = [UInt8](bytes)
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 64
        var output = [UInt8](repeating: 0, count: bound)
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                let status = CZlib.deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate: zlib status \(status)")
                return outBuf.count - Int(stream.avail_out)
            }
        }
        return Data(output[0..<produced])
    }

    /// The finished archive: entries, central directory and end records.
    public mutating func finish() -> Data {
        var result = output
        let cdOffset = UInt64(result.count)
        let cdSize = UInt64(central.count)
        result.append(central)
        let zip64 = needsZip64 || cdOffset >= zip64Threshold || cdSize >= zip64Threshold || count >= 0xFFFF
        if zip64 {
            let recordOffset = UInt64(result.count)
            ZipWriter.append(UInt32(0x0606_4b50), to: &result)
            ZipWriter.append(UInt64(44), to: &result)
            ZipWriter.append(UInt16(45), to: &result)
            ZipWriter.append(UInt16(45), to: &result)
            ZipWriter.append(UInt32(0), to: &result)
            ZipWriter.append(UInt32(0), to: &result)
            ZipWriter.append(UInt64(count), to: &result)
            ZipWriter.append(UInt64(count), to: &result)
            ZipWriter.append(cdSize, to: &result)
            ZipWriter.append(cdOffset, to: &result)
            ZipWriter.append(UInt32(0x0706_4b50), to: &result)
            ZipWriter.append(UInt32(0), to: &result)
            ZipWriter.append(recordOffset, to: &result)
            ZipWriter.append(UInt32(1), to: &result)
        }
        ZipWriter.append(UInt32(0x0605_4b50), to: &result)
        ZipWriter.append(UInt16(0), to: &result)
        ZipWriter.append(UInt16(0), to: &result)
        ZipWriter.append(zip64 ? UInt16.max : UInt16(count), to: &result)
        ZipWriter.append(zip64 ? UInt16.max : UInt16(count), to: &result)
        ZipWriter.append(zip64 ? UInt32.max : UInt32(cdSize), to: &result)
        ZipWriter.append(zip64 ? UInt32.max : UInt32(cdOffset), to: &result)
        ZipWriter.append(UInt16(0), to: &result)
        return result
    }
}
