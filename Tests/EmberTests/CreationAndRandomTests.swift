// Creating tensors (factories, array and scalar initialisers), reading values back across
// dtypes, half-precision rounding, seeded random generators and their distributions,
// closeness checks and dtype shorthands. Expected values follow PyTorch's behaviour.
import XCTest
@testable import Ember

final class CreationAndRandomTests: XCTestCase {
    private func values(_ t: Tensor) -> [Float] { t.asArray(Float.self) }

    // MARK: Factories

    func testZerosDefaultsToFloat32() {
        let z = Tensor.zeros([2, 3])
        XCTAssertEqual(z.shape, [2, 3])
        XCTAssertEqual(z.dtype, .float32)
        XCTAssertEqual(values(z), [0, 0, 0, 0, 0, 0])
    }

    func testOnesWithExplicitDType() {
        let o = Tensor.ones([3], dtype: .int32)
        XCTAssertEqual(o.dtype, .int32)
        XCTAssertEqual(o.asArray(Int32.self), [1, 1, 1])
    }

    func testFullFillsValue() {
        let f = Tensor.full([2, 2], 7.5)
        XCTAssertEqual(f.dtype, .float32)
        XCTAssertEqual(values(f), [7.5, 7.5, 7.5, 7.5])
        XCTAssertEqual(Tensor.full([2], 3, dtype: .int64).asArray(Int.self), [3, 3])
    }

    func testFactoriesCanRequireGrad() {
        XCTAssertTrue(Tensor.zeros([2], requiresGrad: true).requiresGrad)
        XCTAssertFalse(Tensor.ones([2]).requiresGrad)
    }

    func testEmptyHasShapeAndDType() {
        let e = Tensor.empty([4, 5], dtype: .float64)
        XCTAssertEqual(e.shape, [4, 5])
        XCTAssertEqual(e.count, 20)
        XCTAssertEqual(e.dtype, .float64)
        XCTAssertTrue(e.isContiguous)
    }

    func testZeroSizedDimensionGivesEmptyTensor() {
        let e = Tensor.zeros([3, 0])
        XCTAssertEqual(e.count, 0)
        XCTAssertEqual(values(e), [])
    }

    func testArangeOfWholeNumbersIsInt64() {
        let a = Tensor.arange(0, 5)
        XCTAssertEqual(a.dtype, .int64)
        XCTAssertEqual(a.asArray(Int.self), [0, 1, 2, 3, 4])
    }

    func testArangeWithOnlyEnd() {
        let a = Tensor.arange(5)
        XCTAssertEqual(a.dtype, .int64)
        XCTAssertEqual(a.asArray(Int.self), [0, 1, 2, 3, 4])
    }

    func testArangeWithFractionalStepIsFloat32() {
        let a = Tensor.arange(0, 1, step: 0.25)
        XCTAssertEqual(a.dtype, .float32)
        XCTAssertEqual(values(a), [0, 0.25, 0.5, 0.75])
    }

    func testArangeWithFractionalBoundIsFloat32() {
        // torch.arange(1, 2.5) == tensor([1., 2.])
        let a = Tensor.arange(1, 2.5)
        XCTAssertEqual(a.dtype, .float32)
        XCTAssertEqual(values(a), [1, 2])
    }

    func testArangeWithExplicitDType() {
        let a = Tensor.arange(1, 4, dtype: .float64)
        XCTAssertEqual(a.dtype, .float64)
        XCTAssertEqual(a.asArray(Double.self), [1, 2, 3])
    }

    func testArangeWithNegativeStep() {
        XCTAssertEqual(Tensor.arange(5, 0, step: -1).asArray(Int.self), [5, 4, 3, 2, 1])
        XCTAssertEqual(values(Tensor.arange(1, 0, step: -0.5)), [1, 0.5])
    }

    func testArangeWithEqualBoundsIsEmpty() {
        let a = Tensor.arange(3, 3)
        XCTAssertEqual(a.shape, [0])
        XCTAssertEqual(a.dtype, .int64)
    }

