// JPEG decoding through libjpeg-turbo's C API (the setjmp-guarded decode lives in CJPEG's shim.h).
import CJPEG
import Foundation

/// Decodes JPEG files with libjpeg-turbo (integer IDCT, fancy upsampling: libjpeg's and PIL's
/// defaults) into RGB; grayscale JPEGs are expanded to RGB. Progressive JPEGs work; CMYK and
/// YCCK do not. A truncated file is an error (libjpeg alone would pad it with grey).
///
/// ```swift
/// let image = try JPEGDecoder.decode(try Data(contentsOf: url), name: url.path)
/// ```
public enum JPEGDecoder {
    /// Decodes `data`; errors name `name`.
    ///
    /// - Parameters:
    ///   - data: a JPEG file's bytes.
    ///   - name: the file name used in errors.
    /// - Returns: an RGB ``Image``.
    /// - Throws: ``ImageError/corrupt(file:format:reason:)`` with libjpeg's message, or
    ///   ``ImageError/unsupported(file:format:reason:)`` for CMYK/YCCK,
    ///   ``ImageError/tooLarge(file:format:width:height:limit:)`` past `Image.maximumPixels`.
    public static func decode(_ data: Data, name: String) throws -> Image {
        var pixels: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0
        var message = [CChar](repeating: 0, count: 512)
        let status = data.withUnsafeBytes { raw -> Int32 in
            message.withUnsafeMutableBufferPointer { text in
                ember_jpeg_decode_rgb(raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), &pixels,
                                      &width, &height, Image.maximumPixels, text.baseAddress, text.count)
            }
        }
        let reason = String(cString: message)
        switch status {
        case 0: break
        case 2: throw ImageError.unsupported(file: name, format: "JPEG", reason: reason)
        case 3: throw ImageError.tooLarge(file: name, format: "JPEG", width: Int(width), height: Int(height), limit: Image.maximumPixels)
        default: throw ImageError.corrupt(file: name, format: "JPEG", reason: reason)
        }
        guard let pixels else { throw ImageError.corrupt(file: name, format: "JPEG", reason: "the decoder returned no pixels") }
        return Image(takingDecodedRGB: pixels, width: Int(width), height: Int(height))
    }
}
