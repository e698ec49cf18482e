// Recurrent layers: the cells RNNCell, LSTMCell and GRUCell, the sequence modules RNN, LSTM
// and GRU (stacked, bidirectional, batch-first, with dropout between layers and
// variable-length batches), and padSequence. Parameter names, layouts, gate orders and
// initialisation are PyTorch's, so PyTorch state dicts load by name.
//
// Parameter naming: PyTorch names a stacked layer's parameters flatly (`weight_ih_l0`,
// `bias_hh_l1_reverse`, ...) on the module itself, which Swift stored properties cannot
// express for a layer count chosen at run time. These modules therefore conform to
// `CustomReflectable`: Module's reflection (`Mirror(reflecting:)`) sees exactly the
// parameters under PyTorch's names, and `replaceParameter` finds them by the same names.
import Ember

/// The activation of an Elman recurrent layer (`RNN`, `RNNCell`).
public enum RNNNonlinearity: String, Sendable {
    /// `tanh` (the default).
    case tanh
    /// `relu`.
    case relu
}

// MARK: - Cell steps shared by cells and sequence modules

/// One Elman step from a precomputed input projection `xp = x·W_ihᵀ + b_ih`.
private func rnnStep(_ xp: Tensor, _ h: Tensor, _ wHH: Tensor, _ bHH: Tensor?, _ nonlinearity: RNNNonlinearity) -> Tensor {
    let pre = xp + h.linear(weight: wHH, bias: bHH)
    return nonlinearity == .tanh ? tanh(pre) : relu(pre)
}

/// One LSTM step (gate order i, f, g, o) from a precomputed input projection.
private func lstmStep(_ xp: Tensor, _ h: Tensor, _ c: Tensor, _ wHH: Tensor, _ bHH: Tensor?) -> (h: Tensor, c: Tensor) {
    let gates = xp + h.linear(weight: wHH, bias: bHH)
    if gates.rank == 2 && (gates.dtype == .float32 || gates.dtype == .float64) && c.dtype == gates.dtype {
        let (hidden, cell) = lstmCellUpdate(gates: gates, cell: c)   // one fused kernel
        return (hidden, cell)
    }
    let parts = gates.chunk(4, dim: 1)
    let i = sigmoid(parts[0]), f = sigmoid(parts[1]), g = tanh(parts[2]), o = sigmoid(parts[3])
    let c2 = f * c + i * g
    return (o * tanh(c2), c2)
}

/// One GRU step (gate order r, z, n) from a precomputed input projection, with PyTorch's
/// formula `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 - z) ⊙ n + z ⊙ h`.
private func gruStep(_ xp: Tensor, _ h: Tensor, _ wHH: Tensor, _ bHH: Tensor?) -> Tensor {
    let x = xp.chunk(3, dim: 1)
    let hp = h.linear(weight: wHH, bias: bHH).chunk(3, dim: 1)
    let r = sigmoid(x[0] + hp[0]), z = sigmoid(x[1] + hp[1])
    let n = tanh(x[2] + r * hp[2])
    return n + z * (h - n)
}

/// Draws every tensor from 𝒰(-1/√hiddenSize, 1/√hiddenSize), PyTorch's recurrent init.
private func recurrentInit(_ tensors: [Tensor], hiddenSize: Int) {
    let bound = hiddenSize > 0 ? 1 / Double(hiddenSize).squareRoot() : 0
    for t in tensors { Init.uniform(t, a: -bound, b: bound) }
}

private func makeParameter(_ shape: [Int]) -> Tensor {
    let t = Tensor.empty(shape)
    t.requiresGrad = true
    return t
}

// MARK: - Cells

