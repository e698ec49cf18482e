// Creation, dtypes and reading values back.
import XCTest
@testable import Ember

final class TensorBasicsTests: XCTestCase {
    func testCreationFromArrayKeepsValuesAndShape() {
        let x = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
        XCTAssertEqual(x.shape, [2, 2])
        XCTAssertEqual(x.dtype, .float32)
        XCTAssertEqual(x.asArray(Float.self), [1, 2, 3, 4])
    }

    func testMatmulTanhBackwardMatchesPyTorch() {
        // Reference values from PyTorch 2.13 (torch.tanh(x @ w).sum().backward()).
        let x = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2], requiresGrad: true)
        let w = Tensor([0.5, -1, 2, 0.25] as [Float], shape: [2, 2], requiresGrad: true)
        let y = tanh(x.matmul(w)).sum()
        y.backward()
        XCTAssertEqual(y.item(Float.self), 0.5736084580421448, accuracy: 1e-6)
        let expectedX: [Float] = [-0.786201000213623, 0.19759885966777802, -0.07065081596374512, 0.01766270399093628]
        let expectedW: [Float] = [0.0004934655735269189, 0.9984001517295837, 0.0009869311470538378, 1.8554986715316772]
        for (a, b) in zip(x.grad!.asArray(Float.self), expectedX) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        for (a, b) in zip(w.grad!.asArray(Float.self), expectedW) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }
}
