// A whole LSTM layer over a sequence as one differentiable op, as oneDNN's and cuDNN's
// RNN primitives run it: one autograd node instead of a handful per time step, the weights
// transposed once per call, each step's two products accumulated into one gates buffer,
// and in the backward pass each weight's gradient as one product over all steps.

/// Runs one LSTM layer over a sequence.
///
/// Step by step (forward in time, or backward when `reverse`), with gate order i, f, g, o:
/// `gates = x[t]·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh`, `c' = σ(f)·c + σ(i)·tanh(g)`,
/// `h' = σ(o)·tanh(c')` — the same arithmetic as `linear` and `lstmCellUpdate` per step, and
/// differentiable to any order (under `createGraph` the backward pass is written in
/// recorded ops). This is `torch.nn.LSTM`'s layer for one direction, in PyTorch's weight layout.
///
/// - Parameters:
///   - input: the sequence `[T, B, I]` (any strides).
///   - hidden: the initial hidden state `[B, H]`.
///   - cell: the initial cell state `[B, H]`.
///   - weightIH: the input weight `[4H, I]`.
///   - weightHH: the recurrent weight `[4H, H]`.
///   - biasIH: the input bias `[4H]`, or nil.
///   - biasHH: the recurrent bias `[4H]`, or nil.
///   - reverse: run from the last step to the first (a bidirectional LSTM's second direction).
/// - Returns: `output` `[T, B, H]`, the hidden state after each step in time order, and the
///   final `hidden` and `cell` states `[B, H]` (after the last step processed).
///
/// ```swift
/// let x = Tensor.randn([10, 4, 8]), h0 = Tensor.zeros([4, 16])
/// let wIH = Tensor.randn([64, 8]), wHH = Tensor.randn([64, 16])
/// let (out, h, c) = lstmLayer(input: x, hidden: h0, cell: h0, weightIH: wIH, weightHH: wHH,
///                             biasIH: nil, biasHH: nil)
/// // out: [10, 4, 16]
/// ```
public func lstmLayer(input: Tensor, hidden: Tensor, cell: Tensor, weightIH: Tensor, weightHH: Tensor,
                      biasIH: Tensor?, biasHH: Tensor?, reverse: Bool = false) -> (output: Tensor, hidden: Tensor, cell: Tensor) {
    precondition(hidden.rank == 2 && cell.shape == hidden.shape,
                 "lstmLayer: hidden \(hidden.shape) and cell \(cell.shape) must both be [B, H]")
    let (batch, width) = (hidden.shape[0], hidden.shape[1])
    precondition(input.rank == 3 && input.shape[1] == batch,
                 "lstmLayer: input \(input.shape) must be [T, \(batch), I] for states of shape \(hidden.shape)")
    let inputSize = input.shape[2]
    precondition(weightIH.shape == [4 * width, inputSize], "lstmLayer: weightIH \(weightIH.shape) must be [\(4 * width), \(inputSize)]")
    precondition(weightHH.shape == [4 * width, width], "lstmLayer: weightHH \(weightHH.shape) must be [\(4 * width), \(width)]")
    for (name, bias) in [("biasIH", biasIH), ("biasHH", biasHH)] {
        if let bias { precondition(bias.shape == [4 * width], "lstmLayer: \(name) \(bias.shape) must be [\(4 * width)]") }
    }
    let dtype = input.dtype
    let operands = [input, hidden, cell, weightIH, weightHH] + [biasIH, biasHH].compactMap { $0 }
    precondition(operands.allSatisfy { $0.dtype == dtype } && (dtype == .float32 || dtype == .float64),
                 "lstmLayer: all operands must be float32, or all float64; got \(operands.map(\.dtype))")
    precondition(operands.allSatisfy { $0.device == input.device }, "lstmLayer: operands are on different devices")

    let steps = input.shape[0]
    // While a trace is being taken (ONNX export), the layer is recorded step by step, as
    // primitives an exporter knows.
    if steps == 0 || OperationTrace.current != nil {
        return lstmLayerStepByStep(projected: input.linear(weight: weightIH, bias: biasIH), hidden: hidden, cell: cell,
                                   weightHH: weightHH, biasHH: biasHH, reverse: reverse)
    }
    let kernel = LSTMLayerKernel(input: input, hidden: hidden, cell: cell, weightIH: weightIH, weightHH: weightHH,
                                 reverse: reverse)
    let states = noGrad { kernel.forward(biasIH: biasIH, biasHH: biasHH) }
    if shouldRecord(operands) {
        record(states.states, .lstmLayer(reverse: reverse, biasIH: biasIH != nil, biasHH: biasHH != nil),
               inputs: operands, saved: operands + [states.activations], savesOutput: true)
    }
    let last = reverse ? 0 : steps - 1
    let y = states.states
    return (y.narrow(dim: 2, start: 0, length: width),
            y.select(dim: 0, index: last).narrow(dim: 1, start: 0, length: width),
            y.select(dim: 0, index: last).narrow(dim: 1, start: width, length: width))
}

