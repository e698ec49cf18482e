// Attention and transformer tests: PyTorch parity for every case in Fixtures/attention.json
// (written by scripts/make_attention_fixtures.py with PyTorch 2.13, float64, eval mode,
// dropout 0; state dicts loaded by name), gradchecks, dropout, state-dict names and printing.
//
// Regenerate with `.venv-ref/bin/python scripts/make_attention_fixtures.py`. A case whose
// kind has no mapping below fails.
import Foundation
import XCTest
import Ember
@testable import EmberNN

private enum AttnValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([AttnValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else { self = .array(try c.decode([AttnValue].self)) }
    }
}

private struct AttnTensor: Decodable {
    let shape: [Int]
    let dtype: String
    let data: [Double]

    var tensor: Tensor {
        switch dtype {
        case "bool": return Tensor(data.map { $0 != 0 }, shape: shape)
        case "float64", "float32":
            // The script writes -inf (in masks) as -1e308, JSON having no infinities.
            return Tensor(data.map { $0 <= -1e308 ? -Double.infinity : $0 }, shape: shape).to(.float64)
        default: preconditionFailure("unexpected fixture dtype \(dtype)")
        }
    }
}

private struct AttnCase: Decodable {
    let name: String
    let kind: String
    let config: [String: AttnValue]
    let state: [String: AttnTensor]
    let inputs: [String: AttnTensor]
    let grad_inputs: [String]
    let outputs: [AttnTensor]
    let grad_output: AttnTensor
    let grads: [String: AttnTensor]

    func int(_ key: String) throws -> Int {
        guard case .number(let v)? = config[key] else { throw AttnFixtureError("\(name): config \(key) missing") }
        return Int(v)
    }
    func optionalInt(_ key: String) -> Int? {
        if case .number(let v)? = config[key] { return Int(v) }
        return nil
    }
    func optionalDouble(_ key: String) -> Double? {
        if case .number(let v)? = config[key] { return v }
        return nil
    }
    func bool(_ key: String, _ fallback: Bool) -> Bool {
        if case .bool(let v)? = config[key] { return v }
        return fallback
    }
    func string(_ key: String) -> String? {
        if case .string(let v)? = config[key] { return v }
        return nil
    }
}

private struct AttnFixture: Decodable {
    let torch_version: String
    let cases: [AttnCase]
}

private struct AttnFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

final class AttentionTests: XCTestCase {
    override func setUp() { manualSeed(4321) }

    private func loadFixture() throws -> AttnFixture {
        guard let url = Bundle.module.url(forResource: "attention", withExtension: "json", subdirectory: "Fixtures") else {
            throw AttnFixtureError("Fixtures/attention.json is missing from the test bundle")
        }
        return try JSONDecoder().decode(AttnFixture.self, from: Data(contentsOf: url))
    }

    private func compare(_ actual: Tensor?, _ expected: AttnTensor, _ what: String) {
        guard let actual else { return XCTFail("\(what): missing") }
        XCTAssertEqual(actual.shape, expected.shape, "\(what): shape")
        assertValuesClose(doubleValues(actual), expected.data, accuracy: 1e-10, what, relative: 1e-8)
    }

    private func activation(_ c: AttnCase) throws -> TransformerActivation {
        switch c.string("activation") {
        case "relu"?: return .relu
        case "gelu"?: return .gelu
        default: throw AttnFixtureError("\(c.name): unknown activation")
        }
    }

    private func encoderLayer(_ c: AttnCase) throws -> TransformerEncoderLayer {
        TransformerEncoderLayer(dModel: try c.int("dModel"), nhead: try c.int("nhead"), dimFeedforward: try c.int("dimFeedforward"),
                                dropout: 0, activation: try activation(c), batchFirst: c.bool("batchFirst", false),
                                normFirst: c.bool("normFirst", false))
    }

    private func decoderLayer(_ c: AttnCase) throws -> TransformerDecoderLayer {
        TransformerDecoderLayer(dModel: try c.int("dModel"), nhead: try c.int("nhead"), dimFeedforward: try c.int("dimFeedforward"),
                                dropout: 0, activation: try activation(c), batchFirst: c.bool("batchFirst", false),
                                normFirst: c.bool("normFirst", false))
    }

