// Convolution and pooling: gradcheck (float64) for every op with stride, padding,
// dilation and groups variants, second-order checks, and PyTorch parity against
// Fixtures/conv.json (written by scripts/make_conv_fixtures.py; see its header).
import Foundation
import XCTest
@testable import Ember

// MARK: - Fixture op table: op id → Ember

/// A `ConvSize` param: an integer or an array of integers.
private func convSize(_ p: ParityParams, _ key: String, default value: ConvSize) throws -> ConvSize {
    guard p.has(key) else { return value }
    if case .array = p.raw[key] { return ConvSize(try p.ints(key)) }
    return ConvSize(try p.int(key))
}

/// A convolution padding param: "same", "valid", an integer or an array.
private func convPadding(_ p: ParityParams) throws -> ConvPadding {
    guard p.has("padding") else { return 0 }
    if case .string(let s)? = p.raw["padding"] {
        switch s {
        case "same": return .same
        case "valid": return .valid
        default: throw ParityError("unknown padding '\(s)'")
        }
    }
    return .explicit(try convSize(p, "padding", default: 0))
}

private typealias ConvOp = (_ inputs: [Tensor], _ params: ParityParams) throws -> [Tensor]

private let convOps: [String: ConvOp] = [
    "conv1d": { t, p in
        [conv1d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: try convSize(p, "stride", default: 1),
                padding: try convPadding(p), dilation: try convSize(p, "dilation", default: 1),
                groups: try p.optionalInt("groups") ?? 1)]
    },
    "conv2d": { t, p in
        [conv2d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: try convSize(p, "stride", default: 1),
                padding: try convPadding(p), dilation: try convSize(p, "dilation", default: 1),
                groups: try p.optionalInt("groups") ?? 1)]
    },
    "conv_transpose1d": { t, p in
        [convTranspose1d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: try convSize(p, "stride", default: 1),
                         padding: try convSize(p, "padding", default: 0), outputPadding: try convSize(p, "output_padding", default: 0),
                         groups: try p.optionalInt("groups") ?? 1, dilation: try convSize(p, "dilation", default: 1))]
    },
    "conv_transpose2d": { t, p in
        [convTranspose2d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: try convSize(p, "stride", default: 1),
                         padding: try convSize(p, "padding", default: 0), outputPadding: try convSize(p, "output_padding", default: 0),
                         groups: try p.optionalInt("groups") ?? 1, dilation: try convSize(p, "dilation", default: 1))]
    },
    "max_pool1d": { t, p in
        [maxPool1d(t[0], kernelSize: try convSize(p, "kernel_size", default: 1), stride: p.has("stride") ? try convSize(p, "stride", default: 1) : nil,
                   padding: try convSize(p, "padding", default: 0), dilation: try convSize(p, "dilation", default: 1),
                   ceilMode: try p.optionalBool("ceil_mode") ?? false)]
    },
    "max_pool2d": { t, p in
        [maxPool2d(t[0], kernelSize: try convSize(p, "kernel_size", default: 1), stride: p.has("stride") ? try convSize(p, "stride", default: 1) : nil,
                   padding: try convSize(p, "padding", default: 0), dilation: try convSize(p, "dilation", default: 1),
                   ceilMode: try p.optionalBool("ceil_mode") ?? false)]
    },
    "max_pool2d_indices": { t, p in
        let (values, indices) = maxPool2dWithIndices(t[0], kernelSize: try convSize(p, "kernel_size", default: 1),
                                                     stride: p.has("stride") ? try convSize(p, "stride", default: 1) : nil,
                                                     padding: try convSize(p, "padding", default: 0),
                                                     dilation: try convSize(p, "dilation", default: 1),
                                                     ceilMode: try p.optionalBool("ceil_mode") ?? false)
        return [values, indices]
    },
    "avg_pool1d": { t, p in
        [avgPool1d(t[0], kernelSize: try convSize(p, "kernel_size", default: 1), stride: p.has("stride") ? try convSize(p, "stride", default: 1) : nil,
                   padding: try convSize(p, "padding", default: 0), ceilMode: try p.optionalBool("ceil_mode") ?? false,
                   countIncludePad: try p.optionalBool("count_include_pad") ?? true)]
    },
    "avg_pool2d": { t, p in
        [avgPool2d(t[0], kernelSize: try convSize(p, "kernel_size", default: 1), stride: p.has("stride") ? try convSize(p, "stride", default: 1) : nil,
                   padding: try convSize(p, "padding", default: 0), ceilMode: try p.optionalBool("ceil_mode") ?? false,
                   countIncludePad: try p.optionalBool("count_include_pad") ?? true)]
    },
    "adaptive_avg_pool1d": { t, p in [adaptiveAvgPool1d(t[0], outputSize: try convSize(p, "output_size", default: 1))] },
    "adaptive_avg_pool2d": { t, p in [adaptiveAvgPool2d(t[0], outputSize: try convSize(p, "output_size", default: 1))] },
    "adaptive_max_pool1d": { t, p in [adaptiveMaxPool1d(t[0], outputSize: try convSize(p, "output_size", default: 1))] },
    "adaptive_max_pool2d": { t, p in [adaptiveMaxPool2d(t[0], outputSize: try convSize(p, "output_size", default: 1))] },
]

