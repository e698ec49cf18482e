// torchvision's standard ImageNet evaluation preprocessing: resize 256, centre crop 224,
// to a float tensor in [0, 1], normalise with ImageNet's mean and standard deviation.
import Ember
import EmberData
import Foundation

/// The evaluation preprocessing of torchvision's ImageNet classifiers:
///
/// ```python
/// Compose([Resize(256), CenterCrop(224), ToTensor(),
///          Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
/// ```
///
/// ``Resize`` and ``CenterCrop`` reproduce PIL's pixels exactly, and the tensor steps use
/// EmberData's `ToTensor` and `Normalize` (float32, same arithmetic as torchvision), so a
/// decoded image gives torchvision's tensor.
///
/// ```swift
/// let preprocess = ImageNetPreprocessing()
/// let x = preprocess(try Image(contentsOf: url))          // [3, 224, 224]
/// let batch = preprocess.batch([imageA, imageB])           // [2, 3, 224, 224]
/// ```
public struct ImageNetPreprocessing: Sendable {
    /// ImageNet's per-channel mean (R, G, B).
    public static let mean: [Double] = [0.485, 0.456, 0.406]
    /// ImageNet's per-channel standard deviation (R, G, B).
    public static let std: [Double] = [0.229, 0.224, 0.225]

    /// The resize step (shorter side to 256 by default).
    public let resize: Resize
    /// The crop step (224 × 224 by default).
    public let crop: CenterCrop

    /// The pipeline with the given sizes.
    ///
    /// - Parameters:
    ///   - resizeShorterSide: the shorter side after resizing (256).
    ///   - cropSize: the side of the square centre crop (224).
    ///
    /// ```swift
    /// let preprocess = ImageNetPreprocessing(resizeShorterSide: 256, cropSize: 224)
    /// ```
    public init(resizeShorterSide: Int = 256, cropSize: Int = 224) {
        resize = Resize(shorterSide: resizeShorterSide)
        crop = CenterCrop(size: cropSize)
    }

    /// The resized and cropped 8-bit image, before conversion to a tensor.
    ///
    /// ```swift
    /// let shown = ImageNetPreprocessing().cropped(image)   // 224×224 RGB
    /// ```
    public func cropped(_ image: Image) -> Image { crop(resize(image.rgb())) }

    /// The normalised float32 tensor `[3, crop, crop]` for `image`.
    ///
    /// ```swift
    /// let x = ImageNetPreprocessing()(image)
    /// ```
    public func callAsFunction(_ image: Image) -> Tensor {
        let small = cropped(image)
        let x = ToTensor.convert(small.pixels, height: small.height, width: small.width, channels: 3)
        return Normalize(mean: Self.mean, std: Self.std)(x)
    }

    /// The normalised batch `[N, 3, crop, crop]` for `images`.
    ///
    /// ```swift
    /// let batch = ImageNetPreprocessing().batch(images)
    /// ```
    public func batch(_ images: [Image]) -> Tensor {
        precondition(!images.isEmpty, "ImageNetPreprocessing.batch: no images")
        return Tensor.stack(images.map { callAsFunction($0) }, dim: 0)
    }
}
