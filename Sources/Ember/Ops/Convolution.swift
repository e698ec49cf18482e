// Convolutions (PyTorch's torch.nn.functional API): conv1d, conv2d, convTranspose1d,
// convTranspose2d. Three differentiable primitives carry them — the convolution and its
// two gradients — each of whose derivatives is again one of the three, so convolutions
// have gradients of any order.

/// A size per spatial dimension: one integer for every dimension, or one per dimension
/// (outermost first), as PyTorch's `int or tuple` arguments.
///
/// ```swift
/// let y = conv2d(x, weight: w, stride: 2)          // stride 2 along H and W
/// let z = conv2d(x, weight: w, stride: [2, 1])     // stride 2 along H, 1 along W
/// ```
public struct ConvSize: ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, Hashable, CustomStringConvertible {
    /// One value (used for every dimension) or one per spatial dimension.
    public var values: [Int]

    /// The same size along every spatial dimension: `ConvSize(3)`.
    public init(_ value: Int) { values = [value] }
    /// One size per spatial dimension: `ConvSize([3, 5])`.
    public init(_ values: [Int]) { self.values = values }
    /// `stride: 2`
    public init(integerLiteral value: Int) { values = [value] }
    /// `stride: [2, 1]`
    public init(arrayLiteral elements: Int...) { values = elements }

    /// `3` or `[3, 5]`.
    public var description: String { values.count == 1 ? "\(values[0])" : "\(values)" }

    /// The values for `rank` spatial dims; stops naming `op` and `name` on a bad count.
    func expanded(_ rank: Int, op: String, name: String) -> [Int] {
        if values.count == 1 { return [Int](repeating: values[0], count: rank) }
        precondition(values.count == rank, "\(op): \(name) needs 1 or \(rank) values, got \(values)")
        return values
    }
}

/// The padding of a convolution: explicit zeros on both sides of each spatial dimension,
/// `.valid` (none) or `.same` (the output is as large as the input; stride 1 only, odd
/// padding puts the extra zero after, as PyTorch's `padding="same"`).
///
/// ```swift
/// conv2d(x, weight: w, padding: 1)        // one zero on every side
/// conv2d(x, weight: w, padding: [1, 2])   // 1 above and below, 2 left and right
/// conv2d(x, weight: w, padding: .same)
/// ```
public enum ConvPadding: ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, Hashable {
    /// No padding: `padding: .valid` is `padding: 0`.
    case valid
    /// Enough padding to keep the input's spatial size (stride 1 only).
    case same
    /// The given zeros before and after each spatial dimension.
    case explicit(ConvSize)

    /// `padding: 1`
    public init(integerLiteral value: Int) { self = .explicit(ConvSize(value)) }
    /// `padding: [1, 2]`
    public init(arrayLiteral elements: Int...) { self = .explicit(ConvSize(elements)) }
}

/// 1-D convolution (cross-correlation, as `torch.nn.functional.conv1d`) of an
/// `(N, C, W)` or unbatched `(C, W)` input with an `(outC, C / groups, kW)` weight.
///
/// ```swift
/// let x = Tensor.randn([8, 4, 100])
/// let w = Tensor.randn([16, 4, 5])
/// let y = conv1d(x, weight: w, padding: 2)      // [8, 16, 100]
/// ```
public func conv1d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: ConvSize = 1, padding: ConvPadding = 0,
                   dilation: ConvSize = 1, groups: Int = 1) -> Tensor {
    convolution("conv1d", spatialRank: 1, input, weight: weight, bias: bias, stride: stride, padding: padding,
                dilation: dilation, groups: groups)
}

/// 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d`) of an
/// `(N, C, H, W)` or unbatched `(C, H, W)` input with an `(outC, C / groups, kH, kW)`
/// weight and an optional `(outC)` bias. Runs on oneDNN for float32 on the CPU.
///
/// ```swift
/// let x = Tensor.randn([128, 1, 28, 28])
/// let w = Tensor.randn([32, 1, 3, 3]), b = Tensor.zeros([32])
/// let y = conv2d(x, weight: w, bias: b, padding: 1)          // [128, 32, 28, 28]
/// let z = conv2d(x, weight: w, stride: 2, padding: .valid)   // [128, 32, 13, 13]
/// ```
public func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: ConvSize = 1, padding: ConvPadding = 0,
                   dilation: ConvSize = 1, groups: Int = 1) -> Tensor {
    convolution("conv2d", spatialRank: 2, input, weight: weight, bias: bias, stride: stride, padding: padding,
                dilation: dilation, groups: groups)
}