final class ConvolutionTests: XCTestCase {
    // MARK: PyTorch parity

    static let fixture: Result<ParityFixture, Error> = Result {
        guard let url = Bundle.module.url(forResource: "conv", withExtension: "json", subdirectory: "Fixtures") else {
            throw ParityError("Fixtures/conv.json is missing from the test bundle; run scripts/make_conv_fixtures.py")
        }
        return try JSONDecoder().decode(ParityFixture.self, from: Data(contentsOf: url))
    }
    static let families = ["conv", "conv_transpose", "pool", "adaptive"]

    func testConvolutionParity() throws { try checkFamily("conv") }
    func testConvTransposeParity() throws { try checkFamily("conv_transpose") }
    func testPoolingParity() throws { try checkFamily("pool") }
    func testAdaptivePoolingParity() throws { try checkFamily("adaptive") }

    /// Every case has a family with a test method and a mapped op id.
    func testEveryCaseIsCovered() throws {
        let fixture = try Self.fixture.get()
        XCTAssertGreaterThan(fixture.cases.count, 0, "conv.json has no cases")
        var names = Set<String>()
        for c in fixture.cases {
            XCTAssertTrue(Self.families.contains(c.family), "[\(c.name)] family '\(c.family)' has no test method")
            XCTAssertNotNil(convOps[c.op], "[\(c.name)] op id '\(c.op)' is not mapped to Ember")
            XCTAssertTrue(names.insert(c.name).inserted, "duplicate case name \(c.name)")
        }
        XCTAssertTrue(fixture.cases.contains { $0.inputs[0].dtype == "float32" }, "no float32 cases")
        XCTAssertTrue(fixture.cases.contains { $0.inputs[0].dtype == "float64" }, "no float64 cases")
    }

    func checkFamily(_ family: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Self.fixture.get()
        let cases = fixture.cases.filter { $0.family == family }
        XCTAssertFalse(cases.isEmpty, "no cases for family \(family)", file: file, line: line)
        var failed = 0
        for c in cases {
            let problems: [String]
            do { problems = try check(c) } catch { problems = ["\(error)"] }
            if !problems.isEmpty { failed += 1 }
            for problem in problems { XCTFail("[\(c.name)] op \(c.op): \(problem)", file: file, line: line) }
        }
        print("PyTorch parity (\(fixture.torch_version)) \(family): \(cases.count - failed)/\(cases.count) cases match")
    }

