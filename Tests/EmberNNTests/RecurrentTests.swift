// Tests of the recurrent layers: PyTorch parity for RNN, LSTM and GRU (Fixtures/rnn.json,
// written by scripts/make_rnn_fixtures.py with PyTorch 2.13: outputs, final states and the
// gradients of the input, initial states and every parameter, including variable-length
// batches compared with pack_padded_sequence), float64 gradchecks of the cells, shapes,
// parameter names, printing and padSequence.
//
// Regenerate the fixtures with `.venv-ref/bin/python scripts/make_rnn_fixtures.py`. A case
// whose mode has no mapping below fails.
import Foundation
import XCTest
import Ember
@testable import EmberNN

private struct RNNTensor: Decodable {
    let shape: [Int]
    let data: [Double]
    var tensor: Tensor { Tensor(data, shape: shape, dtype: .float64) }
}

private struct RNNCase: Decodable {
    let name: String
    let mode: String
    let inputSize: Int
    let hiddenSize: Int
    let numLayers: Int
    let bidirectional: Bool
    let batchFirst: Bool
    let bias: Bool
    let lengths: [Int]?
    let repr: String
    let parameterNames: [String]
    let state: [String: RNNTensor]
    let input: RNNTensor
    let h0: RNNTensor?
    let c0: RNNTensor?
    let output: RNNTensor
    let hn: RNNTensor
    let cn: RNNTensor?
    let wOut: RNNTensor
    let wH: RNNTensor
    let wC: RNNTensor?
    let grads: [String: RNNTensor]
}

private struct RNNFixture: Decodable {
    let torch_version: String
    let cases: [RNNCase]
}

private struct RNNFixtureError: Error, CustomStringConvertible {
    let description: String
}

final class RecurrentTests: XCTestCase {
    private func loadFixture() throws -> RNNFixture {
        guard let url = Bundle.module.url(forResource: "rnn", withExtension: "json", subdirectory: "Fixtures") else {
            throw RNNFixtureError(description: "Fixtures/rnn.json is missing from the test bundle")
        }
        return try JSONDecoder().decode(RNNFixture.self, from: Data(contentsOf: url))
    }

    private func assertClose(_ actual: Tensor?, _ expected: RNNTensor, _ what: String, atol: Double = 1e-9,
                             file: StaticString = #filePath, line: UInt = #line) {
        guard let actual else { return XCTFail("\(what): missing", file: file, line: line) }
        XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
        guard actual.shape == expected.shape else { return }
        let a = actual.to(.float64).contiguous().asArray(Double.self)
        var worst = 0.0, at = 0
        for (i, (x, y)) in zip(a, expected.data).enumerated() where abs(x - y) > worst { worst = abs(x - y); at = i }
        XCTAssertLessThanOrEqual(worst, atol + 1e-7 * (expected.data.map(abs).max() ?? 0),
                                 "\(what): element \(at) is \(a.isEmpty ? 0 : a[at]), expected \(expected.data.isEmpty ? 0 : expected.data[at])",
                                 file: file, line: line)
    }

    private func makeModule(_ c: RNNCase) throws -> RecurrentBase {
        switch c.mode {
        case "LSTM":
            return LSTM(c.inputSize, c.hiddenSize, numLayers: c.numLayers, bias: c.bias, batchFirst: c.batchFirst,
                        bidirectional: c.bidirectional)
        case "GRU":
            return GRU(c.inputSize, c.hiddenSize, numLayers: c.numLayers, bias: c.bias, batchFirst: c.batchFirst,
                       bidirectional: c.bidirectional)
        case "RNN_TANH", "RNN_RELU":
            return RNN(c.inputSize, c.hiddenSize, numLayers: c.numLayers, nonlinearity: c.mode == "RNN_TANH" ? .tanh : .relu,
                       bias: c.bias, batchFirst: c.batchFirst, bidirectional: c.bidirectional)
        default:
            throw RNNFixtureError(description: "\(c.name): mode \(c.mode) has no Ember mapping in RecurrentTests")
        }
    }

