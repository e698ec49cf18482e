// Cropping the centre of an image, as torchvision's CenterCrop.

/// Cuts a `width × height` window out of the middle of an ``Image``
/// (`torchvision.transforms.CenterCrop`). The offsets are `round((W − width) / 2)` and
/// `round((H − height) / 2)` with Python's rounding (halves to even), so odd margins match
/// torchvision's pixel for pixel. An image smaller than the crop is padded with zeros first,
/// as torchvision does.
///
/// ```swift
/// let crop = CenterCrop(size: 224)(Resize(shorterSide: 256)(image))   // 224×224
/// ```
public struct CenterCrop: Sendable {
    /// Width of the window.
    public let width: Int
    /// Height of the window.
    public let height: Int

    /// A square crop (`CenterCrop(224)`).
    ///
    /// ```swift
    /// let crop = CenterCrop(size: 224)
    /// ```
    public init(size: Int) { self.init(width: size, height: size) }

    /// A `width × height` crop.
    ///
    /// ```swift
    /// let crop = CenterCrop(width: 200, height: 100)
    /// ```
    public init(width: Int, height: Int) {
        precondition(width > 0 && height > 0, "CenterCrop: the size must be positive, got \(width)×\(height)")
        self.width = width
        self.height = height
    }

    /// The top-left corner of the window in `image` (negative when the image is padded).
    ///
    /// ```swift
    /// CenterCrop(size: 224).origin(width: 383, height: 256)   // (x: 80, y: 16)
    /// ```
    public func origin(width imageWidth: Int, height imageHeight: Int) -> (x: Int, y: Int) {
        // torchvision pads (left/top by (crop − size) / 2, floor) before centring.
        let padLeft = width > imageWidth ? (width - imageWidth) / 2 : 0
        let padTop = height > imageHeight ? (height - imageHeight) / 2 : 0
        let paddedWidth = width > imageWidth ? width : imageWidth, paddedHeight = height > imageHeight ? height : imageHeight
        let left = Int((Double(paddedWidth - width) / 2).rounded(.toNearestOrEven))
        let top = Int((Double(paddedHeight - height) / 2).rounded(.toNearestOrEven))
        return (left - padLeft, top - padTop)
    }

    /// Returns the centre window of `image`.
    ///
    /// ```swift
    /// let middle = CenterCrop(size: 8)(image)
    /// ```
    public func callAsFunction(_ image: Image) -> Image {
        let (x0, y0) = origin(width: image.width, height: image.height)
        let channels = image.channels
        if x0 == 0 && y0 == 0 && width == image.width && height == image.height { return image }
        var out = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            let sy = y + y0
            if sy < 0 || sy >= image.height { continue }
            for x in 0..<width {
                let sx = x + x0
                if sx < 0 || sx >= image.width { continue }
                let s = (sy * image.width + sx) * channels, d = (y * width + x) * channels
                for c in 0..<channels { out[d + c] = image.pixels[s + c] }
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }
}