/// Shared storage of the cells: `weight_ih` `[gates·hidden, input]`, `weight_hh`
/// `[gates·hidden, hidden]`, `bias_ih` and `bias_hh` `[gates·hidden]`.
public class RecurrentCellBase: Module, CustomReflectable {
    /// Size of each input sample.
    public let inputSize: Int
    /// Size of the hidden state.
    public let hiddenSize: Int
    /// Whether the cell has the biases `bias_ih` and `bias_hh`.
    public let hasBias: Bool
    /// Input-to-hidden weight, `[gates·hiddenSize, inputSize]` (PyTorch's `weight_ih`).
    public internal(set) var weightIH: Tensor
    /// Hidden-to-hidden weight, `[gates·hiddenSize, hiddenSize]` (PyTorch's `weight_hh`).
    public internal(set) var weightHH: Tensor
    /// Input-to-hidden bias, `[gates·hiddenSize]` (`bias_ih`), or nil.
    public internal(set) var biasIH: Tensor?
    /// Hidden-to-hidden bias, `[gates·hiddenSize]` (`bias_hh`), or nil.
    public internal(set) var biasHH: Tensor?

    init(inputSize: Int, hiddenSize: Int, bias: Bool, gates: Int) {
        precondition(inputSize >= 0 && hiddenSize > 0, "recurrent cell: inputSize must be non-negative and hiddenSize positive, got \(inputSize) and \(hiddenSize)")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.hasBias = bias
        weightIH = makeParameter([gates * hiddenSize, inputSize])
        weightHH = makeParameter([gates * hiddenSize, hiddenSize])
        biasIH = bias ? makeParameter([gates * hiddenSize]) : nil
        biasHH = bias ? makeParameter([gates * hiddenSize]) : nil
        super.init()
        resetParameters()
    }

    /// Re-draws every parameter from 𝒰(-1/√hiddenSize, 1/√hiddenSize), as PyTorch.
    public func resetParameters() {
        recurrentInit([weightIH, weightHH] + [biasIH, biasHH].compactMap { $0 }, hiddenSize: hiddenSize)
    }

    /// The parameters under PyTorch's names, for Module's reflection.
    public var customMirror: Mirror {
        var children: [Mirror.Child] = [("weight_ih", weightIH), ("weight_hh", weightHH)]
        if let biasIH { children.append(("bias_ih", biasIH)) }
        if let biasHH { children.append(("bias_hh", biasHH)) }
        return Mirror(self, children: children, ancestorRepresentation: .suppressed)
    }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        switch name {
        case "weight_ih": weightIH = tensor
        case "weight_hh": weightHH = tensor
        case "bias_ih": biasIH = tensor
        case "bias_hh": biasHH = tensor
        default: super.replaceParameter(name, with: tensor)
        }
    }

    /// Checks `input` (`[batch, inputSize]` or `[inputSize]`) and returns it batched, with
    /// whether it was batched.
    func batched(_ input: Tensor, _ what: String) -> (Tensor, Bool) {
        precondition((input.rank == 1 || input.rank == 2) && input.shape.last == inputSize,
                     "\(what): expected input of shape [batch, \(inputSize)] or [\(inputSize)], got \(input.shape)")
        return input.rank == 1 ? (input.unsqueeze(0), false) : (input, true)
    }

    /// A given state, batched like the input, or zeros.
    func state(_ given: Tensor?, like input: Tensor, batched: Bool, _ what: String) -> Tensor {
        guard let given else { return Tensor.zeros([input.shape[0], hiddenSize], dtype: input.dtype, device: input.device) }
        let expected = batched ? [input.shape[0], hiddenSize] : [hiddenSize]
        precondition(given.shape == expected, "\(what): expected hidden state of shape \(expected), got \(given.shape)")
        return batched ? given : given.unsqueeze(0)
    }

    public override var extraDescription: String {
        "\(inputSize), \(hiddenSize)" + (hasBias ? "" : ", bias=False")
    }
}

/// An Elman RNN cell, `h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)` (or relu), as
/// `torch.nn.RNNCell`.
///
/// Parameters, named as PyTorch: `weight_ih` `[hiddenSize, inputSize]`, `weight_hh`
/// `[hiddenSize, hiddenSize]`, `bias_ih` and `bias_hh` `[hiddenSize]`, all from
/// 𝒰(-1/√hiddenSize, 1/√hiddenSize).
///
/// ```swift
/// let cell = RNNCell(4, 8)
/// var h = Tensor.zeros([2, 8])
/// for x in Tensor.randn([5, 2, 4]).unbind(dim: 0) { h = cell(x, h) }
/// print(cell)   // RNNCell(4, 8)
/// ```
public final class RNNCell: RecurrentCellBase {
    /// The activation.
    public let nonlinearity: RNNNonlinearity