    func testPyTorchParity() throws {
        let fixture = try loadFixture()
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 20)
        for c in fixture.cases {
            let module = try makeModule(c)
            module.to(.float64)
            XCTAssertEqual(module.namedParameters().map(\.0), c.parameterNames, "\(c.name): parameter names")
            XCTAssertEqual(module.description, c.repr, "\(c.name): repr")
            try module.loadStateDict(c.state.mapValues(\.tensor))

            let x = c.input.tensor
            x.requiresGrad = true
            let h0 = c.h0.map(\.tensor), c0 = c.c0.map(\.tensor)
            h0?.requiresGrad = true
            c0?.requiresGrad = true
            let output: Tensor, hn: Tensor, cn: Tensor?
            switch module {
            case let lstm as LSTM:
                let state: (h: Tensor, c: Tensor)? = h0.map { ($0, c0!) }
                let r = lstm(x, state, lengths: c.lengths)
                (output, hn, cn) = (r.output, r.state.h, r.state.c)
            case let gru as GRU:
                let r = gru(x, h0, lengths: c.lengths)
                (output, hn, cn) = (r.output, r.hidden, nil)
            case let rnn as RNN:
                let r = rnn(x, h0, lengths: c.lengths)
                (output, hn, cn) = (r.output, r.hidden, nil)
            default:
                throw RNNFixtureError(description: "\(c.name): unexpected module")
            }
            assertClose(output, c.output, "\(c.name): output")
            assertClose(hn, c.hn, "\(c.name): h_n")
            if let expected = c.cn { assertClose(cn, expected, "\(c.name): c_n") }

            var loss = (output * c.wOut.tensor).sum() + (hn * c.wH.tensor).sum()
            if let cn, let wC = c.wC { loss = loss + (cn * wC.tensor).sum() }
            loss.backward()
            assertClose(x.grad, c.grads["input"]!, "\(c.name): grad input")
            if let h0 { assertClose(h0.grad, c.grads["h0"]!, "\(c.name): grad h0") }
            if let c0 { assertClose(c0.grad, c.grads["c0"]!, "\(c.name): grad c0") }
            for (name, p) in module.namedParameters() {
                guard let expected = c.grads[name] else { XCTFail("\(c.name): no reference grad for \(name)"); continue }
                assertClose(p.grad, expected, "\(c.name): grad \(name)")
            }
        }
    }

    /// The cells, loaded with a one-layer module's weights by name, reproduce its output
    /// step by step (so the PyTorch parity of the modules covers the cells' formulas).
    func testCellsUnrolledMatchSequenceModules() throws {
        manualSeed(9)
        let x = Tensor.randn([4, 2, 3])
        func cellState(_ m: RecurrentBase) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: m.stateDict().map { (String($0.key.dropLast(3)), $0.value) })
        }
        let lstm = LSTM(3, 5), lstmCell = LSTMCell(3, 5)
        try lstmCell.loadStateDict(cellState(lstm))
        var state: (h: Tensor, c: Tensor)? = nil
        var outs: [Tensor] = []
        for xt in x.unbind(dim: 0) { state = lstmCell(xt, state); outs.append(state!.h) }
        XCTAssertTrue(Tensor.stack(outs).allclose(lstm(x, nil).output, atol: 1e-6))

        let gru = GRU(3, 5), gruCell = GRUCell(3, 5)
        try gruCell.loadStateDict(cellState(gru))
        var h: Tensor? = nil
        outs = []
        for xt in x.unbind(dim: 0) { h = gruCell(xt, h); outs.append(h!) }
        XCTAssertTrue(Tensor.stack(outs).allclose(gru(x, nil).output, atol: 1e-6))

        let rnn = RNN(3, 5, nonlinearity: .relu), rnnCell = RNNCell(3, 5, nonlinearity: .relu)
        try rnnCell.loadStateDict(cellState(rnn))
        h = nil
        outs = []
        for xt in x.unbind(dim: 0) { h = rnnCell(xt, h); outs.append(h!) }
        XCTAssertTrue(Tensor.stack(outs).allclose(rnn(x, nil).output, atol: 1e-6))
    }

    // MARK: Gradchecks

    private func double(_ shape: [Int]) -> Tensor {
        let t = Tensor.randn(shape, dtype: .float64)
        t.requiresGrad = true
        return t
    }

    private func checkCell(_ cell: RecurrentCellBase, _ step: @escaping (Tensor, Tensor) -> Tensor,
                           file: StaticString = #filePath, line: UInt = #line) {
        cell.to(.float64)
        let x = double([2, cell.inputSize]), h = double([2, cell.hiddenSize])
        let params = cell.parameters()
        let result = gradcheck({ step($0[0], $0[1]) }, inputs: [x, h])
        XCTAssertTrue(result.passed, result.message, file: file, line: line)
        // Parameters: gradcheck perturbs each parameter tensor in place.
        for p in params {
            let r = gradcheck({ _ in step(x.detach(), h.detach()) }, inputs: [p])
            XCTAssertTrue(r.passed, "\(type(of: cell)) parameter: \(r.message)", file: file, line: line)
        }
    }

    func testRNNCellGradcheck() {
        manualSeed(1)
        let tanhCell = RNNCell(3, 4)
        checkCell(tanhCell) { tanhCell($0, $1) }
        let reluCell = RNNCell(3, 4, nonlinearity: .relu)
        checkCell(reluCell) { reluCell($0, $1) }
    }

    func testLSTMCellGradcheck() {
        manualSeed(2)
        let cell = LSTMCell(3, 4)
        cell.to(.float64)
        let c = double([2, 4])
        checkCell(cell) { x, h in
            let (h2, c2) = cell(x, (h, c.detach()))
            return Tensor.cat([h2, c2], dim: 1)
        }
        let x = double([2, 3]), h = double([2, 4])
        let r = gradcheck({ cell($0[0], ($0[1], $0[2])).c }, inputs: [x, h, c])
        XCTAssertTrue(r.passed, r.message)
    }

    func testGRUCellGradcheck() {
        manualSeed(3)
        let cell = GRUCell(3, 4)
        checkCell(cell) { cell($0, $1) }
    }

    func testSequenceGradcheckWithLengths() {
        manualSeed(4)
        let gru = GRU(2, 3, numLayers: 2, bidirectional: true)
        gru.to(.float64)
        let x = double([4, 2, 2])
        let r = gradcheck({ args in
            let (out, h) = gru(args[0], nil, lengths: [4, 2])
            return Tensor.cat([out.reshape([-1]), h.reshape([-1])], dim: 0)
        }, inputs: [x])
        XCTAssertTrue(r.passed, r.message)
        // Padded steps have no influence.
        let (_, h) = gru(x, nil, lengths: [4, 2])
        h.sum().backward()
        let g = x.grad!.asArray(Double.self)
        // x[t, 1, :] for t >= 2 is padding: zero gradient.
        for t in 2..<4 { for f in 0..<2 { XCTAssertEqual(g[(t * 2 + 1) * 2 + f], 0) } }
    }

    // MARK: Shapes, names, printing

    func testShapes() {
        manualSeed(5)
        let lstm = LSTM(4, 8, numLayers: 2, batchFirst: true, bidirectional: true)
        let (out, (h, c)) = lstm(Tensor.randn([3, 5, 4]), nil)
        XCTAssertEqual(out.shape, [3, 5, 16])
        XCTAssertEqual(h.shape, [4, 3, 8])
        XCTAssertEqual(c.shape, [4, 3, 8])
        XCTAssertEqual(lstm(Tensor.randn([3, 5, 4])).shape, [3, 5, 16])

        let gru = GRU(4, 6)
        let (o2, h2) = gru(Tensor.randn([7, 4]), nil)   // unbatched
        XCTAssertEqual(o2.shape, [7, 6])
        XCTAssertEqual(h2.shape, [1, 6])

        let rnn = RNN(4, 6, numLayers: 3, nonlinearity: .relu)
        let (o3, h3) = rnn(Tensor.randn([7, 2, 4]), Tensor.zeros([3, 2, 6]))
        XCTAssertEqual(o3.shape, [7, 2, 6])
        XCTAssertEqual(h3.shape, [3, 2, 6])

        XCTAssertEqual(RNNCell(4, 6)(Tensor.randn([2, 4]), nil).shape, [2, 6])
        XCTAssertEqual(GRUCell(4, 6)(Tensor.randn([4]), nil).shape, [6])
        let (hc, cc) = LSTMCell(4, 6)(Tensor.randn([2, 4]), nil)
        XCTAssertEqual(hc.shape, [2, 6])
        XCTAssertEqual(cc.shape, [2, 6])
    }

    func testLastOutputMatchesFinalStateForward() {
        manualSeed(6)
        let lstm = LSTM(3, 5, numLayers: 2)
        let (out, (h, _)) = lstm(Tensor.randn([6, 2, 3]), nil)
        XCTAssertTrue(out.select(dim: 0, index: 5).allclose(h.select(dim: 0, index: 1)))
    }

    func testParameterNamesShapesAndInit() {
        let lstm = LSTM(3, 5, numLayers: 2, bidirectional: true)
        let names = lstm.namedParameters().map(\.0)
        XCTAssertEqual(names.prefix(8), ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                          "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"])
        XCTAssertEqual(names.count, 16)
        let shapes = Dictionary(uniqueKeysWithValues: lstm.namedParameters().map { ($0.0, $0.1.shape) })
        XCTAssertEqual(shapes["weight_ih_l0"], [20, 3])
        XCTAssertEqual(shapes["weight_ih_l1"], [20, 10])
        XCTAssertEqual(shapes["weight_hh_l1_reverse"], [20, 5])
        let bound = 1 / 5.0.squareRoot()
        for p in lstm.parameters() {
            XCTAssertTrue(p.requiresGrad)
            XCTAssertLessThanOrEqual(p.abs().max().item(Double.self), bound)
        }
        XCTAssertEqual(GRU(3, 4, bias: false).namedParameters().map(\.0), ["weight_ih_l0", "weight_hh_l0"])
        XCTAssertEqual(GRUCell(3, 4).namedParameters().map { "\($0.0)\($0.1.shape)" },
                       ["weight_ih[12, 3]", "weight_hh[12, 4]", "bias_ih[12]", "bias_hh[12]"])
        XCTAssertEqual(Set(lstm.stateDict().keys), Set(names))
    }

    func testPrinting() {
        XCTAssertEqual(RNN(4, 8, numLayers: 2, nonlinearity: .relu, bias: false, batchFirst: true, dropout: 0.25,
                           bidirectional: true).description,
                       "RNN(4, 8, num_layers=2, bias=False, batch_first=True, dropout=0.25, bidirectional=True)")
        XCTAssertEqual(RNNCell(4, 8, bias: false, nonlinearity: .relu).description, "RNNCell(4, 8, bias=False, nonlinearity=relu)")
        XCTAssertEqual(LSTMCell(4, 8).description, "LSTMCell(4, 8)")
        XCTAssertEqual(GRU(4, 8, dropout: 0.5).description, "GRU(4, 8, dropout=0.5)")
        XCTAssertEqual(LSTM(4, 8).description, "LSTM(4, 8)")
        let model = Sequential(LSTM(4, 8), Linear(8, 2))
        XCTAssertTrue(model.description.contains("(0): LSTM(4, 8)"))
    }

    func testDropoutBetweenLayersOnlyInTraining() {
        manualSeed(7)
        let gru = GRU(3, 4, numLayers: 2, dropout: 0.5)
        let x = Tensor.randn([5, 2, 3])
        gru.eval()
        let a = gru(x, nil).output, b = gru(x, nil).output
        XCTAssertTrue(a.equal(b))
        gru.train()
        let c = gru(x, nil).output, d = gru(x, nil).output
        XCTAssertFalse(c.equal(d))
    }

    func testMoveToFloat64KeepsNames() {
        let rnn = RNN(2, 3, numLayers: 2)
        rnn.to(.float64)
        XCTAssertTrue(rnn.parameters().allSatisfy { $0.dtype == .float64 && $0.requiresGrad })
        XCTAssertEqual(rnn.flatWeights.map(\.dtype), Array(repeating: .float64, count: 8))
        let (out, _) = rnn(Tensor.randn([3, 1, 2], dtype: .float64), nil)
        XCTAssertEqual(out.dtype, .float64)
    }

    func testPadSequence() {
        let a = Tensor([1.0, 2, 3, 4, 5, 6], shape: [3, 2]), b = Tensor([7.0, 8], shape: [1, 2])
        a.requiresGrad = true
        let p = padSequence([a, b], batchFirst: true, paddingValue: -1)
        XCTAssertEqual(p.shape, [2, 3, 2])
        XCTAssertEqual(p.asArray(Double.self), [1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, -1])
        let q = padSequence([a, b])
        XCTAssertEqual(q.shape, [3, 2, 2])
        XCTAssertEqual(q.asArray(Double.self), [1, 2, 7, 8, 3, 4, 0, 0, 5, 6, 0, 0])
        q.sum().backward()
        XCTAssertEqual(a.grad?.asArray(Double.self), [1, 1, 1, 1, 1, 1])
    }

    func testLengthsMatchTruncatedSequences() {
        manualSeed(8)
        let lstm = LSTM(2, 3, bidirectional: true)
        let long = Tensor.randn([4, 2]), short = Tensor.randn([2, 2])
        let batch = padSequence([long, short])
        let (out, (h, c)) = lstm(batch, nil, lengths: [4, 2])
        let (outShort, (hShort, cShort)) = lstm(short, nil)
        XCTAssertTrue(out.select(dim: 1, index: 1).narrow(dim: 0, start: 0, length: 2).allclose(outShort, atol: 1e-6))
        XCTAssertTrue(h.select(dim: 1, index: 1).allclose(hShort, atol: 1e-6))
        XCTAssertTrue(c.select(dim: 1, index: 1).allclose(cShort, atol: 1e-6))
        XCTAssertEqual(out.select(dim: 1, index: 1).narrow(dim: 0, start: 2, length: 2).abs().sum().item(Double.self), 0)
    }
}
