// Assigning through a subscript under autograd: the value gets the gradient of the
// written positions, the old content keeps the gradient of the others.
import XCTest
@testable import Ember

final class SubscriptAutogradTests: XCTestCase {
    func testAssignedRowReceivesItsGradientAndOverwrittenEntriesGetNone() {
        let x = Tensor([1, 2, 3, 4, 5, 6] as [Double], shape: [2, 3], requiresGrad: true)
        let v = Tensor([10, 20, 30] as [Double], requiresGrad: true)
        let weights = Tensor([1, 2, 3, 4, 5, 6] as [Double], shape: [2, 3])
        let y = x * 1
        y[0] = v
        XCTAssertEqual(y.asArray(Double.self), [10, 20, 30, 4, 5, 6])
        (y * weights).sum().backward()
        XCTAssertEqual(v.grad!.asArray(Double.self), [1, 2, 3])
        XCTAssertEqual(x.grad!.asArray(Double.self), [0, 0, 0, 4, 5, 6])
    }

    func testMaskAssignmentWithScalarValueIsDifferentiable() {
        let x = Tensor([-1, 2, -3, 4] as [Double], requiresGrad: true)
        let y = x * 2
        let fill = Tensor(0.5, requiresGrad: true)
        y[y .< 0] = fill
        XCTAssertEqual(y.asArray(Double.self), [0.5, 4, 0.5, 8])
        y.sum().backward()
        XCTAssertEqual(fill.grad!.item(Double.self), 2, "the scalar was written twice")
        XCTAssertEqual(x.grad!.asArray(Double.self), [0, 2, 0, 2])
    }

    func testSubscriptAssignmentPassesGradcheck() {
        let x = Tensor([0.3, -0.7, 1.1, 0.4, 0.9, -0.2] as [Double], shape: [2, 3], requiresGrad: true)
        let v = Tensor([0.5, -1.5] as [Double], requiresGrad: true)
        let result = gradcheck({ inputs in
            let y = inputs[0] * inputs[0]
            y[.all, 1] = inputs[1]
            return (y * y).sum()
        }, inputs: [x, v])
        XCTAssertTrue(result.passed, result.message)
    }
}