    /// The module (nil for functions) and the call producing the outputs.
    private func mapping(_ c: AttnCase) throws -> (Module?, ([String: Tensor]) -> [Tensor]) {
        switch c.kind {
        case "sdpa":
            let causal = c.bool("isCausal", false), scale = c.optionalDouble("scale")
            return (nil, { x in
                [scaledDotProductAttention(query: x["query"]!, key: x["key"]!, value: x["value"]!, attnMask: x["attn_mask"],
                                           isCausal: causal, scale: scale)]
            })
        case "MultiheadAttention":
            let m = MultiheadAttention(embedDim: try c.int("embedDim"), numHeads: try c.int("numHeads"), bias: c.bool("bias", true),
                                       kdim: c.optionalInt("kdim"), vdim: c.optionalInt("vdim"), batchFirst: c.bool("batchFirst", false))
            let need = c.bool("needWeights", true), average = c.bool("averageAttnWeights", true)
            return (m, { x in
                let q = x["query"]!
                let (y, w) = m(q, x["key"] ?? q, x["value"] ?? q, keyPaddingMask: x["key_padding_mask"], needWeights: need,
                               attnMask: x["attn_mask"], averageAttnWeights: average)
                return [y] + (w.map { [$0] } ?? [])
            })
        case "TransformerEncoderLayer":
            let layer = try encoderLayer(c)
            return (layer, { x in [layer.forward(x["src"]!, srcMask: x["src_mask"], srcKeyPaddingMask: x["src_key_padding_mask"])] })
        case "TransformerDecoderLayer":
            let layer = try decoderLayer(c)
            return (layer, { x in
                [layer(x["tgt"]!, memory: x["memory"]!, tgtMask: x["tgt_mask"], memoryKeyPaddingMask: x["memory_key_padding_mask"])]
            })
        case "TransformerEncoder":
            let encoder = TransformerEncoder(try encoderLayer(c), numLayers: try c.int("numLayers"), norm: LayerNorm(try c.int("dModel")))
            return (encoder, { x in [encoder.forward(x["src"]!, mask: x["src_mask"])] })
        case "TransformerDecoder":
            let decoder = TransformerDecoder(try decoderLayer(c), numLayers: try c.int("numLayers"), norm: LayerNorm(try c.int("dModel")))
            return (decoder, { x in [decoder(x["tgt"]!, memory: x["memory"]!, tgtMask: x["tgt_mask"])] })
        case "RMSNorm":
            guard case .array(let dims)? = c.config["normalizedShape"] else { throw AttnFixtureError("\(c.name): normalizedShape") }
            let shape = dims.compactMap { if case .number(let v) = $0 { return Int(v) } else { return nil } }
            let norm = RMSNorm(normalizedShape: shape, eps: c.optionalDouble("eps"))
            return (norm, { x in [norm(x["input"]!)] })
        case "rope":
            let dim = try c.int("headDim")
            return (nil, { x in
                let input = x["input"]!
                let (cosT, sinT) = rotaryEmbeddingTables(seqLen: input.shape[input.rank - 2], headDim: dim, dtype: .float64)
                return [applyRotaryEmbedding(input, cos: cosT, sin: sinT)]
            })
        default:
            throw AttnFixtureError("\(c.name): kind \(c.kind) has no Ember mapping in AttentionTests")
        }
    }

    private func run(_ c: AttnCase) throws {
        let (module, call) = try mapping(c)
        if let module {
            module.to(.float64)
            try module.loadStateDict(c.state.mapValues(\.tensor))
            module.eval()
        }
        var inputs = c.inputs.mapValues(\.tensor)
        for name in c.grad_inputs {
            let t = inputs[name]!.detach()
            t.requiresGrad = true
            inputs[name] = t
        }
        let outputs = call(inputs)
        XCTAssertEqual(outputs.count, c.outputs.count, "\(c.name): number of outputs")
        for (i, (actual, expected)) in zip(outputs, c.outputs).enumerated() {
            compare(actual, expected, "\(c.name): output \(i)")
        }
        outputs[0].backward(gradient: c.grad_output.tensor)
        var expectedKeys = Set(c.grad_inputs.map { "input.\($0)" })
        for name in c.grad_inputs { compare(inputs[name]!.grad, c.grads["input.\(name)"]!, "\(c.name): gradient of \(name)") }
        if let module {
            for (name, p) in module.namedParameters() {
                expectedKeys.insert(name)
                guard let expected = c.grads[name] else { XCTFail("\(c.name): no reference gradient for \(name)"); continue }
                compare(p.grad, expected, "\(c.name): gradient of \(name)")
            }
        }
        XCTAssertEqual(Set(c.grads.keys), expectedKeys, "\(c.name): gradient keys")
    }

