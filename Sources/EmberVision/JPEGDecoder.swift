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
        try Image.decodeRGB(data, name: name, format: "JPEG") { ember_jpeg_decode_rgb($0, UInt($1), $2, $3, $4, $5, $6, $7) }
    }
}
