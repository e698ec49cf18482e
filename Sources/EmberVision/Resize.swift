// Resizing 8-bit images with PIL's bilinear filter (antialiased when shrinking), as
// torchvision's Resize does for PIL images.

/// Resizes an ``Image`` with a bilinear (triangle) filter whose support widens by the scale
/// factor when shrinking, so every source pixel contributes (antialiasing): the algorithm of
/// PIL's `Image.resize(size, Image.BILINEAR)`, which `torchvision.transforms.Resize` calls for
/// PIL images. It reproduces PIL's pixels exactly: weights are computed in double precision,
/// normalised per output pixel, converted to 22-bit fixed point, and each pass (horizontal,
/// then vertical) rounds and clamps to 8 bits.
///
/// For output pixel `i` of a pass with scale `s = in/out` and support `r = max(s, 1)`, the
/// weights are `w_j ∝ max(0, 1 − |j + 0.5 − (i + 0.5)·s| / r)` over source pixels `j`.
///
/// ```swift
/// let resized = Resize(shorterSide: 256)(image)              // 640×427 → 383×256
/// let exact = Resize(width: 32, height: 24)(image)
/// ```
public struct Resize: Sendable {
    /// The requested output size.
    public enum Size: Sendable, Equatable {
        /// The shorter side becomes this long; the longer side keeps the aspect ratio
        /// (truncated, as torchvision: `Int(size · long / short)`).
        case shorterSide(Int)
        /// Exactly this width and height.
        case exact(width: Int, height: Int)
    }

    /// The requested output size.
    public let size: Size

    /// Resizes so that the shorter side is `shorterSide` pixels (`transforms.Resize(256)`).
    ///
    /// ```swift
    /// let resize = Resize(shorterSide: 256)
    /// ```
    public init(shorterSide: Int) {
        precondition(shorterSide > 0, "Resize: the shorter side must be positive, got \(shorterSide)")
        size = .shorterSide(shorterSide)
    }

    /// Resizes to exactly `width × height` (`transforms.Resize((height, width))`).
    ///
    /// ```swift
    /// let resize = Resize(width: 224, height: 224)
    /// ```
    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "Resize: the size must be positive, got \(width)×\(height)")
        size = .exact(width: width, height: height)
    }

    /// The output size for an input of `width × height`.
    ///
    /// ```swift
    /// Resize(shorterSide: 256).outputSize(width: 640, height: 427)   // (383, 256)
    /// ```
    public func outputSize(width: Int, height: Int) -> (width: Int, height: Int) {
        switch size {
        case let .exact(w, h): return (w, h)
        case let .shorterSide(side):
            let short = min(width, height), long = max(width, height)
            let newLong = Int(Double(side * long) / Double(short))
            return width <= height ? (side, newLong) : (newLong, side)
        }
    }

    /// Returns `image` resized.
    ///
    /// ```swift
    /// let small = Resize(width: 64, height: 48)(image)
    /// ```
    public func callAsFunction(_ image: Image) -> Image {
        let (outWidth, outHeight) = outputSize(width: image.width, height: image.height)
        var result = image
        if outWidth != image.width {
            result = Self.horizontalPass(result, to: outWidth)
        }
        if outHeight != image.height {
            result = Self.verticalPass(result, to: outHeight)
        }
        return result
    }

    // MARK: PIL's fixed-point two-pass resampling

    /// Bits of the fixed-point weights (PIL's `PRECISION_BITS`, 32 − 8 − 2).
    private static let precisionBits = 22

    /// Per output pixel: the first source pixel, how many follow, and their fixed-point weights
    /// (`kernelSize` slots each).
    private struct Coefficients {
        var first: [Int]
        var count: [Int]
        var weights: [Int]
        var kernelSize: Int
    }

    /// PIL's `precompute_coeffs` with the bilinear filter, then `normalize_coeffs_8bpc`.
    private static func coefficients(inSize: Int, outSize: Int) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale
        let kernelSize = Int(support.rounded(.up)) * 2 + 1
        var result = Coefficients(first: [Int](repeating: 0, count: outSize), count: [Int](repeating: 0, count: outSize),
                                  weights: [Int](repeating: 0, count: outSize * kernelSize), kernelSize: kernelSize)
        var k = [Double](repeating: 0, count: kernelSize)
        let one = Double(1 << precisionBits)
        for i in 0..<outSize {
            let center = (Double(i) + 0.5) * scale
            let ss = 1.0 / filterScale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                var t = (Double(x + xmin) - center + 0.5) * ss
                if t < 0 { t = -t }
                let w = t < 1.0 ? 1.0 - t : 0.0
                k[x] = w
                total += w
            }
            for x in 0..<max(xmax, 0) {
                if total != 0 { k[x] /= total }
                let v = k[x] * one
                result.weights[i * kernelSize + x] = k[x] < 0 ? Int(-0.5 + v) : Int(0.5 + v)
            }
            result.first[i] = xmin
            result.count[i] = max(xmax, 0)
        }
        return result
    }

    /// Rounds a fixed-point sum (which already holds the ½ offset) to a byte, clamping.
    @inline(__always)
    private static func clip8(_ sum: Int) -> UInt8 {
        let v = sum >> precisionBits
        return UInt8(truncatingIfNeeded: v < 0 ? 0 : (v > 255 ? 255 : v))
    }

    private static func horizontalPass(_ image: Image, to outWidth: Int) -> Image {
        let c = coefficients(inSize: image.width, outSize: outWidth)
        let channels = image.channels, inRow = image.width * channels, outRow = outWidth * channels
        var out = [UInt8](repeating: 0, count: outRow * image.height)
        let half = 1 << (precisionBits - 1)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<image.height {
                    for x in 0..<outWidth {
                        let first = c.first[x], n = c.count[x], k = x * c.kernelSize
                        for ch in 0..<channels {
                            var sum = half
                            var p = y * inRow + first * channels + ch
                            for j in 0..<n {
                                sum += Int(src[p]) * c.weights[k + j]
                                p += channels
                            }
                            dst[y * outRow + x * channels + ch] = clip8(sum)
                        }
                    }
                }
            }
        }
        return Image(width: outWidth, height: image.height, channels: channels, pixels: out)
    }

    private static func verticalPass(_ image: Image, to outHeight: Int) -> Image {
        let c = coefficients(inSize: image.height, outSize: outHeight)
        let row = image.width * image.channels
        var out = [UInt8](repeating: 0, count: row * outHeight)
        let half = 1 << (precisionBits - 1)
        var sums = [Int](repeating: 0, count: row)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outHeight {
                    let first = c.first[y], n = c.count[y], k = y * c.kernelSize
                    for i in 0..<row { sums[i] = half }
                    for j in 0..<n {
                        let w = c.weights[k + j], base = (first + j) * row
                        for i in 0..<row { sums[i] += Int(src[base + i]) * w }
                    }
                    for i in 0..<row { dst[y * row + i] = clip8(sums[i]) }
                }
            }
        }
        return Image(width: image.width, height: outHeight, channels: image.channels, pixels: out)
    }
}