    func testPyTorchParity() throws {
        let fixture = try loadFixture()
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 20)
        for c in fixture.cases {
            do { try run(c) } catch { XCTFail("\(c.name): \(error)") }
        }
    }

    func testFixtureCoversEveryKind() throws {
        let kinds = Set(try loadFixture().cases.map(\.kind))
        XCTAssertEqual(kinds, ["sdpa", "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
                               "TransformerEncoder", "TransformerDecoder", "RMSNorm", "rope"])
    }

    // MARK: State-dict names

    func testMultiheadAttentionStateDictNames() {
        let packed = MultiheadAttention(embedDim: 8, numHeads: 2)
        XCTAssertEqual(packed.namedParameters().map(\.0), ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        XCTAssertEqual(packed.in_proj_weight?.shape, [24, 8])
        let separate = MultiheadAttention(embedDim: 8, numHeads: 2, bias: false, kdim: 6, vdim: 5)
        XCTAssertEqual(separate.namedParameters().map(\.0), ["q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"])
        XCTAssertEqual(separate.k_proj_weight?.shape, [8, 6])
        XCTAssertEqual(separate.v_proj_weight?.shape, [8, 5])
    }

    func testEncoderStacksIndependentCopies() {
        let layer = TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16)
        let encoder = TransformerEncoder(layer, numLayers: 2)
        XCTAssertEqual(encoder.parameterCount, 2 * layer.parameterCount)
        let names = encoder.namedParameters().map(\.0)
        XCTAssertTrue(names.contains("layers.0.self_attn.in_proj_weight"))
        XCTAssertTrue(names.contains("layers.1.norm2.bias"))
        let p0 = encoder.stateDict()["layers.0.linear1.weight"]!, p1 = encoder.stateDict()["layers.1.linear1.weight"]!
        XCTAssertTrue(p0.allclose(p1), "copies start equal")
        let first = encoder.namedParameters().first { $0.0 == "layers.0.linear1.weight" }!.1
        noGrad { _ = first.copy_(first + 1) }
        XCTAssertFalse(encoder.stateDict()["layers.0.linear1.weight"]!.allclose(encoder.stateDict()["layers.1.linear1.weight"]!),
                       "layers do not share parameters")
    }

    // MARK: Gradcheck

    func testGradcheckScaledDotProductAttention() {
        let q = Tensor.randn([2, 3, 4], dtype: .float64, requiresGrad: true)
        let k = Tensor.randn([2, 5, 4], dtype: .float64, requiresGrad: true)
        let v = Tensor.randn([2, 5, 3], dtype: .float64, requiresGrad: true)
        let mask = Tensor.randn([3, 5], dtype: .float64)
        let r1 = gradcheck({ scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], attnMask: mask) }, inputs: [q, k, v])
        XCTAssertTrue(r1.passed, r1.message)
        let k2 = Tensor.randn([2, 3, 4], dtype: .float64, requiresGrad: true)
        let v2 = Tensor.randn([2, 3, 3], dtype: .float64, requiresGrad: true)
        let r2 = gradcheck({ scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], isCausal: true) }, inputs: [q, k2, v2])
        XCTAssertTrue(r2.passed, r2.message)
    }

    func testGradcheckMultiheadAttentionAndEncoderLayer() {
        let mha = MultiheadAttention(embedDim: 4, numHeads: 2, batchFirst: true).to(.float64).eval()
        let q = Tensor.randn([2, 3, 4], dtype: .float64, requiresGrad: true)
        let kv = Tensor.randn([2, 4, 4], dtype: .float64, requiresGrad: true)
        let kpm = Tensor([false, false, true, false, false, false, false, true], shape: [2, 4])
        let r1 = gradcheck({ mha($0[0], $0[1], $0[1], keyPaddingMask: kpm).0 }, inputs: [q, kv])
        XCTAssertTrue(r1.passed, r1.message)
        let layer = TransformerEncoderLayer(dModel: 4, nhead: 2, dimFeedforward: 6, dropout: 0, activation: .gelu,
                                            batchFirst: true, normFirst: true).to(.float64).eval()
        let r2 = gradcheck({ layer($0[0]) }, inputs: [q])
        XCTAssertTrue(r2.passed, r2.message)
        let rms = RMSNorm(4, eps: 1e-6).to(.float64)
        let r3 = gradcheck({ rms($0[0]) }, inputs: [q])
        XCTAssertTrue(r3.passed, r3.message)
    }

    // MARK: Dropout and modes

    func testDropoutOnlyInTraining() {
        let q = Tensor.randn([2, 3, 4]), k = Tensor.randn([2, 5, 4]), v = Tensor.randn([2, 5, 4])
        let plain = scaledDotProductAttention(query: q, key: k, value: v)
        let dropped = scaledDotProductAttention(query: q, key: k, value: v, dropoutP: 0.5)
        XCTAssertFalse(plain.allclose(dropped))
        let all = scaledDotProductAttention(query: q, key: k, value: v, dropoutP: 1)
        XCTAssertEqual(doubleValues(all).map(abs).max(), 0)

        let mha = MultiheadAttention(embedDim: 4, numHeads: 2, dropout: 0.5, batchFirst: true)
        let x = Tensor.randn([2, 3, 4])
        let (evalOut1, _) = mha.eval()(x, x, x)
        let (evalOut2, _) = mha(x, x, x)
        XCTAssertTrue(evalOut1.allclose(evalOut2), "eval is deterministic")
        let (trainOut, _) = mha.train()(x, x, x)
        XCTAssertFalse(trainOut.allclose(evalOut1), "training applies dropout")
    }

    func testBoolAndFloatMasksAgree() {
        let q = Tensor.randn([1, 2, 3, 4]), k = Tensor.randn([1, 2, 3, 4]), v = Tensor.randn([1, 2, 3, 4])
        let keep = Tensor([true, false, false, true, true, false, true, true, true], shape: [3, 3])
        let additive = Tensor.zeros([3, 3]).maskedFill(keep.logicalNot(), -.infinity)
        let a = scaledDotProductAttention(query: q, key: k, value: v, attnMask: keep)
        let b = scaledDotProductAttention(query: q, key: k, value: v, attnMask: additive)
        let c = scaledDotProductAttention(query: q, key: k, value: v, isCausal: true)
        XCTAssertTrue(a.allclose(b, atol: 1e-6))
        XCTAssertTrue(a.allclose(c, atol: 1e-6), "this mask is the causal one")
    }

    func testLongInferenceRunsInQueryBlocksWithTheSameResult() {
        // Scores of 2 × 4 × 800 × 900 float32 (23 MB) pass the 16 MiB block threshold, so
        // without gradients the query rows are computed in blocks.
        let q = Tensor.randn([2, 4, 800, 16]), k = Tensor.randn([2, 4, 900, 16]), v = Tensor.randn([2, 4, 900, 8])
        XCTAssertTrue(noGrad { runsInQueryBlocks(query: q, key: k, value: v, dropoutP: 0, needWeights: false) })
        XCTAssertFalse(runsInQueryBlocks(query: q.requiresGrad(true), key: k, value: v, dropoutP: 0, needWeights: false))
        let keep = Tensor.rand([800, 900]).gt(0.2)
        let padding = Tensor.rand([2, 1, 1, 900]).gt(0.1)
        for (mask, causal) in [(nil, false), (nil, true), (keep, false), (padding, false)] as [(Tensor?, Bool)] {
            let recorded = scaledDotProductAttention(query: q.requiresGrad(true), key: k, value: v, attnMask: mask, isCausal: causal)
            XCTAssertNotNil(recorded.gradFn, "the recorded path builds the whole score matrix")
            let blocked = noGrad { scaledDotProductAttention(query: q, key: k, value: v, attnMask: mask, isCausal: causal) }
            XCTAssertEqual(blocked.shape, [2, 4, 800, 8])
            XCTAssertTrue(blocked.allclose(recorded.detach(), atol: 1e-5), "mask \(mask?.shape ?? []), causal \(causal)")
        }
    }

    func testIsCausalFlagsMatchExplicitMasks() {
        let forbidden = Tensor([false, true, true, false, false, true, false, false, false], shape: [3, 3])
        let mha = MultiheadAttention(embedDim: 4, numHeads: 2, batchFirst: true).eval()
        let x = Tensor.randn([2, 3, 4])
        XCTAssertTrue(mha(x, x, x, isCausal: true).0.allclose(mha(x, x, x, attnMask: forbidden).0, atol: 1e-6))
        let encoderLayer = TransformerEncoderLayer(dModel: 4, nhead: 2, dimFeedforward: 8, dropout: 0, batchFirst: true).eval()
        XCTAssertTrue(encoderLayer.forward(x, isCausal: true).allclose(encoderLayer.forward(x, srcMask: forbidden), atol: 1e-6))
        let decoderLayer = TransformerDecoderLayer(dModel: 4, nhead: 2, dimFeedforward: 8, dropout: 0, batchFirst: true).eval()
        let memory = Tensor.randn([2, 5, 4])
        XCTAssertTrue(decoderLayer(x, memory: memory, tgtIsCausal: true).allclose(decoderLayer(x, memory: memory, tgtMask: forbidden), atol: 1e-6))
        // Unbatched input with a key padding mask of shape [S].
        let (y, w) = mha(x[0], x[0], x[0], keyPaddingMask: Tensor([false, false, true]))
        XCTAssertEqual(y.shape, [3, 4])
        XCTAssertEqual(w?.shape, [3, 3])
        XCTAssertEqual(doubleValues(w!.narrow(dim: 1, start: 2, length: 1)), [0, 0, 0], "padded key gets no weight")
    }

    // MARK: Positional encodings

    func testSinusoidalPositionalEncoding() {
        let pos = SinusoidalPositionalEncoding(dModel: 4, dropout: 0, maxLen: 10, batchFirst: true)
        XCTAssertTrue(pos.stateDict().isEmpty, "the table is a non-persistent buffer")
        let y = pos(Tensor.zeros([2, 3, 4]))
        XCTAssertEqual(y.shape, [2, 3, 4])
        let row1 = [sin(1.0), cos(1.0), sin(1.0 / 100), cos(1.0 / 100)]
        assertValuesClose(Array(doubleValues(y)[4..<8]), row1, accuracy: 1e-6, "position 1")
        assertValuesClose(Array(doubleValues(y)[0..<4]), [0, 1, 0, 1], accuracy: 1e-7, "position 0")
        let seqFirst = SinusoidalPositionalEncoding(dModel: 4, dropout: 0, maxLen: 10)
        let z = seqFirst(Tensor.zeros([3, 2, 4]))
        assertValuesClose(Array(doubleValues(z)[8..<12]), row1, accuracy: 1e-6, "position 1, sequence first")
    }

    func testLearnedPositionalEmbedding() {
        let pos = LearnedPositionalEmbedding(maxLen: 6, dModel: 4)
        XCTAssertEqual(pos.namedParameters().map(\.0), ["weight"])
        let x = Tensor.zeros([2, 3, 4])
        let y = pos.forward(x, offset: 2)
        XCTAssertTrue(y[1].allclose(pos.weight.narrow(dim: 0, start: 2, length: 3)))
        y.sum().backward()
        XCTAssertEqual(doubleValues(pos.weight.grad!), [0, 0, 0, 0, 0, 0, 0, 0] + [Double](repeating: 2, count: 12) + [0, 0, 0, 0])
    }

    func testRotaryEmbeddingPreservesNormsAndRelativePositions() {
        let (c, s) = rotaryEmbeddingTables(seqLen: 4, headDim: 4, dtype: .float64)
        let x = Tensor.randn([4, 4], dtype: .float64)
        let r = applyRotaryEmbedding(x, cos: c, sin: s)
        XCTAssertTrue((r * r).sum(dim: -1).allclose((x * x).sum(dim: -1), atol: 1e-12), "a rotation keeps norms")
        // Same vector at every position: the dot product depends only on the offset.
        let same = Tensor.randn([1, 4], dtype: .float64).expand([4, 4]).contiguous()
        let rs = applyRotaryEmbedding(same, cos: c, sin: s)
        let d01 = (rs[0] * rs[1]).sum().item(Double.self), d23 = (rs[2] * rs[3]).sum().item(Double.self)
        XCTAssertEqual(d01, d23, accuracy: 1e-12)
    }

    // MARK: Printing

    func testPrinting() {
        let layer = TransformerEncoderLayer(dModel: 8, nhead: 2, dimFeedforward: 16, dropout: 0.1)
        XCTAssertEqual(layer.description, """
        TransformerEncoderLayer(
          (self_attn): MultiheadAttention(
            (out_proj): Linear(in_features=8, out_features=8, bias=True)
          )
          (linear1): Linear(in_features=8, out_features=16, bias=True)
          (dropout): Dropout(p=0.1, inplace=False)
          (linear2): Linear(in_features=16, out_features=8, bias=True)
          (norm1): LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)
          (norm2): LayerNorm((8,), eps=1e-05, elementwise_affine=True, bias=True)
          (dropout1): Dropout(p=0.1, inplace=False)
          (dropout2): Dropout(p=0.1, inplace=False)
        )
        """)
        XCTAssertEqual(RMSNorm(normalizedShape: [6]).description, "RMSNorm((6,), eps=None, elementwise_affine=True)")
        XCTAssertEqual(RMSNorm(6, eps: 1e-6).description, "RMSNorm((6,), eps=1e-06, elementwise_affine=True)")
    }
}
