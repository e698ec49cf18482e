// The models `ember train fashion-mnist` builds: an MLP and a small CNN.
import Ember
import EmberNN

/// Which architecture to train.
enum FashionMNISTArchitecture: String, CaseIterable {
    /// 784-512-512-10 with ReLU.
    case mlp
    /// conv(1→32, 3, pad 1)-ReLU-maxpool 2-conv(32→64, 3, pad 1)-ReLU-maxpool 2-linear(3136→128)-ReLU-linear(128→10).
    case cnn

    /// Standardises a batch of [0, 1] images with the training set's pixel mean and
    /// standard deviation (0.2860 and 0.3530).
    static func normalize(_ images: Tensor) -> Tensor { (images - 0.2860) / 0.3530 }

    /// A freshly initialised model (PyTorch's default initialisation).
    func makeModel() -> Module {
        switch self {
        case .mlp:
            return Sequential {
                Flatten()
                Linear(784, 512)
                ReLU()
                Linear(512, 512)
                ReLU()
                Linear(512, 10)
            }
        case .cnn:
            return Sequential {
                Conv2d(1, 32, kernelSize: 3, padding: 1)
                ReLU()
                MaxPool2d(kernelSize: 2)
                Conv2d(32, 64, kernelSize: 3, padding: 1)
                ReLU()
                MaxPool2d(kernelSize: 2)
                Flatten()
                Linear(3136, 128)
                ReLU()
                Linear(128, 10)
            }
        }
    }
}