/// 1-D transposed convolution (`torch.nn.functional.conv_transpose1d`): the gradient of
/// `conv1d` with respect to its input. Weight `(C, outC / groups, kW)`.
///
/// ```swift
/// let x = Tensor.randn([8, 16, 50])
/// let w = Tensor.randn([16, 4, 4])
/// let y = convTranspose1d(x, weight: w, stride: 2, padding: 1)   // [8, 4, 100]
/// ```
public func convTranspose1d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: ConvSize = 1, padding: ConvSize = 0,
                            outputPadding: ConvSize = 0, groups: Int = 1, dilation: ConvSize = 1) -> Tensor {
    convolutionTranspose("convTranspose1d", spatialRank: 1, input, weight: weight, bias: bias, stride: stride, padding: padding,
                         outputPadding: outputPadding, groups: groups, dilation: dilation)
}

/// 2-D transposed convolution (`torch.nn.functional.conv_transpose2d`), sometimes called
/// a fractionally strided convolution: the gradient of `conv2d` with respect to its
/// input. Input `(N, C, H, W)` or `(C, H, W)`, weight `(C, outC / groups, kH, kW)`; the
/// output is `(H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1` high
/// (likewise wide).
///
/// ```swift
/// let x = Tensor.randn([8, 32, 7, 7])
/// let w = Tensor.randn([32, 16, 4, 4])
/// let y = convTranspose2d(x, weight: w, stride: 2, padding: 1)   // [8, 16, 14, 14]
/// ```
public func convTranspose2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: ConvSize = 1, padding: ConvSize = 0,
                            outputPadding: ConvSize = 0, groups: Int = 1, dilation: ConvSize = 1) -> Tensor {
    convolutionTranspose("convTranspose2d", spatialRank: 2, input, weight: weight, bias: bias, stride: stride, padding: padding,
                         outputPadding: outputPadding, groups: groups, dilation: dilation)
}

// MARK: - Argument checking

/// Checks dtypes and devices common to convolutions.
private func checkOperands(_ op: String, _ input: Tensor, _ weight: Tensor, _ bias: Tensor?) {
    precondition(input.dtype.isFloatingPoint, "\(op): expected a floating-point input, got \(input.dtype)")
    precondition(weight.dtype == input.dtype, "\(op): input is \(input.dtype) but weight is \(weight.dtype)")
    precondition(weight.device == input.device, "\(op): input is on \(input.device) but weight is on \(weight.device)")
    if let bias {
        precondition(bias.dtype == input.dtype, "\(op): input is \(input.dtype) but bias is \(bias.dtype)")
        precondition(bias.device == input.device, "\(op): input is on \(input.device) but bias is on \(bias.device)")
    }
}