    func check(_ c: ParityCase) throws -> [String] {
        guard let op = convOps[c.op] else { return ["op id '\(c.op)' is not mapped to an Ember function"] }
        let leaves = try c.inputs.map { spec -> Tensor in
            let t = try spec.makeTensor()
            if spec.requires_grad == true { t.requiresGrad = true }
            return t
        }
        let outputs = try op(leaves, ParityParams(raw: c.params))
        guard outputs.count == c.outputs.count else { return ["Ember gives \(outputs.count) outputs, PyTorch \(c.outputs.count)"] }
        var problems: [String] = []
        for (i, (out, expected)) in zip(outputs, c.outputs).enumerated() {
            problems += compare(out, expected, what: "output \(i)")
        }
        var roots: [(Tensor, Tensor)] = []
        for (i, up) in c.upstream.enumerated() {
            guard let up else { continue }
            guard outputs[i].requiresGrad else { problems.append("output \(i) does not require grad"); continue }
            roots.append((outputs[i], try up.makeTensor()))
        }
        if !roots.isEmpty {
            roots.map { ($0.0 * $0.1).sum() }.reduce(Tensor(0.0, dtype: roots[0].0.dtype), +).backward()
        }
        for (i, (leaf, expected)) in zip(leaves, c.grads).enumerated() {
            guard let expected else { continue }
            guard let g = leaf.grad else { problems.append("input \(i) has no gradient in Ember"); continue }
            problems += compare(g, expected, what: "gradient of input \(i)")
        }
        return problems
    }

    /// Shape, dtype and values; floats within a tolerance scaled by the largest value
    /// (summation order differs between oneDNN and PyTorch), integers exactly.
    func compare(_ actual: Tensor, _ expected: ParityTensor, what: String) -> [String] {
        if actual.shape != expected.shape { return ["\(what): shape \(actual.shape), expected \(expected.shape)"] }
        if actual.dtype.rawValue != expected.dtype { return ["\(what): dtype \(actual.dtype.rawValue), expected \(expected.dtype)"] }
        guard let want = try? expected.values() else { return ["\(what): bad fixture data"] }
        let got = actual.asArray(Double.self)
        let (rtol, atol): (Double, Double)
        switch actual.dtype {
        case .float64: (rtol, atol) = (1e-9, 1e-10)
        case .float32: (rtol, atol) = (1e-4, 1e-5)
        default: (rtol, atol) = (0, 0)
        }
        let scale = max(1, want.map { Swift.abs($0) }.max() ?? 1)
        var bad: [String] = []
        for (i, (a, b)) in zip(got, want).enumerated() where !(Swift.abs(a - b) <= rtol * Swift.abs(b) + atol * scale) {
            bad.append("[\(i)] \(a) vs \(b)")
        }
        if bad.isEmpty { return [] }
        return ["\(what) (\(actual.dtype.rawValue), \(bad.count)/\(want.count) differ): " + bad.prefix(6).joined(separator: ", ")]
    }

    // MARK: Gradcheck (float64)

    private func leaf(_ shape: [Int]) -> Tensor { Tensor.randn(shape, dtype: .float64, requiresGrad: true) }

    private func assertGradcheck(_ name: String, _ inputs: [Tensor], secondOrder: Bool = false,
                                 _ f: @escaping ([Tensor]) -> Tensor, file: StaticString = #filePath, line: UInt = #line) {
        let first = gradcheck(f, inputs: inputs)
        XCTAssertTrue(first.passed, "\(name): \(first.message)", file: file, line: line)
        if secondOrder {
            let second = gradgradcheck(f, inputs: inputs)
            XCTAssertTrue(second.passed, "\(name) (second order): \(second.message)", file: file, line: line)
        }
    }

