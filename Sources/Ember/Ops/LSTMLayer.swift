// A whole LSTM layer over a sequence as one differentiable op, as oneDNN's and cuDNN's
// RNN primitives run it: one autograd node instead of a handful per time step, the
// recurrent weight transposed once per call, and in the backward pass the weight's
// gradient as one product over all steps instead of one per step.

/// Runs one LSTM layer over a sequence whose input projections are already computed.
///
/// Step by step (forward in time, or backward when `reverse`), with gate order i, f, g, o:
/// `gates = projected[t] + h·W_hhᵀ + b_hh`, `c' = σ(f)·c + σ(i)·tanh(g)`,
/// `h' = σ(o)·tanh(c')` — the same arithmetic as `lstmCellUpdate` per step, and
/// differentiable to any order (under `createGraph` the backward pass is written in
/// recorded ops).
///
/// - Parameters:
///   - projected: `[T, B, 4H]`, each step's `x·W_ihᵀ + b_ih`.
///   - hidden: the initial hidden state `[B, H]`.
///   - cell: the initial cell state `[B, H]`.
///   - weightHH: the recurrent weight `[4H, H]`.
///   - biasHH: the recurrent bias `[4H]`, or nil.
///   - reverse: run from the last step to the first (a bidirectional LSTM's second direction).
/// - Returns: `output` `[T, B, H]`, the hidden state after each step in time order, and the
///   final `hidden` and `cell` states `[B, H]` (after the last step processed).
///
/// ```swift
/// let x = Tensor.randn([10, 4, 8]), w = Tensor.randn([64, 8]), u = Tensor.randn([64, 16])
/// let h0 = Tensor.zeros([4, 16])
/// let (out, h, c) = lstmLayer(projected: x.linear(weight: w), hidden: h0, cell: h0, weightHH: u, biasHH: nil)
/// // out: [10, 4, 16]
/// ```
public func lstmLayer(projected: Tensor, hidden: Tensor, cell: Tensor, weightHH: Tensor, biasHH: Tensor?,
                      reverse: Bool = false) -> (output: Tensor, hidden: Tensor, cell: Tensor) {
    precondition(hidden.rank == 2 && cell.shape == hidden.shape,
                 "lstmLayer: hidden \(hidden.shape) and cell \(cell.shape) must both be [B, H]")
    let (batch, width) = (hidden.shape[0], hidden.shape[1])
    precondition(projected.rank == 3 && projected.shape[1] == batch && projected.shape[2] == 4 * width,
                 "lstmLayer: projected \(projected.shape) must be [T, \(batch), \(4 * width)] for states of shape \(hidden.shape)")
    precondition(weightHH.shape == [4 * width, width], "lstmLayer: weightHH \(weightHH.shape) must be [\(4 * width), \(width)]")
    if let biasHH { precondition(biasHH.shape == [4 * width], "lstmLayer: biasHH \(biasHH.shape) must be [\(4 * width)]") }
    let dtype = projected.dtype
    let operands = [projected, hidden, cell, weightHH] + (biasHH.map { [$0] } ?? [])
    precondition(operands.allSatisfy { $0.dtype == dtype } && (dtype == .float32 || dtype == .float64),
                 "lstmLayer: all operands must be float32, or all float64; got \(operands.map(\.dtype))")
    precondition(operands.allSatisfy { $0.device == projected.device }, "lstmLayer: operands are on different devices")

    let steps = projected.shape[0]
    // While a trace is being taken (ONNX export), the layer is recorded step by step, as
    // primitives an exporter knows.
    if steps == 0 || OperationTrace.current != nil {
        return lstmLayerStepByStep(projected: projected, hidden: hidden, cell: cell, weightHH: weightHH,
                                   biasHH: biasHH, reverse: reverse)
    }
    let states = noGrad {
        LSTMLayerKernel(projected: projected, hidden: hidden, cell: cell, weightHH: weightHH, reverse: reverse)
            .forward(biasHH: biasHH)
    }
    if shouldRecord(operands) {
        record(states.states, .lstmLayer(reverse: reverse), inputs: operands,
               saved: operands + [states.activations], savesOutput: true)
    }
    let last = reverse ? 0 : steps - 1
    let y = states.states
    return (y.narrow(dim: 2, start: 0, length: width),
            y.select(dim: 0, index: last).narrow(dim: 1, start: 0, length: width),
            y.select(dim: 0, index: last).narrow(dim: 1, start: width, length: width))
}