private func convolution(_ op: String, spatialRank r: Int, _ input: Tensor, weight: Tensor, bias: Tensor?, stride: ConvSize,
                         padding: ConvPadding, dilation: ConvSize, groups: Int) -> Tensor {
    precondition(input.rank == r + 1 || input.rank == r + 2,
                 "\(op): expected a \(r + 1)-D (unbatched) or \(r + 2)-D (batched) input, got shape \(input.shape)")
    precondition(weight.rank == r + 2,
                 "\(op): expected a \(r + 2)-D weight (outChannels, inChannels / groups, kernel…), got shape \(weight.shape)")
    checkOperands(op, input, weight, bias)
    precondition(groups > 0, "\(op): groups must be positive, got \(groups)")
    let batched = input.rank == r + 2
    let x = batched ? input : input.unsqueeze(0)
    let outChannels = weight.shape[0]
    precondition(outChannels % groups == 0,
                 "\(op): weight has \(outChannels) output channels, which groups = \(groups) does not divide (weight shape \(weight.shape))")
    precondition(x.shape[1] == weight.shape[1] * groups,
                 "\(op): input has \(x.shape[1]) channels, weight expects \(weight.shape[1] * groups) (input shape \(input.shape), weight shape \(weight.shape), groups \(groups))")
    if let bias {
        precondition(bias.rank == 1 && bias.shape[0] == outChannels,
                     "\(op): bias of shape \(bias.shape) does not match the weight's \(outChannels) output channels")
    }
    let s = stride.expanded(r, op: op, name: "stride"), d = dilation.expanded(r, op: op, name: "dilation")
    precondition(s.allSatisfy { $0 > 0 }, "\(op): stride must be positive, got \(stride)")
    precondition(d.allSatisfy { $0 > 0 }, "\(op): dilation must be positive, got \(dilation)")
    let kernel = Array(weight.shape[2...])
    var before = [Int](repeating: 0, count: r), after = before
    switch padding {
    case .valid: break
    case .same:
        precondition(s.allSatisfy { $0 == 1 }, "\(op): padding .same needs stride 1, got stride \(stride)")
        for i in 0..<r {
            let total = d[i] * (kernel[i] - 1)
            before[i] = total / 2
            after[i] = total - before[i]
        }
    case .explicit(let size):
        before = size.expanded(r, op: op, name: "padding")
        precondition(before.allSatisfy { $0 >= 0 }, "\(op): padding must be non-negative, got \(size)")
        after = before
    }
    for i in 0..<r {
        let padded = x.shape[2 + i] + before[i] + after[i], extent = d[i] * (kernel[i] - 1) + 1
        precondition(extent <= padded,
                     "\(op): kernel size \(kernel) (dilation \(dilation)) is larger than the padded input (input shape \(input.shape), padding \(before))")
    }
    let geometry = ConvolutionGeometry(stride: s, paddingBefore: before, paddingAfter: after, dilation: d, groups: groups)
    var out = convolutionForward(x.computable, weight.computable, bias?.computable, geometry)
    if out.dtype != input.dtype { out = out.to(input.dtype) }
    return batched ? out : out.squeeze(dim: 0)
}