    func testConv2dGradcheck() {
        manualSeed(1)
        let variants: [(String, [Int], [Int], Bool, ConvSize, ConvPadding, ConvSize, Int)] = [
            ("plain", [2, 2, 5, 5], [3, 2, 3, 3], true, 1, 0, 1, 1),
            ("stride2 pad1", [1, 2, 6, 5], [2, 2, 3, 3], true, 2, 1, 1, 1),
            ("rect stride/pad", [1, 1, 7, 6], [2, 1, 3, 2], false, [2, 1], [1, 0], 1, 1),
            ("dilation", [1, 2, 7, 7], [2, 2, 3, 3], true, 1, 1, 2, 1),
            ("groups", [1, 4, 5, 5], [4, 2, 3, 3], true, 1, 1, 1, 2),
            ("depthwise stride", [1, 3, 6, 6], [3, 1, 3, 3], false, 2, 1, 1, 3),
            ("same even kernel", [1, 2, 5, 4], [2, 2, 2, 4], true, 1, .same, 1, 1),
            ("valid", [1, 1, 5, 5], [1, 1, 4, 4], false, 1, .valid, 1, 1),
        ]
        for (name, xs, ws, hasBias, stride, padding, dilation, groups) in variants {
            var inputs = [leaf(xs), leaf(ws)]
            if hasBias { inputs.append(leaf([ws[0]])) }
            assertGradcheck("conv2d \(name)", inputs, secondOrder: name == "groups" || name == "stride2 pad1") {
                conv2d($0[0], weight: $0[1], bias: $0.count > 2 ? $0[2] : nil, stride: stride, padding: padding,
                       dilation: dilation, groups: groups)
            }
        }
        // Unbatched input and a non-contiguous one.
        assertGradcheck("conv2d unbatched", [leaf([2, 4, 4]), leaf([3, 2, 3, 3])]) {
            conv2d($0[0], weight: $0[1], padding: 1)
        }
        assertGradcheck("conv2d transposed input", [leaf([1, 2, 5, 4]), leaf([2, 2, 3, 3])]) {
            conv2d($0[0].transpose(2, 3), weight: $0[1])
        }
    }