    /// Creates a cell with PyTorch's default initialisation.
    ///
    /// - Parameters:
    ///   - inputSize: size of each input sample.
    ///   - hiddenSize: size of the hidden state.
    ///   - bias: whether to learn `bias_ih` and `bias_hh` (true by default).
    ///   - nonlinearity: `.tanh` (the default) or `.relu`.
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, nonlinearity: RNNNonlinearity = .tanh) {
        self.nonlinearity = nonlinearity
        super.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, gates: 1)
    }

    /// One step: `input` `[batch, inputSize]` (or `[inputSize]`) and hidden state
    /// `[batch, hiddenSize]` (or `[hiddenSize]`; nil for zeros) give the next hidden state.
    public func forward(_ input: Tensor, _ hx: Tensor?) -> Tensor {
        let (x, isBatched) = batched(input, "RNNCell")
        let h = state(hx, like: x, batched: isBatched, "RNNCell")
        let out = rnnStep(x.linear(weight: weightIH, bias: biasIH), h, weightHH, biasHH, nonlinearity)
        return isBatched ? out : out.squeeze(dim: 0)
    }

    /// One step from a zero hidden state.
    public override func forward(_ input: Tensor) -> Tensor { forward(input, nil) }

    /// Calls `forward(_:_:)`: `cell(x, h)`.
    public func callAsFunction(_ input: Tensor, _ hx: Tensor?) -> Tensor { forward(input, hx) }

    public override var extraDescription: String {
        super.extraDescription + (nonlinearity == .tanh ? "" : ", nonlinearity=\(nonlinearity.rawValue)")
    }
}

/// A long short-term memory cell, as `torch.nn.LSTMCell`.
///
/// With gates `i, f, g, o` (in that order in the weights):
/// `c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g)`, `h' = σ(o) ⊙ tanh(c')`. Parameters, named as PyTorch:
/// `weight_ih` `[4·hiddenSize, inputSize]`, `weight_hh` `[4·hiddenSize, hiddenSize]`,
/// `bias_ih` and `bias_hh` `[4·hiddenSize]`, all from 𝒰(-1/√hiddenSize, 1/√hiddenSize).
///
/// ```swift
/// let cell = LSTMCell(4, 8)
/// let (h, c) = cell(Tensor.randn([2, 4]), nil)   // both [2, 8]
/// ```
public final class LSTMCell: RecurrentCellBase {
    /// Creates a cell with PyTorch's default initialisation.
    ///
    /// - Parameters:
    ///   - inputSize: size of each input sample.
    ///   - hiddenSize: size of the hidden and cell states.
    ///   - bias: whether to learn `bias_ih` and `bias_hh` (true by default).
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
        super.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, gates: 4)
    }

    /// One step: `input` `[batch, inputSize]` (or `[inputSize]`) and the states `(h, c)`,
    /// each `[batch, hiddenSize]` (or `[hiddenSize]`; nil for zeros), give the next states.
    public func forward(_ input: Tensor, _ state: (h: Tensor, c: Tensor)?) -> (h: Tensor, c: Tensor) {
        let (x, isBatched) = batched(input, "LSTMCell")
        let h = self.state(state?.h, like: x, batched: isBatched, "LSTMCell")
        let c = self.state(state?.c, like: x, batched: isBatched, "LSTMCell")
        let out = lstmStep(x.linear(weight: weightIH, bias: biasIH), h, c, weightHH, biasHH)
        return isBatched ? out : (out.h.squeeze(dim: 0), out.c.squeeze(dim: 0))
    }

    /// One step from zero states, returning the hidden state `h'` only.
    public override func forward(_ input: Tensor) -> Tensor { forward(input, nil).h }

    /// Calls `forward(_:_:)`: `cell(x, (h, c))`.
    public func callAsFunction(_ input: Tensor, _ state: (h: Tensor, c: Tensor)?) -> (h: Tensor, c: Tensor) {
        forward(input, state)
    }
}