/// The same layer with the input projections already computed (`projected[t] = x[t]·W_ihᵀ +
/// b_ih`, `[T, B, 4H]`), as a chain of recorded per-step ops (`linear`, `lstmCellUpdate`):
/// what a trace sees (ONNX export), what the recorded backward pass differentiates, and the
/// reference the fused op is tested against.
func lstmLayerStepByStep(projected: Tensor, hidden: Tensor, cell: Tensor, weightHH: Tensor, biasHH: Tensor?,
                         reverse: Bool) -> (output: Tensor, hidden: Tensor, cell: Tensor) {
    let steps = projected.shape[0]
    var (h, c) = (hidden, cell)
    var outputs = [Tensor?](repeating: nil, count: steps)
    for t in reverse ? Array((0..<steps).reversed()) : Array(0..<steps) {
        (h, c) = lstmCellUpdate(gates: projected.select(dim: 0, index: t) + h.linear(weight: weightHH, bias: biasHH), cell: c)
        outputs[t] = h
    }
    let output = steps == 0 ? Tensor.zeros([0] + hidden.shape, dtype: hidden.dtype, device: hidden.device)
                            : Tensor.stack(outputs.map { $0! }, dim: 0)
    return (output, h, c)
}

/// The loops of `lstmLayer` on raw tensors (nothing recorded). States are kept as one
/// `[T, B, 2H]` tensor holding `[h | c]` after each step, in time order.
///
/// The sequences of a batch never interact, so with several threads each thread runs the
/// whole recurrence for its own share of the batch rows — one parallel region per pass
/// instead of a threaded product and single-threaded gate arithmetic at every step. Each
/// step's input product is taken there too (`x[t]·W_ihᵀ`, then `h·W_hhᵀ` added into the same
/// buffer), so the gates of all steps are never materialised.
struct LSTMLayerKernel {
    let steps, batch, width: Int
    let input, hidden, cell, weightIH, weightHH: Tensor
    let reverse: Bool
    let backend: Backend
    /// Whether h₀ is all zeros (as when a caller passes no state): the products with it are
    /// then skipped.
    let hiddenIsZero: Bool

    init(input: Tensor, hidden: Tensor, cell: Tensor, weightIH: Tensor, weightHH: Tensor, reverse: Bool) {
        (steps, batch, width) = (input.shape[0], hidden.shape[0], hidden.shape[1])
        (self.input, self.hidden, self.cell) = (input, hidden.contiguous(), cell.contiguous())
        (self.weightIH, self.weightHH) = (weightIH, weightHH)
        self.reverse = reverse
        backend = input.device.backend
        hiddenIsZero = !hidden.any().item(Bool.self)
    }

    /// Time steps in the order they are processed.
    var order: [Int] { reverse ? Array((0..<steps).reversed()) : Array(0..<steps) }
    /// The step processed before `t`, or nil for the first one (which starts from the initial state).
    func previous(_ t: Int) -> Int? {
        reverse ? (t + 1 < steps ? t + 1 : nil) : (t > 0 ? t - 1 : nil)
    }

    /// How many ranges `forEachRowRange` splits the batch into: one per CPU thread when every
    /// range gets at least 8 rows, else one.
    var rowRangeCount: Int { input.device == .cpu ? max(1, min(Threading.threadCount, batch / 8)) : 1 }

    /// Runs `body(index, rows)` on `rowRangeCount` disjoint ranges of batch rows covering the
    /// batch, each on its own thread.
    func forEachRowRange(_ body: (Int, Range<Int>) -> Void) {
        let ranges = rowRangeCount
        if ranges == 1 { body(0, 0..<batch); return }
        let perRange = (batch + ranges - 1) / ranges
        Threading.concurrentPerform(ranges) { i in
            let start = i * perRange
            if start < batch { body(i, start..<min(batch, start + perRange)) }
        }
    }

    /// Rows `rows` of step `t` of a contiguous `[T, B, columns]` tensor, `count` columns from column `start`.
    func step(_ x: Tensor, _ t: Int, _ rows: Range<Int>, columns: Int, start: Int = 0, width count: Int) -> Tensor {
        Tensor(storage: x.storage, shape: [rows.count, count], strides: [columns, 1],
               offset: x.offset + (t * batch + rows.lowerBound) * columns + start, dtype: x.dtype)
    }