    func testConv1dGradcheck() {
        manualSeed(2)
        assertGradcheck("conv1d", [leaf([2, 2, 8]), leaf([3, 2, 3]), leaf([3])], secondOrder: true) {
            conv1d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1)
        }
        assertGradcheck("conv1d dilation groups", [leaf([1, 4, 9]), leaf([4, 2, 2])]) {
            conv1d($0[0], weight: $0[1], dilation: 3, groups: 2)
        }
        assertGradcheck("conv1d same", [leaf([1, 2, 6]), leaf([2, 2, 4])]) {
            conv1d($0[0], weight: $0[1], padding: .same)
        }
    }

    func testConvTransposeGradcheck() {
        manualSeed(3)
        assertGradcheck("convTranspose2d", [leaf([1, 2, 3, 3]), leaf([2, 3, 3, 3]), leaf([3])], secondOrder: true) {
            convTranspose2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1)
        }
        assertGradcheck("convTranspose2d groups dilation", [leaf([1, 4, 3, 2]), leaf([4, 1, 2, 3])]) {
            convTranspose2d($0[0], weight: $0[1], stride: [1, 2], padding: [0, 1], groups: 2, dilation: [2, 1])
        }
        assertGradcheck("convTranspose2d outputPadding ≥ stride", [leaf([1, 1, 3, 3]), leaf([1, 2, 2, 2])]) {
            convTranspose2d($0[0], weight: $0[1], outputPadding: 1, dilation: 2)
        }
        assertGradcheck("convTranspose1d", [leaf([2, 2, 4]), leaf([2, 1, 3]), leaf([1])]) {
            convTranspose1d($0[0], weight: $0[1], bias: $0[2], stride: 3, padding: 1, outputPadding: 2)
        }
    }

    func testPoolingGradcheck() {
        manualSeed(4)
        // Distinct values so that no max-pool window has a tie (finite differences would
        // see a kink there).
        func distinct(_ shape: [Int]) -> Tensor {
            let n = shape.reduce(1, *)
            var values = (0..<n).map { Double($0) * 0.37 }
            values.shuffle()
            return Tensor(values, shape: shape).requiresGrad(true)
        }
        assertGradcheck("maxPool2d 2", [distinct([2, 2, 4, 6])], secondOrder: true) { maxPool2d($0[0], kernelSize: 2) }
        assertGradcheck("maxPool2d 3s2p1 ceil", [distinct([1, 2, 7, 6])]) {
            maxPool2d($0[0], kernelSize: 3, stride: 2, padding: 1, ceilMode: true)
        }
        assertGradcheck("maxPool2d dilation", [distinct([1, 1, 7, 7])]) {
            maxPool2d($0[0], kernelSize: [2, 3], stride: 1, dilation: 2)
        }
        assertGradcheck("maxPool1d", [distinct([2, 2, 9])]) { maxPool1d($0[0], kernelSize: 3, stride: 2, padding: 1) }
        assertGradcheck("avgPool2d", [leaf([2, 2, 4, 4])], secondOrder: true) { avgPool2d($0[0], kernelSize: 2) }
        assertGradcheck("avgPool2d pad ceil exclude", [leaf([1, 2, 7, 6])]) {
            avgPool2d($0[0], kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false)
        }
        assertGradcheck("avgPool2d pad ceil include", [leaf([1, 1, 6, 7])]) {
            avgPool2d($0[0], kernelSize: [2, 3], stride: [2, 2], padding: [1, 1], ceilMode: true)
        }
        assertGradcheck("avgPool1d", [leaf([1, 2, 8])]) { avgPool1d($0[0], kernelSize: 3, stride: 2, padding: 1) }
        assertGradcheck("adaptiveAvgPool2d uneven", [leaf([1, 2, 5, 7])], secondOrder: true) {
            adaptiveAvgPool2d($0[0], outputSize: [3, 4])
        }
        assertGradcheck("adaptiveAvgPool2d global", [leaf([2, 2, 3, 3])]) { adaptiveAvgPool2d($0[0], outputSize: 1) }
        assertGradcheck("adaptiveAvgPool1d", [leaf([1, 2, 7])]) { adaptiveAvgPool1d($0[0], outputSize: 3) }
        assertGradcheck("adaptiveMaxPool2d uneven", [distinct([1, 2, 5, 7])]) { adaptiveMaxPool2d($0[0], outputSize: [2, 3]) }
        assertGradcheck("adaptiveMaxPool2d divisible", [distinct([1, 2, 4, 6])]) { adaptiveMaxPool2d($0[0], outputSize: [2, 3]) }
        assertGradcheck("adaptiveMaxPool1d", [distinct([1, 2, 7])]) { adaptiveMaxPool1d($0[0], outputSize: 3) }
    }

    // MARK: Behaviour

    /// float32 (oneDNN) and float64 (Swift loops) agree on a larger problem, forward and
    /// both gradients, including the zero-padding, stride and group paths.
    func testFloat32MatchesFloat64() {
        manualSeed(5)
        let x64 = Tensor.randn([4, 6, 13, 11], dtype: .float64, requiresGrad: true)
        let w64 = Tensor.randn([8, 3, 3, 3], dtype: .float64, requiresGrad: true)
        let x32 = x64.detach().to(.float32).requiresGrad(true), w32 = w64.detach().to(.float32).requiresGrad(true)
        let y64 = conv2d(x64, weight: w64, stride: 2, padding: 1, groups: 2)
        let y32 = conv2d(x32, weight: w32, stride: 2, padding: 1, groups: 2)
        XCTAssertEqual(y32.shape, [4, 8, 7, 6])
        XCTAssertTrue(y32.to(.float64).allclose(y64, rtol: 1e-4, atol: 1e-4))
        let up = Tensor.randn(y64.shape, dtype: .float64)
        y64.backward(gradient: up)
        y32.backward(gradient: up.to(.float32))
        XCTAssertTrue(x32.grad!.to(.float64).allclose(x64.grad!, rtol: 1e-4, atol: 1e-4))
        XCTAssertTrue(w32.grad!.to(.float64).allclose(w64.grad!, rtol: 1e-4, atol: 1e-3))
    }

    func testShapesAndNames() {
        let x = Tensor.randn([2, 3, 8, 8], requiresGrad: true)
        let y = conv2d(x, weight: Tensor.randn([4, 3, 3, 3]), padding: .same)
        XCTAssertEqual(y.shape, [2, 4, 8, 8])
        XCTAssertEqual(y.gradFn?.name, "ConvolutionBackward0")
        let pooled = maxPool2d(y, kernelSize: 2)
        XCTAssertEqual(pooled.shape, [2, 4, 4, 4])
        XCTAssertEqual(pooled.gradFn?.name, "MaxPool2DWithIndicesBackward0")
        XCTAssertEqual(avgPool2d(x, kernelSize: 3, stride: 2, padding: 1, ceilMode: true).shape, [2, 3, 5, 5])
        XCTAssertEqual(maxPool2d(x, kernelSize: 3, stride: 2, ceilMode: true).shape, [2, 3, 4, 4])
        XCTAssertEqual(convTranspose2d(x, weight: Tensor.randn([3, 2, 4, 4]), stride: 2, padding: 1).shape, [2, 2, 16, 16])
        XCTAssertEqual(conv1d(Tensor.randn([3, 10]), weight: Tensor.randn([5, 3, 3])).shape, [5, 8])
        XCTAssertEqual(adaptiveAvgPool2d(x, outputSize: [3, 5]).shape, [2, 3, 3, 5])
        // float16 goes through float32 and comes back.
        let h = conv2d(x.detach().to(.float16), weight: Tensor.randn([4, 3, 3, 3]).to(.float16))
        XCTAssertEqual(h.dtype, .float16)
        XCTAssertEqual(h.shape, [2, 4, 6, 6])
    }

    func testKnownValues() {
        // A 1×1×3×3 input of 1…9 with a 2×2 kernel of ones sums each 2×2 block.
        let x = Tensor((1...9).map(Float.init), shape: [1, 1, 3, 3])
        XCTAssertEqual(conv2d(x, weight: Tensor.ones([1, 1, 2, 2])).asArray(Float.self), [12, 16, 24, 28])
        XCTAssertEqual(conv2d(x, weight: Tensor.ones([1, 1, 2, 2]), bias: Tensor([1] as [Float]), stride: 2).asArray(Float.self), [13])
        let (values, indices) = maxPool2dWithIndices(x, kernelSize: 2, stride: 1)
        XCTAssertEqual(values.asArray(Float.self), [5, 6, 8, 9])
        XCTAssertEqual(indices.asArray(Int64.self), [4, 5, 7, 8])
        // Padding counts in the divisor by default, not with countIncludePad: false.
        XCTAssertEqual(avgPool2d(x, kernelSize: 2, stride: 2, padding: 1).asArray(Float.self), [0.25, 1.25, 2.75, 7])
        XCTAssertEqual(avgPool2d(x, kernelSize: 2, stride: 2, padding: 1, countIncludePad: false).asArray(Float.self), [1, 2.5, 5.5, 7])
    }

    // MARK: Errors

    func testErrorMessages() throws {
        try assertCrashes("testConv2dChannelMismatch", messages: ["conv2d: input has 3 channels, weight expects 1"])
        try assertCrashes("testConvSameWithStride", messages: ["conv2d: padding .same needs stride 1"])
        try assertCrashes("testMaxPoolPaddingTooLarge", messages: ["maxPool2d: padding should be at most half of the kernel size"])
    }
}

extension CrashCases {
    func testConv2dChannelMismatch() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        _ = conv2d(Tensor.zeros([2, 3, 8, 8]), weight: Tensor.zeros([4, 1, 3, 3]))
    }
    func testConvSameWithStride() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        _ = conv2d(Tensor.zeros([1, 1, 8, 8]), weight: Tensor.zeros([1, 1, 3, 3]), stride: 2, padding: .same)
    }
    func testMaxPoolPaddingTooLarge() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        _ = maxPool2d(Tensor.zeros([1, 1, 8, 8]), kernelSize: 2, padding: 2)
    }
}
