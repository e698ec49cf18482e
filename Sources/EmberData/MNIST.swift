// MNIST-format image classification datasets (MNIST, Fashion-MNIST), decoded into memory.
import Foundation
import Ember

/// Decoded images and labels of an MNIST-format dataset, shared by ``MNIST`` and
/// ``FashionMNIST``: all images as one float32 tensor, so a sample is a view and a batch is
/// one slice or index-select.
struct IDXClassificationData {
    /// float32 `[N, 1, H, W]` in [0, 1].
    let images: Tensor
    /// int64 `[N]`.
    let labels: Tensor
    /// The labels as Swift integers.
    let labelValues: [Int]

    /// The file names of a split, without `.gz`.
    static func fileNames(_ split: DatasetSplit) -> (images: String, labels: String) {
        let prefix = split == .train ? "train" : "t10k"
        return ("\(prefix)-images-idx3-ubyte", "\(prefix)-labels-idx1-ubyte")
    }

    /// The path of `name.gz` or `name` under `root`, whichever exists (nil: neither).
    static func locate(_ name: String, in root: String) -> String? {
        let base = (root as NSString).appendingPathComponent(name)
        for candidate in [base + ".gz", base] where FileManager.default.fileExists(atPath: candidate) { return candidate }
        return nil
    }

    /// Reads and validates an images file and a labels file.
    init(imagesPath: String, labelsPath: String, numClasses: Int) throws {
        // Images stream from the (gzipped) file straight into the float tensor: the 47 MB
        // of uint8 pixels are never held next to the 188 MB of floats. Bytes go to [0, 1]
        // through a 256-entry table: Float(k) / 255 is the correctly rounded float32
        // quotient, the same values as torchvision's `x.float().div(255)`.
        let table = (0..<256).map { Float($0) / 255 }
        var decoded: Tensor? = nil
        var written = 0
        try IDXArray.stream(contentsOf: imagesPath, header: { type, shape in
            guard type == .uint8, shape.count == 3 else {
                let magic = Int(type.rawValue) << 8 | shape.count
                throw DatasetError(.unsupportedContent, path: imagesPath,
                                   "expected 3-d uint8 images (magic number 2051), found \(shape.count)-d \(type) data (magic number \(magic))")
            }
            decoded = Tensor.empty([shape[0], 1, shape[1], shape[2]], dtype: .float32)
        }, payload: { bytes in
            let target = decoded!.storage.pointer.assumingMemoryBound(to: Float.self) + written
            table.withUnsafeBufferPointer { lookup in
                for i in 0..<bytes.count { target[i] = lookup[Int(bytes[i])] }
            }
            written += bytes.count
        })
        guard let images = decoded else { preconditionFailure("IDXArray.stream returned without a header") }
        let labelArray = try IDXArray(contentsOf: labelsPath)
        guard labelArray.elementType == .uint8, labelArray.shape.count == 1 else {
            throw DatasetError(.unsupportedContent, path: labelsPath,
                               "expected 1-d uint8 labels (magic number 2049), found \(labelArray.shape.count)-d \(labelArray.elementType) data (magic number \(labelArray.magic))")
        }
        let n = images.shape[0]
        guard n == labelArray.shape[0] else {
            throw DatasetError(.sizeMismatch, path: labelsPath,
                               "holds \(labelArray.shape[0]) labels but \(imagesPath) holds \(n) images")
        }
        if let bad = labelArray.payload.firstIndex(where: { Int($0) >= numClasses }) {
            throw DatasetError(.unsupportedContent, path: labelsPath,
                               "label \(labelArray.payload[bad]) at index \(bad) is out of range 0..<\(numClasses)")
        }
        self.images = images
        labelValues = labelArray.payload.map { Int($0) }
        labels = Tensor(labelValues, shape: [n])
    }

    /// Sample `index`: the image view and its label, after `transform`.
    func sample(_ index: Int, transform: (any Transform)?) -> (Tensor, Int) {
        precondition(index >= 0 && index < labelValues.count, "dataset: index \(index) out of range for \(labelValues.count) samples")
        let image = images.select(dim: 0, index: index)
        return (transform.map { $0(image) } ?? image, labelValues[index])
    }

    /// A batch by slicing, or nil when a transform must run per sample.
    func batch(_ indices: [Int], transform: (any Transform)?) -> [Tensor]? {
        if transform != nil { return nil }
        return [selectRows(images, indices), selectRows(labels, indices)]
    }
}

/// An MNIST-format dataset at a path of your choice: `{train,t10k}-images-idx3-ubyte` and
/// `{train,t10k}-labels-idx1-ubyte`, each gzipped (`.gz`) or plain.
///
/// The whole split is decoded once into memory: images as float32 `[1, H, W]` in [0, 1],
/// labels as `Int`. Without a transform, ``DataLoader`` slices whole batches at once.
///
/// ```swift
/// let train = try MNIST(root: "/data/mnist", split: .train)
/// let (image, label) = train[0]   // [1, 28, 28], 5
/// ```
public struct MNIST: Dataset, BatchTensorSource {
    /// The directory holding the files.
    public let root: String
    /// Which split was loaded.
    public let split: DatasetSplit
    /// Applied to each image when it is fetched.
    public let transform: (any Transform)?
    private let data: IDXClassificationData