    /// Rows `rows` of a contiguous `[B, columns]` tensor.
    func rows(_ x: Tensor, _ rows: Range<Int>) -> Tensor {
        let columns = x.shape[1]
        return Tensor(storage: x.storage, shape: [rows.count, columns], strides: [columns, 1],
                      offset: x.offset + rows.lowerBound * columns, dtype: x.dtype)
    }

    /// `x` as one matrix operand (any 2-D strides).
    func matrix(_ x: Tensor) -> MatrixBatch {
        MatrixBatch(tensor: x, count: 1, batchStride: 0, rows: x.shape[0], rowStride: x.strides[0],
                    columns: x.shape[1], columnStride: x.strides[1])
    }

    /// The input rows `r` of step `t` (strided as `input` is).
    func inputRows(_ t: Int, _ r: Range<Int>) -> Tensor {
        Tensor(storage: input.storage, shape: [r.count, input.shape[2]], strides: [input.strides[1], input.strides[2]],
               offset: input.offset + t * input.strides[0] + r.lowerBound * input.strides[1], dtype: input.dtype)
    }

    /// The whole input as one `[T·B, I]` matrix: a view when its strides allow, else a copy.
    func inputMatrix() -> Tensor {
        let x = input.strides[0] == batch * input.strides[1] ? input : input.contiguous()
        return Tensor(storage: x.storage, shape: [steps * batch, input.shape[2]], strides: [x.strides[1], x.strides[2]],
                      offset: x.offset, dtype: x.dtype)
    }

    /// The hidden state entering step `t` (rows `r`, possibly strided) from `states`.
    func hiddenBefore(_ t: Int, _ r: Range<Int>, _ states: Tensor) -> Tensor {
        previous(t).map { step(states, $0, r, columns: 2 * width, width: width) } ?? rows(hidden, r)
    }

    /// The cell state entering step `t` (rows `r`, possibly strided) from `states`.
    func cellBefore(_ t: Int, _ r: Range<Int>, _ states: Tensor) -> Tensor {
        previous(t).map { step(states, $0, r, columns: 2 * width, start: width, width: width) } ?? rows(cell, r)
    }

    /// A fresh `[rows, columns]` tensor of the layer's dtype and device.
    func scratch(_ rows: Int, _ columns: Int) -> Tensor {
        Tensor(uninitializedShape: [rows, columns], dtype: input.dtype, device: input.device)
    }

    /// Runs the layer: the states `[T, B, 2H]` and the gate activations `[T, B, 5H]` that
    /// `lstmCellBackward` reads.
    func forward(biasIH: Tensor?, biasHH: Tensor?) -> (states: Tensor, activations: Tensor) {
        let dtype = input.dtype, device = input.device
        // Both weights transposed once ([in, 4H], read row by row), both biases as one.
        let (inputWeight, recurrentWeight) = (weightIH.t().contiguous(), weightHH.t().contiguous())
        var bias = biasIH ?? biasHH
        if let biasIH, let biasHH { bias = biasIH + biasHH }
        let states = Tensor(uninitializedShape: [steps, batch, 2 * width], dtype: dtype, device: device)
        let activations = Tensor(uninitializedShape: [steps, batch, 5 * width], dtype: dtype, device: device)
        forEachRowRange { _, r in
            // gates = x·W_ihᵀ + h·W_hhᵀ; the cell kernel adds the bias as it reads them.
            let gates = scratch(r.count, 4 * width)
            for t in order {
                backend.matmul(matrix(inputRows(t, r)), matrix(inputWeight), into: gates)
                if previous(t) != nil || !hiddenIsZero {
                    backend.matmulAdd(matrix(hiddenBefore(t, r, states)), matrix(recurrentWeight), into: gates)
                }
                backend.lstmCell(gates: gates, bias: bias, cell: cellBefore(t, r, states),
                                 into: step(states, t, r, columns: 2 * width, width: 2 * width),
                                 activations: step(activations, t, r, columns: 5 * width, width: 5 * width))
            }
        }
        return (states, activations)
    }

    /// The gradients asked for by `needs`, from `grad` `[T, B, 2H]` (of the states).
    struct Gradients {
        var input, hidden, cell, weightIH, weightHH: Tensor?
        /// The gradient of either bias (both get the same: Σ dgates over steps and rows).
        var bias: Tensor?
    }

    /// Which gradients `backward` computes.
    struct Needs {
        var input, hidden, cell, weightIH, weightHH, bias: Bool
    }

