// PNG decoding through libpng's C API (the setjmp-guarded decode lives in CPNG's shim.h).
import CPNG
import Foundation

/// Decodes PNG files with libpng into RGB, as PIL's `convert("RGB")`: palettes are expanded,
/// 1/2/4-bit gray is scaled to 8 bits, 16-bit samples keep their high byte, gray is
/// replicated, and alpha or tRNS transparency is dropped (not composited). Interlaced files work.
/// Checksums are verified: a bad CRC or a truncated file is an error.
///
/// ```swift
/// let image = try PNGDecoder.decode(try Data(contentsOf: url), name: url.path)
/// ```
public enum PNGDecoder {
    /// Decodes `data`; errors name `name`.
    ///
    /// - Parameters:
    ///   - data: a PNG file's bytes.
    ///   - name: the file name used in errors.
    /// - Returns: an RGB ``Image``.
    /// - Throws: ``ImageError/corrupt(file:format:reason:)`` with libpng's message,
    ///   ``ImageError/tooLarge(file:format:width:height:limit:)`` past `Image.maximumPixels`.
    public static func decode(_ data: Data, name: String) throws -> Image {
        try Image.decodeRGB(data, name: name, format: "PNG") { ember_png_decode_rgb($0, $1, $2, $3, $4, $5, $6, $7) }
    }
}
