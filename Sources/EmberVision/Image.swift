// Decoded 8-bit images (RGB or gray, interleaved rows) and reading them from JPEG/PNG files.
import Foundation

/// An 8-bit image: `height` rows of `width` pixels, each of `channels` bytes (3 for RGB,
/// 1 for gray), interleaved, top row first.
///
/// Files are decoded with libjpeg-turbo and libpng into RGB, as torchvision's loader does
/// with PIL (`Image.open(f).convert("RGB")`): gray is replicated, palettes are expanded,
/// alpha is dropped and 16-bit samples keep their high byte. The format is recognised by
/// the file's first bytes, not its extension. EXIF orientation is not applied.
///
/// ```swift
/// let image = try Image(contentsOf: URL(fileURLWithPath: "flower.jpg"))
/// print(image.width, image.height)          // 640 427
/// let (r, g, b) = (image[0, 0, 0], image[0, 0, 1], image[0, 0, 2])
/// ```
public struct Image: Equatable, Sendable {
    /// Pixels per row.
    public let width: Int
    /// Number of rows.
    public let height: Int
    /// Bytes per pixel: 3 (RGB) or 1 (gray).
    public let channels: Int
    /// `height × width × channels` bytes, row-major, channels interleaved.
    public let pixels: [UInt8]

    /// The most pixels a decoder accepts: a file declaring more throws
    /// ``ImageError/tooLarge(file:format:width:height:limit:)`` before anything is allocated
    /// (a few bytes of header can declare 65535 × 65535). The default, 178 956 970, is where
    /// PIL raises `DecompressionBombError`.
    ///
    /// ```swift
    /// Image.maximumPixels = 400_000_000   // allow scans up to 20000 × 20000
    /// ```
    public static var maximumPixels = 178_956_970

    /// The signature both C decode shims share (`ember_jpeg_decode_rgb`, `ember_png_decode_rgb`):
    /// bytes and their count, then the out-parameters pixels (a `malloc`ed `width × height × 3`
    /// buffer), width and height, the pixel limit, and a buffer for the library's message.
    /// Returns 0 (decoded), 1 (corrupt), 2 (unsupported variant) or 3 (over the limit).
    typealias DecodeShim = (UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>,
                            UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, Int, UnsafeMutablePointer<CChar>?, Int) -> Int32

    /// Runs a C decode shim on `data` and turns its status into an RGB image or an
    /// ``ImageError`` naming `name` and `format`.
    static func decodeRGB(_ data: Data, name: String, format: String, with shim: DecodeShim) throws -> Image {
        var pixels: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0
        var message = [CChar](repeating: 0, count: 512)
        let status = data.withUnsafeBytes { raw -> Int32 in
            message.withUnsafeMutableBufferPointer { text in
                shim(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &pixels, &width, &height,
                     maximumPixels, text.baseAddress, text.count)
            }
        }
        let reason = String(cString: message)
        switch status {
        case 0: break
        case 2: throw ImageError.unsupported(file: name, format: format, reason: reason)
        case 3: throw ImageError.tooLarge(file: name, format: format, width: Int(width), height: Int(height), limit: maximumPixels)
        default: throw ImageError.corrupt(file: name, format: format, reason: reason)
        }
        guard let pixels else { throw ImageError.corrupt(file: name, format: format, reason: "the decoder returned no pixels") }
        defer { free(pixels) }
        return Image(width: Int(width), height: Int(height), channels: 3,
                     pixels: [UInt8](UnsafeBufferPointer(start: pixels, count: Int(width) * Int(height) * 3)))
    }

    /// An image from raw interleaved pixels.
    ///
    /// - Parameters:
    ///   - width: pixels per row (positive).
    ///   - height: rows (positive).
    ///   - channels: 1 (gray) or 3 (RGB).
    ///   - pixels: `height × width × channels` bytes.
    ///
    /// ```swift
    /// let red = Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 255, 0, 0])
    /// ```
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "Image: width and height must be positive, got \(width)×\(height)")
        precondition(channels == 1 || channels == 3, "Image: channels must be 1 (gray) or 3 (RGB), got \(channels)")
        precondition(pixels.count == width * height * channels,
                     "Image: \(pixels.count) bytes for a \(width)×\(height) image with \(channels) channels (needs \(width * height * channels))")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Reads and decodes a JPEG or PNG file.
    ///
    /// - Parameter url: the file; its format is detected from its first bytes.
    /// - Throws: ``ImageError`` naming the file: unreadable, not JPEG/PNG, corrupt or truncated.
    ///
    /// ```swift
    /// let image = try Image(contentsOf: URL(fileURLWithPath: "china.jpg"))
    /// ```
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? error.localizedDescription : "no such file"
            throw ImageError.unreadable(file: url.path, reason: reason)
        }
        try self.init(decoding: data, name: url.path)
    }

    /// Decodes JPEG or PNG bytes held in memory.
    ///
    /// - Parameters:
    ///   - data: the encoded file.
    ///   - name: the name used in errors.
    /// - Throws: ``ImageError``.
    ///
    /// ```swift
    /// let image = try Image(decoding: pngBytes, name: "upload.png")
    /// ```
    public init(decoding data: Data, name: String = "<memory>") throws {
        let bytes = [UInt8](data.prefix(8))
        if bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF {
            self = try JPEGDecoder.decode(data, name: name)
        } else if bytes.count >= 8 && bytes == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
            self = try PNGDecoder.decode(data, name: name)
        } else {
            throw ImageError.unknownFormat(file: name, firstBytes: bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " "))
        }
    }

    /// The byte of `channel` at column `x`, row `y`.
    ///
    /// ```swift
    /// let green = image[10, 20, 1]   // x = 10, y = 20
    /// ```
    public subscript(x: Int, y: Int, channel: Int) -> UInt8 {
        precondition(x >= 0 && x < width && y >= 0 && y < height && channel >= 0 && channel < channels,
                     "Image: pixel (\(x), \(y), channel \(channel)) is outside a \(width)×\(height)×\(channels) image")
        return pixels[(y * width + x) * channels + channel]
    }

    /// This image with three channels: gray is replicated into R, G and B (RGB is returned as is).
    ///
    /// ```swift
    /// let rgb = gray.rgb()   // rgb.channels == 3
    /// ```
    public func rgb() -> Image {
        if channels == 3 { return self }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            out[3 * i] = pixels[i]; out[3 * i + 1] = pixels[i]; out[3 * i + 2] = pixels[i]
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }
}