private func convolutionTranspose(_ op: String, spatialRank r: Int, _ input: Tensor, weight: Tensor, bias: Tensor?, stride: ConvSize,
                                  padding: ConvSize, outputPadding: ConvSize, groups: Int, dilation: ConvSize) -> Tensor {
    precondition(input.rank == r + 1 || input.rank == r + 2,
                 "\(op): expected a \(r + 1)-D (unbatched) or \(r + 2)-D (batched) input, got shape \(input.shape)")
    precondition(weight.rank == r + 2,
                 "\(op): expected a \(r + 2)-D weight (inChannels, outChannels / groups, kernel…), got shape \(weight.shape)")
    checkOperands(op, input, weight, bias)
    precondition(groups > 0, "\(op): groups must be positive, got \(groups)")
    let batched = input.rank == r + 2
    let x = batched ? input : input.unsqueeze(0)
    precondition(weight.shape[0] % groups == 0,
                 "\(op): weight has \(weight.shape[0]) input channels, which groups = \(groups) does not divide (weight shape \(weight.shape))")
    precondition(x.shape[1] == weight.shape[0],
                 "\(op): input has \(x.shape[1]) channels, weight expects \(weight.shape[0]) (input shape \(input.shape), weight shape \(weight.shape))")
    let outChannels = weight.shape[1] * groups
    if let bias {
        precondition(bias.rank == 1 && bias.shape[0] == outChannels,
                     "\(op): bias of shape \(bias.shape) does not match the \(outChannels) output channels")
    }
    let s = stride.expanded(r, op: op, name: "stride"), d = dilation.expanded(r, op: op, name: "dilation")
    let p = padding.expanded(r, op: op, name: "padding"), extra = outputPadding.expanded(r, op: op, name: "outputPadding")
    precondition(s.allSatisfy { $0 > 0 }, "\(op): stride must be positive, got \(stride)")
    precondition(d.allSatisfy { $0 > 0 }, "\(op): dilation must be positive, got \(dilation)")
    precondition(p.allSatisfy { $0 >= 0 }, "\(op): padding must be non-negative, got \(padding)")
    var outShape = [x.shape[0], outChannels], after = p
    for i in 0..<r {
        precondition(extra[i] >= 0 && (extra[i] < s[i] || extra[i] < d[i]),
                     "\(op): outputPadding must be smaller than either stride or dilation, got outputPadding \(outputPadding), stride \(stride), dilation \(dilation)")
        let size = (x.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (weight.shape[2 + i] - 1) + extra[i] + 1
        precondition(size > 0, "\(op): output size would be \(size) along spatial dim \(i) (input shape \(input.shape), weight shape \(weight.shape))")
        outShape.append(size)
        // The equivalent convolution maps `size` back onto the input's length.
        if extra[i] >= s[i] { after[i] = p[i] - extra[i] }
    }
    let geometry = ConvolutionGeometry(stride: s, paddingBefore: p, paddingAfter: after, dilation: d, groups: groups)
    var out = convolutionInputGradient(x.computable, weight: weight.computable, geometry, inputShape: outShape)
    if let bias { out = out + bias.computable.reshape([outChannels] + [Int](repeating: 1, count: r)) }
    if out.dtype != input.dtype { out = out.to(input.dtype) }
    return batched ? out : out.squeeze(dim: 0)
}

// MARK: - Differentiable primitives

/// `conv(x, w) + b` on batched tensors of one float dtype (checked by the caller).
func convolutionForward(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ geometry: ConvolutionGeometry) -> Tensor {
    var shape = [x.shape[0], w.shape[0]]
    for i in 0..<geometry.spatialRank {
        shape.append(geometry.outputSize(i, input: x.shape[2 + i], kernel: w.shape[2 + i]))
    }
    let out = Tensor(uninitializedShape: shape, dtype: x.dtype, device: x.device)
    x.device.backend.convolution(x.contiguousRaw(), weight: w.contiguousRaw(), bias: b?.contiguousRaw(), geometry: geometry, into: out)
    let inputs = b.map { [x, w, $0] } ?? [x, w]
    if shouldRecord(inputs) { record(out, .convolution(geometry), inputs: inputs, saved: [x, w]) }
    return out
}

/// The gradient of `convolutionForward` with respect to `x` (of shape `inputShape`) for
/// output gradient `gy`: a transposed convolution, itself differentiable.
func convolutionInputGradient(_ gy: Tensor, weight w: Tensor, _ geometry: ConvolutionGeometry, inputShape: [Int]) -> Tensor {
    for i in 0..<geometry.spatialRank {
        precondition(geometry.outputSize(i, input: inputShape[2 + i], kernel: w.shape[2 + i]) == gy.shape[2 + i],
                     "convolution backward: output gradient of shape \(gy.shape) does not match input shape \(inputShape)")
    }
    let out = Tensor(uninitializedShape: inputShape, dtype: gy.dtype, device: gy.device)
    gy.device.backend.convolutionBackwardInput(gy.contiguousRaw(), weight: w.contiguousRaw(), geometry: geometry, into: out)
    if shouldRecord(gy, w) { record(out, .convolutionBackwardInput(geometry), inputs: [gy, w], saved: [gy, w]) }
    return out
}

/// The gradient of `convolutionForward` with respect to its weight (of shape
/// `weightShape`) for output gradient `gy` and input `x`; itself differentiable.
func convolutionWeightGradient(_ gy: Tensor, input x: Tensor, _ geometry: ConvolutionGeometry, weightShape: [Int]) -> Tensor {
    let out = Tensor(uninitializedShape: weightShape, dtype: gy.dtype, device: gy.device)
    gy.device.backend.convolutionBackwardWeight(gy.contiguousRaw(), input: x.contiguousRaw(), geometry: geometry, into: out)
    if shouldRecord(gy, x) { record(out, .convolutionBackwardWeight(geometry), inputs: [gy, x], saved: [gy, x]) }
    return out
}