    func testLinspaceHitsBothEndpointsExactly() {
        XCTAssertEqual(values(Tensor.linspace(0, 1, steps: 5)), [0, 0.25, 0.5, 0.75, 1])
        let l = Tensor.linspace(-0.3, 0.7, steps: 11, dtype: .float64).asArray(Double.self)
        XCTAssertEqual(l.first, -0.3)
        XCTAssertEqual(l.last, 0.7)
        XCTAssertEqual(l[5], 0.2, accuracy: 1e-15)
    }

    func testLinspaceWithOneStepIsStart() {
        XCTAssertEqual(values(Tensor.linspace(2, 9, steps: 1)), [2])
        XCTAssertEqual(Tensor.linspace(2, 9, steps: 0).shape, [0])
    }

    func testLinspaceDescending() {
        XCTAssertEqual(values(Tensor.linspace(1, -1, steps: 3)), [1, 0, -1])
    }

    func testEyeSquare() {
        XCTAssertEqual(values(Tensor.eye(3)), [1, 0, 0, 0, 1, 0, 0, 0, 1])
    }

    func testEyeRectangular() {
        let wide = Tensor.eye(2, 3)
        XCTAssertEqual(wide.shape, [2, 3])
        XCTAssertEqual(values(wide), [1, 0, 0, 0, 1, 0])
        let tall = Tensor.eye(3, 2, dtype: .int64)
        XCTAssertEqual(tall.asArray(Int.self), [1, 0, 0, 1, 0, 0])
    }

    func testZerosLikeKeepsShapeAndDType() {
        let z = Tensor.zerosLike(Tensor([1, 2, 3, 4], shape: [2, 2]))
        XCTAssertEqual(z.shape, [2, 2])
        XCTAssertEqual(z.dtype, .int64)
        XCTAssertEqual(z.asArray(Int.self), [0, 0, 0, 0])
    }

    func testOnesLikeWithDTypeOverride() {
        let o = Tensor.onesLike(Tensor([1, 2]), dtype: .float64)
        XCTAssertEqual(o.dtype, .float64)
        XCTAssertEqual(o.asArray(Double.self), [1, 1])
    }

    func testFullLike() {
        let f = Tensor.fullLike(Tensor.zeros([3], dtype: .float16), -2.5)
        XCTAssertEqual(f.dtype, .float16)
        XCTAssertEqual(values(f), [-2.5, -2.5, -2.5])
    }

    func testLikeFactoriesDoNotCopyRequiresGrad() {
        let x = Tensor([1, 2] as [Float], requiresGrad: true)
        XCTAssertFalse(Tensor.zerosLike(x).requiresGrad)
    }

    // MARK: Array and scalar initialisers

    func testArrayInitialiserPicksDTypeFromSwiftType() {
        XCTAssertEqual(Tensor([1, 2] as [Float]).dtype, .float32)
        XCTAssertEqual(Tensor([1, 2] as [Double]).dtype, .float64)
        XCTAssertEqual(Tensor([1, 2] as [Float16]).dtype, .float16)
        XCTAssertEqual(Tensor([BFloat16(1), BFloat16(2)]).dtype, .bfloat16)
        XCTAssertEqual(Tensor([1, 2] as [Int]).dtype, .int64)
        XCTAssertEqual(Tensor([1, 2] as [Int64]).dtype, .int64)
        XCTAssertEqual(Tensor([1, 2] as [Int32]).dtype, .int32)
        XCTAssertEqual(Tensor([1, 2] as [UInt8]).dtype, .uint8)
        XCTAssertEqual(Tensor([true, false]).dtype, .bool)
    }