    /// Backpropagation through time from `grad` `[T, B, 2H]` (of the states).
    func backward(_ grad: Tensor, states: Tensor, activations: Tensor, needs: Needs) -> Gradients {
        let dtype = input.dtype, device = input.device
        let grad = grad.contiguous()
        let gatesGradient = Tensor(uninitializedShape: [steps, batch, 4 * width], dtype: dtype, device: device)
        // The gradients reaching the state after the step being processed (dh, dc); after
        // the loop, the gradients of the initial state.
        let carriedHidden = Tensor.zeros([batch, width], dtype: dtype, device: device)
        let carriedCell = Tensor.zeros([batch, width], dtype: dtype, device: device)
        let weight = weightHH.contiguous()
        // The biases' gradient, Σ dgates over steps and rows: each range of rows adds into its
        // own row as the cell kernel writes dgates.
        let biasParts = needs.bias ? Tensor.zeros([rowRangeCount, 4 * width], dtype: dtype, device: device) : nil
        forEachRowRange { part, r in
            let (hiddenRows, cellRows) = (rows(carriedHidden, r), rows(carriedCell, r))
            let biasRow = biasParts?.select(dim: 0, index: part)
            for t in order.reversed() {
                let stepGates = step(gatesGradient, t, r, columns: 4 * width, width: 4 * width)
                backend.lstmCellBackward(step(grad, t, r, columns: 2 * width, width: 2 * width),
                                         carried: (hiddenRows, cellRows),
                                         activations: step(activations, t, r, columns: 5 * width, width: 5 * width),
                                         cell: cellBefore(t, r, states), gatesGradient: stepGates, cellGradient: cellRows,
                                         biasGradient: biasRow)
                // The first step processed passes its hidden gradient to h₀ only.
                if previous(t) != nil || needs.hidden {
                    backend.matmul(matrix(stepGates), matrix(weight), into: hiddenRows)
                }
            }
        }
        var gradients = Gradients()
        let allGates = Tensor(storage: gatesGradient.storage, shape: [steps * batch, 4 * width], strides: [4 * width, 1],
                              offset: gatesGradient.offset, dtype: dtype)
        if needs.input {
            // dx = dgates·W_ih over all steps at once.
            let inputGradient = Tensor(uninitializedShape: [steps, batch, input.shape[2]], dtype: dtype, device: device)
            backend.matmul(matrix(allGates), matrix(weightIH.contiguous()), into: inputGradient)
            gradients.input = inputGradient
        }
        if needs.weightIH {
            // Σₜ dgatesₜᵀ·xₜ as one product.
            let weightGradient = Tensor(uninitializedShape: weightIH.shape, dtype: dtype, device: device)
            backend.matmul(matrix(allGates.t()), matrix(inputMatrix()), into: weightGradient)
            gradients.weightIH = weightGradient
        }
        if needs.weightHH {
            // Σₜ dgatesₜᵀ·hₜ₋₁: one product over every step but the first processed, whose
            // previous state is h₀ and is added after (unless h₀ is zero).
            let first = reverse ? steps - 1 : 0
            let sum = steps > 1 ? Tensor(uninitializedShape: [4 * width, width], dtype: dtype, device: device)
                                : Tensor.zeros([4 * width, width], dtype: dtype, device: device)
            if steps > 1 {
                let rows = (steps - 1) * batch
                let gateStart = reverse ? 0 : 1, stateStart = reverse ? 1 : 0
                let gatesT = Tensor(storage: gatesGradient.storage, shape: [4 * width, rows], strides: [1, 4 * width],
                                    offset: gatesGradient.offset + gateStart * batch * 4 * width, dtype: dtype)
                let previousStates = Tensor(storage: states.storage, shape: [rows, width], strides: [2 * width, 1],
                                            offset: states.offset + stateStart * batch * 2 * width, dtype: dtype)
                backend.matmul(matrix(gatesT), matrix(previousStates), into: sum)
            }
            if !hiddenIsZero {
                let firstGates = step(gatesGradient, first, 0..<batch, columns: 4 * width, width: 4 * width)
                backend.matmulAdd(matrix(firstGates.t()), matrix(hidden), into: sum)
            }
            gradients.weightHH = sum
        }
        gradients.bias = biasParts.map { $0.shape[0] == 1 ? $0.reshape([4 * width]) : $0.sum(dims: [0]) }
        gradients.hidden = needs.hidden ? carriedHidden : nil
        gradients.cell = needs.cell ? carriedCell : nil
        return gradients
    }
}