    /// Loads a split from `root`; throws a ``DatasetError`` naming the file when one is
    /// missing or malformed.
    ///
    /// ```swift
    /// let test = try MNIST(root: "mnist", split: .test, transform: Normalize(mean: [0.1307], std: [0.3081]))
    /// ```
    public init(root: String, split: DatasetSplit = .train, transform: (any Transform)? = nil) throws {
        let names = IDXClassificationData.fileNames(split)
        var paths: [String] = []
        for name in [names.images, names.labels] {
            guard let path = IDXClassificationData.locate(name, in: root) else {
                let base = (root as NSString).appendingPathComponent(name)
                throw DatasetError(.fileNotFound, path: base + ".gz", "no such file (nor \(base))")
            }
            paths.append(path)
        }
        self.root = root
        self.split = split
        self.transform = transform
        self.data = try IDXClassificationData(imagesPath: paths[0], labelsPath: paths[1], numClasses: 10)
    }

    /// The number of images.
    public var count: Int { data.labelValues.count }
    /// All images, float32 `[N, 1, H, W]` in [0, 1] (before any transform).
    public var images: Tensor { data.images }
    /// All labels, int64 `[N]`.
    public var labels: Tensor { data.labels }

    /// Image `index` (after the transform) and its class.
    public subscript(index: Int) -> (Tensor, Int) { data.sample(index, transform: transform) }

    /// Slices a whole batch (nil with a transform, which runs per sample).
    public func batchTensors(at indices: [Int]) -> [Tensor]? { data.batch(indices, transform: transform) }
}

/// Zalando's Fashion-MNIST (60000 training and 10000 test images of clothing, 28×28 gray,
/// 10 classes), read from the files Debian's `dataset-fashion-mnist` package installs.
///
/// Images are float32 `[1, 28, 28]` in [0, 1], labels `Int` in `0..<10` (names in
/// ``classes``). The split is decoded once into memory; a full epoch is fast. When the
/// files are missing the error names the package and `apt-get install dataset-fashion-mnist`.
///
/// ```swift
/// let train = try FashionMNIST(split: .train)
/// let loader = DataLoader(train, batchSize: 128, shuffle: true, seed: 0)
/// FashionMNIST.classes[train[0].1]   // "Ankle boot"
/// ```
public struct FashionMNIST: Dataset, BatchTensorSource {
    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let defaultRoot = "/usr/share/datasets/fashion-mnist"
    /// The Debian package providing the files.
    public static let debianPackage = "dataset-fashion-mnist"
    /// The class names, by label.
    public static let classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The files, read in MNIST's format.
    private let files: MNIST

    /// The directory holding the files.
    public var root: String { files.root }
    /// Which split was loaded.
    public var split: DatasetSplit { files.split }
    /// Applied to each image when it is fetched.
    public var transform: (any Transform)? { files.transform }

    /// Loads a split (from the Debian package's directory unless `root` says otherwise).
    ///
    /// ```swift
    /// let test = try FashionMNIST(split: .test)
    /// let augmented = try FashionMNIST(split: .train, transform: RandomCrop(size: 28, padding: 2))
    /// ```
    public init(split: DatasetSplit = .train, root: String = FashionMNIST.defaultRoot,
                transform: (any Transform)? = nil) throws {
        let names = IDXClassificationData.fileNames(split)
        for name in [names.images, names.labels] where IDXClassificationData.locate(name, in: root) == nil {
            let expected = (root as NSString).appendingPathComponent(name) + ".gz"
            throw DatasetError(.notInstalled, path: expected,
                               "Fashion-MNIST is not installed (file not found). It comes from the Debian package \(FashionMNIST.debianPackage), which installs it in \(FashionMNIST.defaultRoot): apt-get install \(FashionMNIST.debianPackage)")
        }
        files = try MNIST(root: root, split: split, transform: transform)
    }

    /// The number of images (60000 for train, 10000 for test).
    public var count: Int { files.count }
    /// All images, float32 `[N, 1, 28, 28]` in [0, 1] (before any transform).
    public var images: Tensor { files.images }
    /// All labels, int64 `[N]`.
    public var labels: Tensor { files.labels }

    /// Image `index` (after the transform) and its class.
    public subscript(index: Int) -> (Tensor, Int) { files[index] }

    /// Slices a whole batch (nil with a transform, which runs per sample).
    public func batchTensors(at indices: [Int]) -> [Tensor]? { files.batchTensors(at: indices) }
}