    func testArrayInitialiserKeepsValuesOfEveryType() {
        XCTAssertEqual(Tensor([1.5, -2] as [Float]).asArray(Float.self), [1.5, -2])
        XCTAssertEqual(Tensor([1.5, -2] as [Double]).asArray(Double.self), [1.5, -2])
        XCTAssertEqual(Tensor([1.5, -2] as [Float16]).asArray(Float16.self), [1.5, -2])
        XCTAssertEqual(Tensor([BFloat16(1.5), BFloat16(-2)]).asArray(BFloat16.self), [BFloat16(1.5), BFloat16(-2)])
        XCTAssertEqual(Tensor([Int.max, Int.min] as [Int]).asArray(Int.self), [Int.max, Int.min])
        XCTAssertEqual(Tensor([7, -7] as [Int64]).asArray(Int64.self), [7, -7])
        XCTAssertEqual(Tensor([Int32.max, Int32.min] as [Int32]).asArray(Int32.self), [Int32.max, Int32.min])
        XCTAssertEqual(Tensor([0, 255] as [UInt8]).asArray(UInt8.self), [0, 255])
        XCTAssertEqual(Tensor([true, false]).asArray(Bool.self), [true, false])
    }

    func testArrayInitialiserWithShape() {
        let x = Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [3, 2])
        XCTAssertEqual(x.shape, [3, 2])
        XCTAssertEqual(x.strides, [2, 1])
        XCTAssertEqual(x[2, 1].item(Float.self), 6)
    }

    func testArrayInitialiserDTypeOverrideConverts() {
        let x = Tensor([1, 2, 3], dtype: .float32)
        XCTAssertEqual(x.dtype, .float32)
        XCTAssertEqual(values(x), [1, 2, 3])
        let y = Tensor([1.9, -1.9] as [Double], dtype: .int32)
        XCTAssertEqual(y.asArray(Int32.self), [1, -1])
        let z = Tensor([0, 3] as [Int], dtype: .bool)
        XCTAssertEqual(z.asArray(Bool.self), [false, true])
    }

    func testScalarInitialiserMakesZeroDimensionalTensor() {
        let d = Tensor(3.5)
        XCTAssertEqual(d.shape, [])
        XCTAssertEqual(d.rank, 0)
        XCTAssertEqual(d.count, 1)
        XCTAssertEqual(d.dtype, .float64)
        XCTAssertEqual(d.item(Double.self), 3.5)
        XCTAssertEqual(Tensor(Float(2)).dtype, .float32)
        XCTAssertEqual(Tensor(7).dtype, .int64)
        XCTAssertEqual(Tensor(true).dtype, .bool)
        XCTAssertEqual(Tensor(2, dtype: .float16).dtype, .float16)
    }

    // MARK: Reading values back

    func testAsArrayFloatToIntTruncatesTowardZero() {
        XCTAssertEqual(Tensor([1.9, -1.9, 2.5, -0.5] as [Float]).asArray(Int.self), [1, -1, 2, 0])
        XCTAssertEqual(Tensor([1.9, -1.9] as [Double]).asArray(Int32.self), [1, -1])
    }

    func testAsArrayNaNToIntIsZero() {
        XCTAssertEqual(Tensor([.nan, 1] as [Double]).asArray(Int.self), [0, 1])
        XCTAssertEqual(Tensor([.nan] as [Float]).asArray(Int64.self), [0])
    }

    func testAsArrayToBoolIsNonzero() {
        XCTAssertEqual(Tensor([0, 0.5, -2] as [Float]).asArray(Bool.self), [false, true, true])
        XCTAssertEqual(Tensor([0, 3]).asArray(Bool.self), [false, true])
    }

    func testAsArrayFromBool() {
        XCTAssertEqual(Tensor([true, false]).asArray(Float.self), [1, 0])
        XCTAssertEqual(Tensor([true, false]).asArray(Int.self), [1, 0])
    }

    func testAsArrayIntToFloat() {
        XCTAssertEqual(Tensor([1, -2, 3]).asArray(Double.self), [1, -2, 3])
        XCTAssertEqual(Tensor([200] as [UInt8]).asArray(Float.self), [200])
    }

    func testAsArrayOfNonContiguousIsRowMajorLogicalOrder() {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).t()
        XCTAssertEqual(x.asArray(Int.self), [1, 4, 2, 5, 3, 6])
    }

    func testItemOfOneElementTensor() {
        XCTAssertEqual(Tensor([5], shape: [1, 1]).item(Int.self), 5)
        XCTAssertEqual(Tensor([2.5] as [Float]).item(Double.self), 2.5)
        XCTAssertEqual(Tensor(Float(2.9)).item(Int.self), 2)
    }

    // MARK: Half precision

    func testFloat16RoundsToNearestEven() {
        // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to the even mantissa (1.0);
        // 1 + 3·2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: ties to 1 + 2^-9.
        let inputs: [Double] = [1 + 1.0 / 2048, 1 + 3.0 / 2048, 1 + 1.5 / 2048]
        let h = Tensor(inputs, dtype: .float16)
        XCTAssertEqual(h.asArray(Double.self), [1, 1.001953125, 1.0009765625])
    }

    func testFloat16OverflowsToInfinity() {
        XCTAssertEqual(Tensor([70000.0, 65504.0], dtype: .float16).asArray(Double.self), [.infinity, 65504])
    }

    func testBFloat16OfPiIs3140625() {
        XCTAssertEqual(Tensor([3.14159], dtype: .bfloat16).asArray(Float.self), [3.140625])
        XCTAssertEqual(BFloat16(3.14159).bitPattern, 0x4049)
        XCTAssertEqual(Float(BFloat16(3.14159)), 3.140625)
    }

    func testBFloat16RoundsToNearestEven() {
        // bfloat16 has 7 mantissa bits: 1 + 2^-8 ties to 1; 1 + 3·2^-8 ties to 1 + 2^-6.
        let inputs: [Double] = [1 + 1.0 / 256, 1 + 3.0 / 256, 1 + 1.5 / 256]
        let b = Tensor(inputs, dtype: .bfloat16)
        XCTAssertEqual(b.asArray(Double.self), [1, 1.015625, 1.0078125])
    }

    func testBFloat16KeepsNaNAndInfinity() {
        let b = Tensor([.nan, .infinity, -.infinity] as [Float], dtype: .bfloat16).asArray(Float.self)
        XCTAssertTrue(b[0].isNaN)
        XCTAssertEqual(Array(b[1...]), [.infinity, -.infinity])
    }

    func testHalfArithmeticRoundsResultBackToHalf() {
        // float16: 1 + 0.0004 rounds back to 1
        let h = Tensor([1.0], dtype: .float16) + Tensor([0.0004], dtype: .float16)
        XCTAssertEqual(h.dtype, .float16)
        XCTAssertEqual(h.asArray(Double.self), [1])
    }

    // MARK: Seeded random numbers

    func testManualSeedReproducesRand() {
        manualSeed(42)
        let a = Tensor.rand([5]).asArray(Float.self)
        manualSeed(42)
        let b = Tensor.rand([5]).asArray(Float.self)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, Tensor.rand([5]).asArray(Float.self), "the sequence moves on after a draw")
    }

    func testManualSeedReproducesRandn() {
        manualSeed(7)
        let a = Tensor.randn([6]).asArray(Float.self)
        manualSeed(7)
        XCTAssertEqual(Tensor.randn([6]).asArray(Float.self), a)
    }

    func testManualSeedReproducesRandint() {
        manualSeed(7)
        let a = Tensor.randint(0, 100, [10]).asArray(Int.self)
        manualSeed(7)
        XCTAssertEqual(Tensor.randint(0, 100, [10]).asArray(Int.self), a)
    }

    func testManualSeedReproducesRandperm() {
        manualSeed(3)
        let a = Tensor.randperm(20).asArray(Int.self)
        manualSeed(3)
        XCTAssertEqual(Tensor.randperm(20).asArray(Int.self), a)
    }

    func testManualSeedReproducesBernoulli() {
        manualSeed(11)
        let a = Tensor.bernoulli(0.5, [32]).asArray(Float.self)
        manualSeed(11)
        XCTAssertEqual(Tensor.bernoulli(0.5, [32]).asArray(Float.self), a)
    }

    func testDifferentSeedsGiveDifferentNumbers() {
        manualSeed(1)
        let a = Tensor.rand([4]).asArray(Float.self)
        manualSeed(2)
        XCTAssertNotEqual(Tensor.rand([4]).asArray(Float.self), a)
    }

    func testExplicitGeneratorDoesNotAdvanceDefault() {
        manualSeed(5)
        let expected = Tensor.rand([3]).asArray(Float.self)
        manualSeed(5)
        let g = Generator(seed: 123)
        _ = Tensor.rand([100], generator: g)
        _ = Tensor.randn([100], generator: g)
        XCTAssertEqual(Tensor.rand([3]).asArray(Float.self), expected)
    }

    func testGeneratorsWithSameSeedAgree() {
        let a = Tensor.randn([8], generator: Generator(seed: 99)).asArray(Float.self)
        let b = Tensor.randn([8], generator: Generator(seed: 99)).asArray(Float.self)
        XCTAssertEqual(a, b)
    }

    func testGeneratorManualSeedRestartsSequence() {
        let g = Generator(seed: 4)
        let first = Tensor.rand([3], generator: g).asArray(Float.self)
        g.manualSeed(4)
        XCTAssertEqual(Tensor.rand([3], generator: g).asArray(Float.self), first)
        XCTAssertEqual(g.initialSeed, 4)
    }

    func testRandomTensorsTakeDType() {
        XCTAssertEqual(Tensor.rand([2], dtype: .float64).dtype, .float64)
        XCTAssertEqual(Tensor.randn([2, 2]).shape, [2, 2])
        XCTAssertEqual(Tensor.randint(0, 5, [3]).dtype, .int64)
        XCTAssertEqual(Tensor.randint(0, 5, [3], dtype: .int32).dtype, .int32)
    }

    // MARK: Distributions (100k samples)

    func testRandIsUniformOnUnitInterval() {
        let v = Tensor.rand([100_000], dtype: .float64, generator: Generator(seed: 1)).asArray(Double.self)
        XCTAssertGreaterThanOrEqual(v.min()!, 0)
        XCTAssertLessThan(v.max()!, 1)
        XCTAssertEqual(v.reduce(0, +) / Double(v.count), 0.5, accuracy: 0.005)
        let lowQuarter = v.filter { $0 < 0.25 }.count
        XCTAssertEqual(Double(lowQuarter) / Double(v.count), 0.25, accuracy: 0.005)
    }

    func testRandnHasZeroMeanAndUnitStd() {
        let x = Tensor.randn([100_000], dtype: .float64, generator: Generator(seed: 2))
        XCTAssertEqual(x.mean().item(Double.self), 0, accuracy: 0.01)
        XCTAssertEqual(x.std().item(Double.self), 1, accuracy: 0.01)
        // About 68.3% of samples lie within one standard deviation.
        let inside = x.abs().lt(1).to(.float64).mean().item(Double.self)
        XCTAssertEqual(inside, 0.6827, accuracy: 0.01)
    }

    func testRandintCoversRangeUniformly() {
        let v = Tensor.randint(3, 7, [100_000], generator: Generator(seed: 3)).asArray(Int.self)
        XCTAssertEqual(v.min(), 3)
        XCTAssertEqual(v.max(), 6)
        for k in 3..<7 {
            XCTAssertEqual(Double(v.filter { $0 == k }.count) / Double(v.count), 0.25, accuracy: 0.01, "value \(k)")
        }
    }

    func testRandintWithNegativeLow() {
        let v = Tensor.randint(-2, 0, [1000], generator: Generator(seed: 4)).asArray(Int.self)
        XCTAssertEqual(Set(v), [-2, -1])
    }

    func testRandpermIsPermutation() {
        let p = Tensor.randperm(1000, generator: Generator(seed: 5)).asArray(Int.self)
        XCTAssertEqual(p.sorted(), Array(0..<1000))
        XCTAssertNotEqual(p, Array(0..<1000))
    }

    func testRandpermOfZeroAndOne() {
        XCTAssertEqual(Tensor.randperm(0).shape, [0])
        XCTAssertEqual(Tensor.randperm(1).asArray(Int.self), [0])
    }

    func testBernoulliMeanMatchesProbability() {
        let b = Tensor.bernoulli(0.3, [100_000], generator: Generator(seed: 6))
        XCTAssertEqual(Set(b.asArray(Float.self)), [0, 1])
        XCTAssertEqual(b.mean().item(Double.self), 0.3, accuracy: 0.01)
    }

    func testBernoulliOfProbabilityTensor() {
        let p = Tensor([0, 1, 0, 1] as [Float])
        XCTAssertEqual(p.bernoulli(generator: Generator(seed: 7)).asArray(Float.self), [0, 1, 0, 1])
    }

    // MARK: Closeness and equality

    func testIscloseElementwise() {
        let a = Tensor([1, 2, 3] as [Double])
        let b = Tensor([1 + 1e-6, 2.1, 3] as [Double])
        XCTAssertEqual(a.isclose(b).asArray(Bool.self), [true, false, true])
        XCTAssertEqual(a.isclose(b, rtol: 0, atol: 0.2).asArray(Bool.self), [true, true, true])
    }

    func testIscloseNaNOnlyWithEqualNaN() {
        let a = Tensor([.nan, 1] as [Float])
        XCTAssertEqual(a.isclose(a).asArray(Bool.self), [false, true])
        XCTAssertEqual(a.isclose(a, equalNaN: true).asArray(Bool.self), [true, true])
    }

    func testIscloseInfinities() {
        let a = Tensor([.infinity, -.infinity, .infinity] as [Float])
        let b = Tensor([.infinity, -.infinity, -.infinity] as [Float])
        XCTAssertEqual(a.isclose(b).asArray(Bool.self), [true, true, false])
    }

    func testFiniteIsNeverCloseToInfinity() {
        // torch.isclose(tensor([1., 1e30]), tensor([inf, inf])) == tensor([False, False])
        let a = Tensor([1, 1e30] as [Float])
        XCTAssertEqual(a.isclose(Tensor([.infinity, .infinity] as [Float])).asArray(Bool.self), [false, false])
    }

    func testAllcloseUsesToleranceAndBroadcasts() {
        let a = Tensor([1, 1.00001] as [Double])
        XCTAssertTrue(a.allclose(Tensor(1.0)))
        XCTAssertFalse(a.allclose(Tensor(1.0), rtol: 0, atol: 1e-6))
    }

    func testEqualRequiresSameShapeAndValues() {
        let a = Tensor([1, 2, 3])
        XCTAssertTrue(a.equal(Tensor([1, 2, 3])))
        XCTAssertFalse(a.equal(Tensor([1, 2, 4])))
        XCTAssertFalse(a.equal(Tensor([1, 2, 3], shape: [3, 1])))
        XCTAssertFalse(a.equal(Tensor([1, 2])))
    }

    // MARK: Shorthands

    func testNumelCountsElements() {
        XCTAssertEqual(Tensor.zeros([2, 3, 4]).numel(), 24)
        XCTAssertEqual(Tensor(1.0).numel(), 1)
        XCTAssertEqual(Tensor.zeros([2, 0]).numel(), 0)
    }

    func testDTypeShorthands() {
        let x = Tensor([1.7, -1.7, 0] as [Double])
        XCTAssertEqual(x.float().dtype, .float32)
        XCTAssertEqual(x.float().asArray(Float.self), [1.7, -1.7, 0])
        XCTAssertTrue(x.double() === x, "same dtype returns self")
        XCTAssertEqual(x.long().dtype, .int64)
        XCTAssertEqual(x.long().asArray(Int.self), [1, -1, 0])
        XCTAssertEqual(x.int().dtype, .int32)
        XCTAssertEqual(x.int().asArray(Int32.self), [1, -1, 0])
        XCTAssertEqual(x.bool().asArray(Bool.self), [true, true, false])
        XCTAssertEqual(x.half().dtype, .float16)
        XCTAssertEqual(x.half().asArray(Double.self), [1.7001953125, -1.7001953125, 0])
        XCTAssertEqual(Tensor([1, 2]).double().asArray(Double.self), [1, 2])
    }
}