/// The same layer as a chain of recorded per-step ops (`linear`, `lstmCellUpdate`): what a
/// trace sees (ONNX export), and the reference the fused op is tested against.
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
/// instead of a threaded product and single-threaded gate arithmetic at every step.
struct LSTMLayerKernel {
    let steps, batch, width: Int
    let projected, hidden, cell, weightHH: Tensor
    let reverse: Bool
    let backend: Backend

    init(projected: Tensor, hidden: Tensor, cell: Tensor, weightHH: Tensor, reverse: Bool) {
        (steps, batch, width) = (projected.shape[0], hidden.shape[0], hidden.shape[1])
        (self.projected, self.hidden, self.cell, self.weightHH) = (projected, hidden.contiguous(), cell.contiguous(), weightHH)
        self.reverse = reverse
        backend = projected.device.backend
    }

    /// Time steps in the order they are processed.
    var order: [Int] { reverse ? Array((0..<steps).reversed()) : Array(0..<steps) }
    /// The step processed before `t`, or nil for the first one (which starts from the initial state).
    func previous(_ t: Int) -> Int? {
        reverse ? (t + 1 < steps ? t + 1 : nil) : (t > 0 ? t - 1 : nil)
    }

    /// Runs `body` on disjoint ranges of batch rows covering the batch: one range per CPU
    /// thread when every range gets at least 8 rows, else one range on this thread.
    func forEachRowRange(_ body: (Range<Int>) -> Void) {
        let threads = projected.device == .cpu ? min(Threading.threadCount, batch / 8) : 1
        if threads <= 1 { body(0..<batch); return }
        let perRange = (batch + threads - 1) / threads
        Threading.concurrentPerform(threads) { i in
            let start = i * perRange
            if start < batch { body(start..<min(batch, start + perRange)) }
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

    /// The hidden state entering step `t` (rows `r`, possibly strided) from `states`.
    func hiddenBefore(_ t: Int, _ r: Range<Int>, _ states: Tensor) -> Tensor {
        previous(t).map { step(states, $0, r, columns: 2 * width, width: width) } ?? rows(hidden, r)
    }

    /// The cell state entering step `t` (rows `r`), contiguous: copied into `scratch` when it
    /// comes from `states`.
    func cellBefore(_ t: Int, _ r: Range<Int>, _ states: Tensor, scratch: Tensor) -> Tensor {
        guard let p = previous(t) else { return rows(cell, r) }
        backend.copy(step(states, p, r, columns: 2 * width, start: width, width: width), into: scratch)
        return scratch
    }

    /// A fresh `[rows, columns]` tensor of the layer's dtype and device.
    func scratch(_ rows: Int, _ columns: Int) -> Tensor {
        Tensor(uninitializedShape: [rows, columns], dtype: projected.dtype, device: projected.device)
    }

    /// Runs the layer: the states `[T, B, 2H]` and the gate activations `[T, B, 5H]` that
    /// `lstmCellBackward` reads.
    func forward(biasHH: Tensor?) -> (states: Tensor, activations: Tensor) {
        let dtype = projected.dtype, device = projected.device
        let transposedWeight = weightHH.t().contiguous()   // [H, 4H], read row by row
        let states = Tensor(uninitializedShape: [steps, batch, 2 * width], dtype: dtype, device: device)
        let activations = Tensor(uninitializedShape: [steps, batch, 5 * width], dtype: dtype, device: device)
        let (stepStride, rowStride, columnStride) = (projected.strides[0], projected.strides[1], projected.strides[2])
        forEachRowRange { r in
            // gates = h·W_hhᵀ + projected[t] (+ b_hh), one step's rows at a time.
            let gates = scratch(r.count, 4 * width), cellScratch = scratch(r.count, width)
            let bias = biasHH.map { $0.broadcastView(to: [r.count, 4 * width]) }
            for t in order {
                backend.matmul(matrix(hiddenBefore(t, r, states)), matrix(transposedWeight), into: gates)
                let input = Tensor(storage: projected.storage, shape: [r.count, 4 * width], strides: [rowStride, columnStride],
                                   offset: projected.offset + t * stepStride + r.lowerBound * rowStride, dtype: dtype)
                backend.binary(.add, gates, input, into: gates)
                if let bias { backend.binary(.add, gates, bias, into: gates) }
                backend.lstmCell(gates: gates, cell: cellBefore(t, r, states, scratch: cellScratch),
                                 into: step(states, t, r, columns: 2 * width, width: 2 * width),
                                 activations: step(activations, t, r, columns: 5 * width, width: 5 * width))
            }
        }
        return (states, activations)
    }

    /// Gradients from `grad` `[T, B, 2H]` (of the states) to (projected, h₀, c₀, W_hh, b_hh).
    func backward(_ grad: Tensor, states: Tensor, activations: Tensor, needs: (Int) -> Bool) -> [Tensor?] {
        let dtype = projected.dtype, device = projected.device
        let grad = grad.contiguous()
        let gatesGradient = Tensor(uninitializedShape: [steps, batch, 4 * width], dtype: dtype, device: device)
        // The gradient reaching the state after the step being processed, [dh | dc]; after
        // the loop, the gradient of the initial state.
        let carried = Tensor.zeros([batch, 2 * width], dtype: dtype, device: device)
        let weight = weightHH.contiguous()
        forEachRowRange { r in
            let stepGradient = scratch(r.count, 2 * width), hiddenGradient = scratch(r.count, width)
            let cellGradient = scratch(r.count, width), cellScratch = scratch(r.count, width)
            let carriedRows = rows(carried, r)
            for t in order.reversed() {
                backend.binary(.add, step(grad, t, r, columns: 2 * width, width: 2 * width), carriedRows, into: stepGradient)
                let stepGates = step(gatesGradient, t, r, columns: 4 * width, width: 4 * width)
                backend.lstmCellBackward(stepGradient, activations: step(activations, t, r, columns: 5 * width, width: 5 * width),
                                         cell: cellBefore(t, r, states, scratch: cellScratch),
                                         gatesGradient: stepGates, cellGradient: cellGradient)
                backend.matmul(matrix(stepGates), matrix(weight), into: hiddenGradient)
                backend.copy(hiddenGradient, into: carriedRows.narrow(dim: 1, start: 0, length: width))
                backend.copy(cellGradient, into: carriedRows.narrow(dim: 1, start: width, length: width))
            }
        }
        var weightGradient: Tensor? = nil
        if needs(3) {
            // Σₜ dgatesₜᵀ·hₜ₋₁: one product over every step but the first processed, whose
            // previous state is h₀ and is added after.
            let first = reverse ? steps - 1 : 0
            let firstTerm = Tensor(uninitializedShape: [4 * width, width], dtype: dtype, device: device)
            backend.matmul(matrix(step(gatesGradient, first, 0..<batch, columns: 4 * width, width: 4 * width).t()),
                           matrix(hidden), into: firstTerm)
            if steps > 1 {
                let rows = (steps - 1) * batch
                let gateStart = reverse ? 0 : 1, stateStart = reverse ? 1 : 0
                let gatesT = Tensor(storage: gatesGradient.storage, shape: [4 * width, rows], strides: [1, 4 * width],
                                    offset: gatesGradient.offset + gateStart * batch * 4 * width, dtype: dtype)
                let previousStates = Tensor(storage: states.storage, shape: [rows, width], strides: [2 * width, 1],
                                            offset: states.offset + stateStart * batch * 2 * width, dtype: dtype)
                let sum = Tensor(uninitializedShape: [4 * width, width], dtype: dtype, device: device)
                backend.matmul(matrix(gatesT), matrix(previousStates), into: sum)
                backend.binary(.add, sum, firstTerm, into: sum)
                weightGradient = sum
            } else {
                weightGradient = firstTerm
            }
        }
        let biasGradient = needs(4) ? gatesGradient.sum(dims: [0, 1]) : nil
        return [needs(0) ? gatesGradient : nil,
                needs(1) ? carried.narrow(dim: 1, start: 0, length: width).contiguous() : nil,
                needs(2) ? carried.narrow(dim: 1, start: width, length: width).contiguous() : nil,
                weightGradient, biasGradient]
    }
}
