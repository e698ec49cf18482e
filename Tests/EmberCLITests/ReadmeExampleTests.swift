// The README's training example, on a small synthetic dataset instead of Fashion-MNIST so it
// runs in a second: the same calls must compile and the loss must fall.
import Foundation
import XCTest
import Ember
import EmberNN
import EmberOptim
import EmberData

final class ReadmeExampleTests: XCTestCase {
    func testReadmeTrainingLoopLearnsAndSaves() throws {
        manualSeed(0)
        // Two classes of 14×14 images: bright top half or bright bottom half.
        let n = 64
        let labels = Tensor((0..<n).map { Int64($0 % 2) })
        let rows = Tensor.arange(0, 14, dtype: .float32).reshape([1, 1, 14, 1])
        let top = rows.lt(7).to(.float32).expand([n, 1, 14, 14])
        let images = Tensor.where(labels.reshape([n, 1, 1, 1]).eq(0), top, 1 - top) + Tensor.rand([n, 1, 14, 14]) * 0.1

        let model = Sequential {
            Conv2d(1, 8, kernelSize: 3, padding: 1); ReLU(); MaxPool2d(kernelSize: 2)
            Flatten(); Linear(8 * 7 * 7, 2)
        }
        let optimizer = SGD(model.parameters(), lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 1e-4, nesterov: true)
        let scheduler = CosineAnnealingLR(optimizer, tMax: 10)
        let loader = DataLoader(TensorDataset(images, labels), batchSize: 16, shuffle: true, numWorkers: 2, seed: 0)
        var firstLoss = 0.0, lastLoss = 0.0
        for epoch in 0..<10 {
            for (batchImages, batchLabels) in loader {
                let loss = crossEntropy(model(batchImages), batchLabels, labelSmoothing: 0.1)
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
                if epoch == 0 && firstLoss == 0 { firstLoss = loss.item(Double.self) }
                lastLoss = loss.item(Double.self)
            }
            scheduler.step()
        }
        XCTAssertLessThan(lastLoss, firstLoss * 0.6, "loss \(firstLoss) → \(lastLoss)")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors.save(model.stateDict(), to: url)
        XCTAssertEqual(try Safetensors.load(url)["0.weight"]?.shape, [8, 1, 3, 3])
        XCTAssertTrue(model.description.hasPrefix("Sequential(\n  (0): Conv2d(1, 8, kernel_size=(3, 3)"), model.description)
    }
}