/// A gated recurrent unit cell, as `torch.nn.GRUCell`.
///
/// With gates `r, z, n` (in that order in the weights): `r = σ(W_ir x + b_ir + W_hr h + b_hr)`,
/// `z = σ(W_iz x + b_iz + W_hz h + b_hz)`, `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`,
/// `h' = (1 - z) ⊙ n + z ⊙ h`. Parameters, named as PyTorch: `weight_ih`
/// `[3·hiddenSize, inputSize]`, `weight_hh` `[3·hiddenSize, hiddenSize]`, `bias_ih` and
/// `bias_hh` `[3·hiddenSize]`, all from 𝒰(-1/√hiddenSize, 1/√hiddenSize).
///
/// ```swift
/// let cell = GRUCell(4, 8)
/// let h = cell(Tensor.randn([2, 4]), nil)   // [2, 8]
/// ```
public final class GRUCell: RecurrentCellBase {
    /// Creates a cell with PyTorch's default initialisation.
    ///
    /// - Parameters:
    ///   - inputSize: size of each input sample.
    ///   - hiddenSize: size of the hidden state.
    ///   - bias: whether to learn `bias_ih` and `bias_hh` (true by default).
    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true) {
        super.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, gates: 3)
    }

    /// One step: `input` `[batch, inputSize]` (or `[inputSize]`) and hidden state
    /// `[batch, hiddenSize]` (or `[hiddenSize]`; nil for zeros) give the next hidden state.
    public func forward(_ input: Tensor, _ hx: Tensor?) -> Tensor {
        let (x, isBatched) = batched(input, "GRUCell")
        let h = state(hx, like: x, batched: isBatched, "GRUCell")
        let out = gruStep(x.linear(weight: weightIH, bias: biasIH), h, weightHH, biasHH)
        return isBatched ? out : out.squeeze(dim: 0)
    }

    /// One step from a zero hidden state.
    public override func forward(_ input: Tensor) -> Tensor { forward(input, nil) }

    /// Calls `forward(_:_:)`: `cell(x, h)`.
    public func callAsFunction(_ input: Tensor, _ hx: Tensor?) -> Tensor { forward(input, hx) }
}

// MARK: - Sequence modules

/// The shared machinery of `RNN`, `LSTM` and `GRU` (`torch.nn.RNNBase`).
///
/// Parameters are named as PyTorch, per layer `k` and direction: `weight_ih_lk`
/// `[gates·hiddenSize, inputs]` (inputs is `inputSize` for layer 0 and
/// `directions·hiddenSize` above), `weight_hh_lk` `[gates·hiddenSize, hiddenSize]`,
/// `bias_ih_lk` and `bias_hh_lk` `[gates·hiddenSize]`, with a `_reverse` suffix for the
/// backward direction; all are drawn from 𝒰(-1/√hiddenSize, 1/√hiddenSize).
public class RecurrentBase: Module, CustomReflectable {
    enum Kind { case rnn(RNNNonlinearity), lstm, gru }

    let kind: Kind
    /// Size of each input sample.
    public let inputSize: Int
    /// Size of the hidden state.
    public let hiddenSize: Int
    /// Number of stacked layers.
    public let numLayers: Int
    /// Whether the layers have biases.
    public let hasBias: Bool
    /// Whether input and output are `[batch, seq, feature]` instead of `[seq, batch, feature]`.
    public let batchFirst: Bool
    /// Dropout probability on the outputs of every layer but the last, in training mode.
    public let dropout: Double
    /// Whether each layer also runs backwards over the sequence.
    public let bidirectional: Bool

    /// The parameters' PyTorch names, in PyTorch's order.
    public let flatWeightNames: [String]
    /// The parameters, in the order of `flatWeightNames`.
    public private(set) var flatWeights: [Tensor]

    var directions: Int { bidirectional ? 2 : 1 }
    private var weightsPerDirection: Int { hasBias ? 4 : 2 }

