// Reading and writing safetensors files (Hugging Face's format): an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte range, then the
// raw little-endian data.
import Foundation

/// Loads and saves tensors in the safetensors format.
///
/// ```swift
/// try Safetensors.save(model.stateDict(), to: URL(fileURLWithPath: "model.safetensors"))
/// let weights = try Safetensors.load(URL(fileURLWithPath: "model.safetensors"))
/// ```
public enum Safetensors {
    /// Largest header accepted (the reference implementation's limit is 100 MB).
    static let maximumHeaderBytes = 100_000_000

    /// The tensors of a file by name (CPU, contiguous).
    ///
    /// - Throws: `SafetensorsError` naming the file and the problem for a missing,
    ///   truncated or malformed file.
    public static func load(_ url: URL) throws -> [String: Tensor] {
        try loadWithMetadata(url).tensors
    }

    /// The tensors of a file and its free-form `__metadata__` strings.
    public static func loadWithMetadata(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw SafetensorsError(path: url.path, reason: "cannot read the file (\(error.localizedDescription))")
        }
        return try decode(data, path: url.path)
    }

    /// Decodes the bytes of a safetensors file; `path` only labels errors.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func fail(_ reason: String) -> SafetensorsError { SafetensorsError(path: path, reason: reason) }
        guard data.count >= 8 else { throw fail("file is \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) }
        guard headerLength <= UInt64(maximumHeaderBytes) else { throw fail("header length \(headerLength) exceeds the \(maximumHeaderBytes)-byte limit") }
        guard 8 + Int(headerLength) <= data.count else {
            throw fail("truncated: header needs \(headerLength) bytes but only \(data.count - 8) follow")
        }
        let headerBytes = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(headerLength)))
        guard let object = try? JSONSerialization.jsonObject(with: headerBytes), let header = object as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let bufferStart = 8 + Int(headerLength)
        let bufferLength = data.count - bufferStart
        var metadata: [String: String] = [:]
        var tensors: [String: Tensor] = [:]
        var ranges: [(Int, Int, String)] = []
        for (name, entry) in header {
            if name == "__metadata__" {
                guard let values = entry as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (key, value) in values {
                    guard let text = value as? String else { throw fail("__metadata__ value for '\(key)' is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let info = entry as? [String: Any] else { throw fail("entry '\(name)' is not an object") }
            guard let code = info["dtype"] as? String, let dtype = dtypeByCode[code] else {
                throw fail("tensor '\(name)' has unsupported dtype \(info["dtype"].map { "\($0)" } ?? "(missing)")")
            }
            guard let shapeValues = info["shape"] as? [Any], let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor '\(name)' has an invalid shape")
            }
            guard let offsetValues = info["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2,
                  offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw fail("tensor '\(name)' has invalid data_offsets")
            }
            guard offsets[1] <= bufferLength else {
                throw fail("truncated: tensor '\(name)' ends at byte \(offsets[1]) of a \(bufferLength)-byte data section")
            }
            var elements = 1
            for size in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: size)
                guard !overflow else { throw fail("tensor '\(name)' shape \(shape) is too large") }
                elements = product
            }
            guard elements * dtype.itemSize == offsets[1] - offsets[0] else {
                throw fail("tensor '\(name)' of shape \(shape) and dtype \(code) needs \(elements * dtype.itemSize) bytes, data_offsets span \(offsets[1] - offsets[0])")
            }
            ranges.append((offsets[0], offsets[1], name))
            let tensor = Tensor.empty(shape, dtype: dtype)
            if elements > 0 {
                data.withUnsafeBytes { raw in
                    tensor.rawPointer.copyMemory(from: raw.baseAddress! + bufferStart + offsets[0], byteCount: offsets[1] - offsets[0])
                }
            }
            tensors[name] = tensor
        }
        // The byte ranges must tile the data section exactly: no overlaps, no holes.
        ranges.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        var expected = 0
        for (start, end, name) in ranges {
            guard start == expected else {
                throw fail(start < expected ? "tensor '\(name)' overlaps the previous tensor's bytes" : "hole in the data section before tensor '\(name)'")
            }
            expected = end
        }
        guard expected == bufferLength else { throw fail("data section has \(bufferLength - expected) trailing bytes not used by any tensor") }
        return (tensors, metadata)
    }

    /// Writes tensors to `url` atomically (an existing file is replaced only when the whole
    /// new file is written). Tensors are saved in name order, contiguous, little-endian.
    ///
    /// - Parameters:
    ///   - tensors: tensors by name (any device; copied to the CPU).
    ///   - metadata: optional free-form strings stored under `__metadata__`.
    public static func save(_ tensors: [String: Tensor], to url: URL, metadata: [String: String]? = nil) throws {
        try writeAtomically(encode(tensors, metadata: metadata), to: url)
    }

    /// The bytes of a safetensors file holding `tensors`.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String]? = nil) -> Data {
        let names = tensors.keys.sorted()
        var header: [String: Any] = [:]
        var offset = 0
        var payloads: [Tensor] = []
        for name in names {
            let tensor = noGrad { tensors[name]!.to(.cpu).contiguous() }
            let bytes = tensor.count * tensor.dtype.itemSize
            header[name] = ["dtype": code(for: tensor.dtype), "shape": tensor.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
            payloads.append(tensor)
        }
        if let metadata { header["__metadata__"] = metadata }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        // Pad the header with spaces to a multiple of 8 bytes, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for tensor in payloads where tensor.count > 0 {
            out.append(Data(bytes: tensor.rawPointer, count: tensor.count * tensor.dtype.itemSize))
        }
        return out
    }

    private static let dtypeByCode: [String: DType] = [
        "F32": .float32, "F64": .float64, "F16": .float16, "BF16": .bfloat16,
        "I64": .int64, "I32": .int32, "U8": .uint8, "BOOL": .bool,
    ]

    private static func code(for dtype: DType) -> String {
        dtypeByCode.first { $0.value == dtype }!.key
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            guard let number = value as? NSNumber, number.doubleValue.rounded() == number.doubleValue,
                  Swift.abs(number.doubleValue) < 9e15 else { return nil }
            result.append(number.intValue)
        }
        return result
    }
}

/// A safetensors file could not be read.
public struct SafetensorsError: Error, CustomStringConvertible {
    /// The file.
    public let path: String
    /// What is wrong with it.
    public let reason: String
    public var description: String { "\(path): invalid safetensors file: \(reason)" }
}
