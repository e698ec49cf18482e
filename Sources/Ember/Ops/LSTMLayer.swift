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
    /// Whether h₀ is all zeros (as when a caller passes no state): the products with it are
    /// then skipped.
    let hiddenIsZero: Bool

    init(projected: Tensor, hidden: Tensor, cell: Tensor, weightHH: Tensor, reverse: Bool) {
        (steps, batch, width) = (projected.shape[0], hidden.shape[0], hidden.shape[1])
        (self.projected, self.hidden, self.cell, self.weightHH) = (projected, hidden.contiguous(), cell.contiguous(), weightHH)
        self.reverse = reverse
        backend = projected.device.backend
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
    var rowRangeCount: Int { projected.device == .cpu ? max(1, min(Threading.threadCount, batch / 8)) : 1 }

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
        Tensor(uninitializedShape: [rows, columns], dtype: projected.dtype, device: projected.device)
    }

    /// Runs the layer: the states `[T, B, 2H]` and the gate activations `[T, B, 5H]` that
    /// `lstmCellBackward` reads.
    func forward(biasHH: Tensor?) -> (states: Tensor, activations: Tensor) {
        let dtype = projected.dtype, device = projected.device
        let transposedWeight = weightHH.t().contiguous()   // [H, 4H], read row by row
        let states = Tensor(uninitializedShape: [steps, batch, 2 * width], dtype: dtype, device: device)
        let activations = Tensor(uninitializedShape: [steps, batch, 5 * width], dtype: dtype, device: device)
        // The cell kernel reads each step's projected rows in place (any row stride).
        let projection = projected.strides[2] == 1 ? projected : projected.contiguous()
        let (stepStride, rowStride) = (projection.strides[0], projection.strides[1])
        forEachRowRange { _, r in
            // gates = h·W_hhᵀ; the cell kernel adds projected[t] (+ b_hh) as it reads them.
            let gates = scratch(r.count, 4 * width)
            for t in order {
                if previous(t) == nil && hiddenIsZero {
                    backend.fill(gates, with: 0)
                } else {
                    backend.matmul(matrix(hiddenBefore(t, r, states)), matrix(transposedWeight), into: gates)
                }
                let input = Tensor(storage: projection.storage, shape: [r.count, 4 * width], strides: [rowStride, 1],
                                   offset: projection.offset + t * stepStride + r.lowerBound * rowStride, dtype: dtype)
                backend.lstmCell(gates: gates, input: input, bias: biasHH, cell: cellBefore(t, r, states),
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
        // The gradients reaching the state after the step being processed (dh, dc); after
        // the loop, the gradients of the initial state.
        let carriedHidden = Tensor.zeros([batch, width], dtype: dtype, device: device)
        let carriedCell = Tensor.zeros([batch, width], dtype: dtype, device: device)
        let weight = weightHH.contiguous()
        // b_hh's gradient, Σ dgates over steps and rows: each range of rows adds into its own row
        // as the cell kernel writes dgates.
        let biasParts = needs(4) ? Tensor.zeros([rowRangeCount, 4 * width], dtype: dtype, device: device) : nil
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
                if previous(t) != nil || needs(1) {
                    backend.matmul(matrix(stepGates), matrix(weight), into: hiddenRows)
                }
            }
        }
        var weightGradient: Tensor? = nil
        if needs(3) {
            // Σₜ dgatesₜᵀ·hₜ₋₁: one product over every step but the first processed, whose
            // previous state is h₀ and is added after (unless h₀ is zero).
            let first = reverse ? steps - 1 : 0
            let sum = Tensor.zeros([4 * width, width], dtype: dtype, device: device)
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
                let firstTerm = Tensor(uninitializedShape: [4 * width, width], dtype: dtype, device: device)
                backend.matmul(matrix(step(gatesGradient, first, 0..<batch, columns: 4 * width, width: 4 * width).t()),
                               matrix(hidden), into: firstTerm)
                backend.binary(.add, sum, firstTerm, into: sum)
            }
            weightGradient = sum
        }
        let biasGradient = biasParts.map { $0.shape[0] == 1 ? $0.reshape([4 * width]) : $0.sum(dims: [0]) }
        return [needs(0) ? gatesGradient : nil, needs(1) ? carriedHidden : nil, needs(2) ? carriedCell : nil,
                weightGradient, biasGradient]
    }
}