    init(kind: Kind, gates: Int, inputSize: Int, hiddenSize: Int, numLayers: Int, bias: Bool,
         batchFirst: Bool, dropout: Double, bidirectional: Bool) {
        precondition(inputSize >= 0 && hiddenSize > 0, "\(type(of: self)): inputSize must be non-negative and hiddenSize positive, got \(inputSize) and \(hiddenSize)")
        precondition(numLayers >= 1, "\(type(of: self)): numLayers must be at least 1, got \(numLayers)")
        precondition(dropout >= 0 && dropout <= 1, "\(type(of: self)): dropout should be a number in range [0, 1], got \(dropout)")
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.hasBias = bias
        self.batchFirst = batchFirst
        self.dropout = dropout
        self.bidirectional = bidirectional
        var names: [String] = [], weights: [Tensor] = []
        let dirs = bidirectional ? 2 : 1
        for layer in 0..<numLayers {
            for dir in 0..<dirs {
                let suffix = "_l\(layer)" + (dir == 1 ? "_reverse" : "")
                let layerInput = layer == 0 ? inputSize : dirs * hiddenSize
                names += ["weight_ih" + suffix, "weight_hh" + suffix]
                weights += [makeParameter([gates * hiddenSize, layerInput]), makeParameter([gates * hiddenSize, hiddenSize])]
                if bias {
                    names += ["bias_ih" + suffix, "bias_hh" + suffix]
                    weights += [makeParameter([gates * hiddenSize]), makeParameter([gates * hiddenSize])]
                }
            }
        }
        flatWeightNames = names
        flatWeights = weights
        super.init()
        resetParameters()
    }

    /// Re-draws every parameter from 𝒰(-1/√hiddenSize, 1/√hiddenSize), as PyTorch.
    public func resetParameters() { recurrentInit(flatWeights, hiddenSize: hiddenSize) }

    /// The parameters under PyTorch's names (`weight_ih_l0`, ...), for Module's reflection.
    public var customMirror: Mirror {
        Mirror(self, children: zip(flatWeightNames, flatWeights).map { (label: $0.0, value: $0.1 as Any) },
               ancestorRepresentation: .suppressed)
    }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        if let i = flatWeightNames.firstIndex(of: name) { flatWeights[i] = tensor } else { super.replaceParameter(name, with: tensor) }
    }

    /// `(weight_ih, weight_hh, bias_ih, bias_hh)` of one layer and direction.
    private func weights(layer: Int, direction: Int) -> (Tensor, Tensor, Tensor?, Tensor?) {
        let base = (layer * directions + direction) * weightsPerDirection
        return (flatWeights[base], flatWeights[base + 1],
                hasBias ? flatWeights[base + 2] : nil, hasBias ? flatWeights[base + 3] : nil)
    }

    /// Runs the stack. `input` as given by the caller; `h0`/`c0` `[layers·directions, batch,
    /// hidden]` (or without batch for unbatched input). Returns the output and the final
    /// states in the caller's layout.
    func run(_ input: Tensor, h0: Tensor?, c0: Tensor?, lengths: [Int]?) -> (Tensor, Tensor, Tensor?) {
        let name = String(describing: type(of: self))
        precondition((input.rank == 2 || input.rank == 3) && input.shape.last == inputSize,
                     "\(name): expected input of shape \(batchFirst ? "[batch, seq" : "[seq, batch"), \(inputSize)] or [seq, \(inputSize)], got \(input.shape)")
        let isBatched = input.rank == 3
        // Time-major [T, B, I].
        var x = isBatched ? (batchFirst ? input.transpose(0, 1) : input) : input.unsqueeze(1)
        let steps = x.shape[0], batch = x.shape[1]
        let stateShape = isBatched ? [numLayers * directions, batch, hiddenSize] : [numLayers * directions, hiddenSize]
        func states(_ given: Tensor?, _ what: String) -> [Tensor]? {
            guard let given else { return nil }
            precondition(given.shape == stateShape, "\(name): expected \(what) of shape \(stateShape), got \(given.shape)")
            return (isBatched ? given : given.unsqueeze(1)).unbind(dim: 0)
        }
        let hs = states(h0, "hidden state"), cs = states(c0, "cell state")
        // Masks for variable lengths: step t is real for sequence b when t < lengths[b].
        var masks: [Tensor]? = nil
        if let lengths {
            precondition(lengths.count == batch, "\(name): expected \(batch) lengths, got \(lengths.count)")
            precondition(lengths.allSatisfy { $0 >= 1 && $0 <= steps },
                         "\(name): lengths must lie in 1...\(steps), got \(lengths)")
            masks = (0..<steps).map { t in
                Tensor(lengths.map { t < $0 ? 1.0 : 0.0 }, shape: [batch, 1], dtype: x.dtype, device: x.device)
            }
        }
        let zeros = Tensor.zeros([batch, hiddenSize], dtype: x.dtype, device: x.device)
        var finalH: [Tensor] = [], finalC: [Tensor] = []
        for layer in 0..<numLayers {
            var outputs: [Tensor] = []
            for dir in 0..<directions {
                let index = layer * directions + dir
                let (wIH, wHH, bIH, bHH) = weights(layer: layer, direction: dir)
                var h = hs?[index] ?? zeros
                var c = cs?[index] ?? zeros
                if case .lstm = kind, masks == nil, x.dtype == .float32 || x.dtype == .float64 {
                    // The whole layer in one fused op (one autograd node, see `lstmLayer`).
                    let fused = lstmLayer(input: x, hidden: h, cell: c, weightIH: wIH, weightHH: wHH,
                                          biasIH: bIH, biasHH: bHH, reverse: dir == 1)
                    outputs.append(fused.output)
                    finalH.append(fused.hidden)
                    finalC.append(fused.cell)
                    continue
                }
                let projected = x.linear(weight: wIH, bias: bIH).unbind(dim: 0)
                var out = [Tensor?](repeating: nil, count: steps)
                for t in (dir == 0 ? Array(0..<steps) : Array((0..<steps).reversed())) {
                    var newH: Tensor, newC: Tensor? = nil
                    switch kind {
                    case .rnn(let nonlinearity): newH = rnnStep(projected[t], h, wHH, bHH, nonlinearity)
                    case .gru: newH = gruStep(projected[t], h, wHH, bHH)
                    case .lstm: (newH, newC) = lstmStep(projected[t], h, c, wHH, bHH)
                    }
                    if let m = masks?[t] {
                        // Padded steps keep the state and output zeros (pad_packed_sequence).
                        out[t] = newH * m
                        newH = h + m * (newH - h)
                        if let nc = newC { newC = c + m * (nc - c) }
                    } else {
                        out[t] = newH
                    }
                    h = newH
                    if let newC { c = newC }
                }
                outputs.append(Tensor.stack(out.map { $0! }, dim: 0))
                finalH.append(h)
                if case .lstm = kind { finalC.append(c) }
            }
            x = directions == 1 ? outputs[0] : Tensor.cat(outputs, dim: 2)
            if layer < numLayers - 1 && dropout > 0 && isTraining {
                x = EmberNN.dropout(x, p: dropout, training: true)
            }
        }
        var output = x, hn = Tensor.stack(finalH, dim: 0)
        var cn: Tensor? = finalC.isEmpty ? nil : Tensor.stack(finalC, dim: 0)
        if isBatched {
            if batchFirst { output = output.transpose(0, 1) }
        } else {
            output = output.squeeze(dim: 1)
            hn = hn.squeeze(dim: 1)
            cn = cn?.squeeze(dim: 1)
        }
        return (output, hn, cn)
    }

    public override var extraDescription: String {
        var s = "\(inputSize), \(hiddenSize)"
        if numLayers != 1 { s += ", num_layers=\(numLayers)" }
        if !hasBias { s += ", bias=False" }
        if batchFirst { s += ", batch_first=True" }
        if dropout != 0 { s += ", dropout=\(PythonRepr.float(dropout))" }
        if bidirectional { s += ", bidirectional=True" }
        return s
    }
}

/// A multi-layer Elman RNN, `hₜ = tanh(xₜ·W_ihᵀ + b_ih + hₜ₋₁·W_hhᵀ + b_hh)` (or relu), as
/// `torch.nn.RNN`.
///
/// Input is `[seq, batch, inputSize]` (`[batch, seq, inputSize]` with `batchFirst`) or
/// `[seq, inputSize]` unbatched. Calling `rnn(x, h0)` returns `(output, hidden)`: `output`
/// `[seq, batch, directions·hiddenSize]` (batch first with `batchFirst`), the last layer's
/// hidden state at every step, and `hidden` `[numLayers·directions, batch, hiddenSize]`,
/// every layer's final state. `lengths:` gives each sequence's real length in a padded batch:
/// padded steps leave outputs zero and do not touch the final states or gradients (as
/// PyTorch with `pack_padded_sequence`). See `RecurrentBase` for the parameters.
///
/// ```swift
/// let rnn = RNN(4, 8, numLayers: 2, bidirectional: true)
/// let (output, hidden) = rnn(Tensor.randn([5, 3, 4]), nil)   // [5, 3, 16], [4, 3, 8]
/// print(rnn)   // RNN(4, 8, num_layers=2, bidirectional=True)
/// ```
public final class RNN: RecurrentBase {
    /// The activation.
    public let nonlinearity: RNNNonlinearity

    /// Creates the layers with PyTorch's default initialisation.
    ///
    /// - Parameters:
    ///   - inputSize: size of each input sample.
    ///   - hiddenSize: size of the hidden state.
    ///   - numLayers: number of stacked layers (1 by default).
    ///   - nonlinearity: `.tanh` (the default) or `.relu`.
    ///   - bias: whether the layers learn biases (true by default).
    ///   - batchFirst: input and output are `[batch, seq, feature]` (false by default).
    ///   - dropout: dropout probability on each layer's output but the last, in training.
    ///   - bidirectional: also run each layer backwards (false by default).
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh,
                bias: Bool = true, batchFirst: Bool = false, dropout: Double = 0, bidirectional: Bool = false) {
        self.nonlinearity = nonlinearity
        super.init(kind: .rnn(nonlinearity), gates: 1, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                   bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
    }

    /// Runs the sequence.
    ///
    /// - Parameters:
    ///   - input: `[seq, batch, inputSize]`, `[batch, seq, inputSize]` with `batchFirst`, or
    ///     `[seq, inputSize]`.
    ///   - hx: initial hidden state `[numLayers·directions, batch, hiddenSize]`, or nil for zeros.
    ///   - lengths: each sequence's length in a padded batch, or nil when all are full.
    /// - Returns: `output` and `hidden` as described on the type.
    public func forward(_ input: Tensor, _ hx: Tensor?, lengths: [Int]? = nil) -> (output: Tensor, hidden: Tensor) {
        let (out, h, _) = run(input, h0: hx, c0: nil, lengths: lengths)
        return (out, h)
    }

    /// Runs from a zero state, returning the output only (for use in `Sequential`).
    public override func forward(_ input: Tensor) -> Tensor { forward(input, nil).output }

    /// Calls `forward(_:_:lengths:)`: `rnn(x, h0)`.
    public func callAsFunction(_ input: Tensor, _ hx: Tensor?, lengths: [Int]? = nil) -> (output: Tensor, hidden: Tensor) {
        forward(input, hx, lengths: lengths)
    }
}

/// A multi-layer long short-term memory network, as `torch.nn.LSTM`.
///
/// Each layer applies `LSTMCell`'s step (gate order i, f, g, o). Calling `lstm(x, (h0, c0))`
/// returns `(output, (h, c))`, shaped as `RNN`'s output and hidden state; see `RNN` for the
/// layouts and `lengths:`, and `RecurrentBase` for the parameters (`4·hiddenSize` rows).
///
/// ```swift
/// let lstm = LSTM(4, 8, numLayers: 2, batchFirst: true)
/// let (output, (h, c)) = lstm(Tensor.randn([3, 5, 4]), nil)   // [3, 5, 8], [2, 3, 8], [2, 3, 8]
/// ```
public final class LSTM: RecurrentBase {
    /// Creates the layers with PyTorch's default initialisation; the arguments are `RNN`'s
    /// without `nonlinearity`.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                batchFirst: Bool = false, dropout: Double = 0, bidirectional: Bool = false) {
        super.init(kind: .lstm, gates: 4, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                   bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
    }

    /// Runs the sequence from the initial states `(h0, c0)`, each
    /// `[numLayers·directions, batch, hiddenSize]` (nil for zeros); see `RNN.forward`.
    public func forward(_ input: Tensor, _ state: (h: Tensor, c: Tensor)?, lengths: [Int]? = nil)
        -> (output: Tensor, state: (h: Tensor, c: Tensor)) {
        let (out, h, c) = run(input, h0: state?.h, c0: state?.c, lengths: lengths)
        return (out, (h, c!))
    }

    /// Runs from zero states, returning the output only (for use in `Sequential`).
    public override func forward(_ input: Tensor) -> Tensor { forward(input, nil).output }

    /// Calls `forward(_:_:lengths:)`: `lstm(x, (h0, c0))`.
    public func callAsFunction(_ input: Tensor, _ state: (h: Tensor, c: Tensor)?, lengths: [Int]? = nil)
        -> (output: Tensor, state: (h: Tensor, c: Tensor)) {
        forward(input, state, lengths: lengths)
    }
}

/// A multi-layer gated recurrent unit network, as `torch.nn.GRU`.
///
/// Each layer applies `GRUCell`'s step (gate order r, z, n, with PyTorch's
/// `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`). Calling `gru(x, h0)` returns
/// `(output, hidden)`; see `RNN` for the layouts and `lengths:`, and `RecurrentBase` for
/// the parameters (`3·hiddenSize` rows).
///
/// ```swift
/// let gru = GRU(4, 8, bidirectional: true)
/// let (output, hidden) = gru(Tensor.randn([5, 3, 4]), nil)   // [5, 3, 16], [2, 3, 8]
/// ```
public final class GRU: RecurrentBase {
    /// Creates the layers with PyTorch's default initialisation; the arguments are `RNN`'s
    /// without `nonlinearity`.
    public init(_ inputSize: Int, _ hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                batchFirst: Bool = false, dropout: Double = 0, bidirectional: Bool = false) {
        super.init(kind: .gru, gates: 3, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                   bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
    }

    /// Runs the sequence; see `RNN.forward`.
    public func forward(_ input: Tensor, _ hx: Tensor?, lengths: [Int]? = nil) -> (output: Tensor, hidden: Tensor) {
        let (out, h, _) = run(input, h0: hx, c0: nil, lengths: lengths)
        return (out, h)
    }

    /// Runs from a zero state, returning the output only (for use in `Sequential`).
    public override func forward(_ input: Tensor) -> Tensor { forward(input, nil).output }

    /// Calls `forward(_:_:lengths:)`: `gru(x, h0)`.
    public func callAsFunction(_ input: Tensor, _ hx: Tensor?, lengths: [Int]? = nil) -> (output: Tensor, hidden: Tensor) {
        forward(input, hx, lengths: lengths)
    }
}

// MARK: - Padding

/// Stacks sequences of different lengths into one padded tensor
/// (`torch.nn.utils.rnn.pad_sequence`).
///
/// - Parameters:
///   - sequences: tensors `[length_i, *]` with the same trailing dimensions and dtype.
///   - batchFirst: return `[batch, maxLength, *]` instead of `[maxLength, batch, *]`.
///   - paddingValue: the value of the padded positions (0 by default).
/// - Returns: the padded batch; gradients flow back to each sequence.
///
/// ```swift
/// let batch = padSequence([Tensor.ones([3, 2]), Tensor.ones([1, 2])])   // [3, 2, 2]
/// let (out, h) = GRU(2, 4)(batch, nil, lengths: [3, 1])
/// ```
public func padSequence(_ sequences: [Tensor], batchFirst: Bool = false, paddingValue: Double = 0) -> Tensor {
    precondition(!sequences.isEmpty, "padSequence: expected at least one sequence")
    let trailing = Array(sequences[0].shape.dropFirst())
    precondition(sequences.allSatisfy { $0.rank >= 1 && Array($0.shape.dropFirst()) == trailing },
                 "padSequence: sequences must share their trailing dimensions, got \(sequences.map(\.shape))")
    let maxLength = sequences.map { $0.shape[0] }.max()!
    let padded = sequences.map { s -> Tensor in
        let missing = maxLength - s.shape[0]
        if missing == 0 { return s }
        return Tensor.cat([s, Tensor.full([missing] + trailing, paddingValue, dtype: s.dtype, device: s.device)], dim: 0)
    }
    return Tensor.stack(padded, dim: batchFirst ? 0 : 1)
}
