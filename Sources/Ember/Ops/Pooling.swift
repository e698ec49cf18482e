// Pooling (PyTorch's torch.nn.functional API): max, average and adaptive pooling in 1-D
// and 2-D. Max and average pooling are backend primitives; their gradients are
// differentiable ops too (a gather and an average pool), so higher orders work.

/// 1-D max pooling (`torch.nn.functional.max_pool1d`) over `(N, C, W)` or `(C, W)`.
///
/// ```swift
/// let y = maxPool1d(Tensor.randn([8, 4, 100]), kernelSize: 2)   // [8, 4, 50]
/// ```
public func maxPool1d(_ input: Tensor, kernelSize: ConvSize, stride: ConvSize? = nil, padding: ConvSize = 0,
                      dilation: ConvSize = 1, ceilMode: Bool = false) -> Tensor {
    maxPooling("maxPool1d", spatialRank: 1, input, kernelSize, stride, padding, dilation, ceilMode).values
}

/// 2-D max pooling (`torch.nn.functional.max_pool2d`) over `(N, C, H, W)` or `(C, H, W)`.
/// `stride` defaults to `kernelSize`; padding counts as −∞; `ceilMode` rounds the output
/// size up (a last window may hang over the bottom/right edge).
///
/// ```swift
/// let x = Tensor.randn([128, 32, 28, 28])
/// let y = maxPool2d(x, kernelSize: 2)                          // [128, 32, 14, 14]
/// let z = maxPool2d(x, kernelSize: 3, stride: 2, padding: 1)   // [128, 32, 14, 14]
/// ```
public func maxPool2d(_ input: Tensor, kernelSize: ConvSize, stride: ConvSize? = nil, padding: ConvSize = 0,
                      dilation: ConvSize = 1, ceilMode: Bool = false) -> Tensor {
    maxPooling("maxPool2d", spatialRank: 2, input, kernelSize, stride, padding, dilation, ceilMode).values
}

/// 2-D max pooling that also returns, for every output, the flat index (`h · W + w`)
/// of the chosen input element in its plane (`return_indices=True` in PyTorch).
///
/// ```swift
/// let (values, indices) = maxPool2dWithIndices(x, kernelSize: 2)
/// ```
public func maxPool2dWithIndices(_ input: Tensor, kernelSize: ConvSize, stride: ConvSize? = nil, padding: ConvSize = 0,
                                 dilation: ConvSize = 1, ceilMode: Bool = false) -> (values: Tensor, indices: Tensor) {
    maxPooling("maxPool2d", spatialRank: 2, input, kernelSize, stride, padding, dilation, ceilMode)
}

/// 1-D average pooling (`torch.nn.functional.avg_pool1d`) over `(N, C, W)` or `(C, W)`.
///
/// ```swift
/// let y = avgPool1d(Tensor.randn([8, 4, 100]), kernelSize: 4)   // [8, 4, 25]
/// ```
public func avgPool1d(_ input: Tensor, kernelSize: ConvSize, stride: ConvSize? = nil, padding: ConvSize = 0,
                      ceilMode: Bool = false, countIncludePad: Bool = true) -> Tensor {
    averagePooling("avgPool1d", spatialRank: 1, input, kernelSize, stride, padding, ceilMode, countIncludePad)
}

/// 2-D average pooling (`torch.nn.functional.avg_pool2d`) over `(N, C, H, W)` or
/// `(C, H, W)`. With `countIncludePad` (the default) padded zeros count in the divisor;
/// windows that `ceilMode` adds past the padding never do.
///
/// ```swift
/// let y = avgPool2d(Tensor.randn([8, 16, 32, 32]), kernelSize: 2)   // [8, 16, 16, 16]
/// let z = avgPool2d(x, kernelSize: 3, stride: 2, padding: 1, countIncludePad: false)
/// ```
public func avgPool2d(_ input: Tensor, kernelSize: ConvSize, stride: ConvSize? = nil, padding: ConvSize = 0,
                      ceilMode: Bool = false, countIncludePad: Bool = true) -> Tensor {
    averagePooling("avgPool2d", spatialRank: 2, input, kernelSize, stride, padding, ceilMode, countIncludePad)
}

/// 1-D adaptive average pooling (`torch.nn.functional.adaptive_avg_pool1d`): output
/// position `i` averages input `⌊i·W/outW⌋ ..< ⌈(i+1)·W/outW⌉`.
///
/// ```swift
/// let y = adaptiveAvgPool1d(Tensor.randn([8, 4, 100]), outputSize: 7)   // [8, 4, 7]
/// ```
public func adaptiveAvgPool1d(_ input: Tensor, outputSize: ConvSize) -> Tensor {
    adaptivePooling("adaptiveAvgPool1d", spatialRank: 1, input, outputSize, max: false)
}

/// 2-D adaptive average pooling (`torch.nn.functional.adaptive_avg_pool2d`) to a fixed
/// output size, whatever the input's.
///
/// ```swift
/// let features = Tensor.randn([8, 512, 7, 7])
/// let pooled = adaptiveAvgPool2d(features, outputSize: 1)       // [8, 512, 1, 1]
/// let grid = adaptiveAvgPool2d(features, outputSize: [3, 2])    // [8, 512, 3, 2]
/// ```
public func adaptiveAvgPool2d(_ input: Tensor, outputSize: ConvSize) -> Tensor {
    adaptivePooling("adaptiveAvgPool2d", spatialRank: 2, input, outputSize, max: false)
}

/// 1-D adaptive max pooling (`torch.nn.functional.adaptive_max_pool1d`), windows as in
/// `adaptiveAvgPool1d`.
///
/// ```swift
/// let y = adaptiveMaxPool1d(Tensor.randn([8, 4, 100]), outputSize: 7)   // [8, 4, 7]
/// ```
public func adaptiveMaxPool1d(_ input: Tensor, outputSize: ConvSize) -> Tensor {
    adaptivePooling("adaptiveMaxPool1d", spatialRank: 1, input, outputSize, max: true)
}

/// 2-D adaptive max pooling (`torch.nn.functional.adaptive_max_pool2d`), windows as in
/// `adaptiveAvgPool2d`.
///
/// ```swift
/// let y = adaptiveMaxPool2d(Tensor.randn([8, 64, 10, 10]), outputSize: 3)   // [8, 64, 3, 3]
/// ```
public func adaptiveMaxPool2d(_ input: Tensor, outputSize: ConvSize) -> Tensor {
    adaptivePooling("adaptiveMaxPool2d", spatialRank: 2, input, outputSize, max: true)
}

// MARK: - Argument checking

/// PyTorch's pooling output length (`pooling_output_shape`).
private func pooledSize(_ input: Int, kernel: Int, padding: Int, stride: Int, dilation: Int, ceilMode: Bool) -> Int {
    let numerator = input + 2 * padding - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0)
    var size = (numerator >= 0 ? numerator / stride : -((-numerator + stride - 1) / stride)) + 1
    // The last window must start inside the input or its left padding.
    if ceilMode && (size - 1) * stride >= input + padding { size -= 1 }
    return size
}

/// Checks a pooling call and returns the batched input, its geometry and output shape.
private func poolingSetup(_ op: String, _ r: Int, _ input: Tensor, _ kernelSize: ConvSize, _ stride: ConvSize?, _ padding: ConvSize,
                          _ dilation: ConvSize, _ ceilMode: Bool, countIncludePad: Bool)
    -> (x: Tensor, batched: Bool, geometry: PoolingGeometry, shape: [Int]) {
    precondition(input.rank == r + 1 || input.rank == r + 2,
                 "\(op): expected a \(r + 1)-D (unbatched) or \(r + 2)-D (batched) input, got shape \(input.shape)")
    precondition(input.dtype.isFloatingPoint, "\(op): expected a floating-point input, got \(input.dtype)")
    let batched = input.rank == r + 2
    let x = batched ? input : input.unsqueeze(0)
    let k = kernelSize.expanded(r, op: op, name: "kernelSize")
    let s = stride.map { $0.values.isEmpty ? k : $0.expanded(r, op: op, name: "stride") } ?? k
    let p = padding.expanded(r, op: op, name: "padding"), d = dilation.expanded(r, op: op, name: "dilation")
    precondition(k.allSatisfy { $0 > 0 }, "\(op): kernelSize must be positive, got \(kernelSize)")
    precondition(s.allSatisfy { $0 > 0 }, "\(op): stride must be positive, got \(s)")
    precondition(d.allSatisfy { $0 > 0 }, "\(op): dilation must be positive, got \(dilation)")
    var shape = Array(x.shape[..<2])
    for i in 0..<r {
        precondition(p[i] >= 0 && p[i] <= k[i] / 2,
                     "\(op): padding should be at most half of the kernel size, got padding \(padding) and kernelSize \(kernelSize)")
        let size = pooledSize(x.shape[2 + i], kernel: k[i], padding: p[i], stride: s[i], dilation: d[i], ceilMode: ceilMode)
        precondition(size > 0, "\(op): output size is too small: input shape \(input.shape), kernelSize \(kernelSize), stride \(s), padding \(padding), dilation \(dilation) give \(size)")
        shape.append(size)
    }
    return (x, batched, PoolingGeometry(kernel: k, stride: s, padding: p, dilation: d, countIncludePad: countIncludePad), shape)
}

private func maxPooling(_ op: String, spatialRank r: Int, _ input: Tensor, _ kernelSize: ConvSize, _ stride: ConvSize?,
                        _ padding: ConvSize, _ dilation: ConvSize, _ ceilMode: Bool) -> (values: Tensor, indices: Tensor) {
    let (x, batched, geometry, shape) = poolingSetup(op, r, input, kernelSize, stride, padding, dilation, ceilMode, countIncludePad: true)
    var (values, indices) = maxPoolForward(x.computable, geometry, outputShape: shape)
    if values.dtype != input.dtype { values = values.to(input.dtype) }
    return batched ? (values, indices) : (values.squeeze(dim: 0), indices.squeeze(dim: 0))
}

private func averagePooling(_ op: String, spatialRank r: Int, _ input: Tensor, _ kernelSize: ConvSize, _ stride: ConvSize?,
                            _ padding: ConvSize, _ ceilMode: Bool, _ countIncludePad: Bool) -> Tensor {
    let (x, batched, geometry, shape) = poolingSetup(op, r, input, kernelSize, stride, padding, 1, ceilMode, countIncludePad: countIncludePad)
    var out = avgPoolForward(x.computable, geometry, outputShape: shape)
    if out.dtype != input.dtype { out = out.to(input.dtype) }
    return batched ? out : out.squeeze(dim: 0)
}

private func adaptivePooling(_ op: String, spatialRank r: Int, _ input: Tensor, _ outputSize: ConvSize, max: Bool) -> Tensor {
    precondition(input.rank == r + 1 || input.rank == r + 2,
                 "\(op): expected a \(r + 1)-D (unbatched) or \(r + 2)-D (batched) input, got shape \(input.shape)")
    precondition(input.dtype.isFloatingPoint, "\(op): expected a floating-point input, got \(input.dtype)")
    let sizes = outputSize.expanded(r, op: op, name: "outputSize")
    precondition(sizes.allSatisfy { $0 > 0 }, "\(op): outputSize must be positive, got \(outputSize)")
    let batched = input.rank == r + 2
    var x = batched ? input : input.unsqueeze(0)
    let spatial = Array(x.shape[2...])
    precondition(spatial.allSatisfy { $0 > 0 }, "\(op): input of shape \(input.shape) has an empty spatial dim")
    if zip(spatial, sizes).allSatisfy({ $0 % $1 == 0 }) {
        // Equal windows: one ordinary pooling.
        let kernel = ConvSize(zip(spatial, sizes).map { $0 / $1 })
        if !max && sizes.allSatisfy({ $0 == 1 }) {
            x = x.mean(dims: Array(2..<(2 + r)), keepDim: true)
        } else if max {
            x = maxPooling(op, spatialRank: r, x, kernel, kernel, 0, 1, false).values
        } else {
            x = averagePooling(op, spatialRank: r, x, kernel, kernel, 0, false, true)
        }
        return batched ? x : x.squeeze(dim: 0)
    }
    // Unequal windows, one spatial dim at a time (separable for both max and mean).
    for i in 0..<r {
        let dim = 2 + i, length = x.shape[dim], count = sizes[i]
        let windows = (0..<count).map { o in (o * length / count, ((o + 1) * length + count - 1) / count) }
        if max {
            x = Tensor.cat(windows.map { x.narrow(dim: dim, start: $0.0, length: $0.1 - $0.0).amax(dims: [dim], keepDim: true) }, dim: dim)
        } else {
            // The averaging matrix (count × length), applied along `dim`.
            var weights = [Double](repeating: 0, count: count * length)
            for (o, (start, end)) in windows.enumerated() {
                for j in start..<end { weights[o * length + j] = 1 / Double(end - start) }
            }
            let matrix = Tensor(weights, shape: [count, length]).to(x.dtype).to(x.device)
            x = x.transpose(dim, x.rank - 1).matmul(matrix.t()).transpose(dim, x.rank - 1)
        }
    }
    return batched ? x : x.squeeze(dim: 0)
}

// MARK: - Differentiable primitives

/// Max pooling of a batched float tensor; records `.maxPool` (gradient through indices).
func maxPoolForward(_ x: Tensor, _ geometry: PoolingGeometry, outputShape: [Int]) -> (Tensor, Tensor) {
    let out = Tensor(uninitializedShape: outputShape, dtype: x.dtype, device: x.device)
    let indices = Tensor(uninitializedShape: outputShape, dtype: .int64, device: x.device)
    x.device.backend.maxPool(x.contiguousRaw(), geometry: geometry, into: out, indices: indices)
    if shouldRecord(x) { record(out, .maxPool(geometry), inputs: [x], saved: [indices]) }
    return (out, indices)
}

/// The gradient of max pooling: `gy` summed into an `inputShape` tensor at `indices`.
/// Differentiable in `gy` (its derivative gathers at the same indices).
func maxPoolInputGradient(_ gy: Tensor, indices: Tensor, inputShape: [Int]) -> Tensor {
    let out = Tensor(uninitializedShape: inputShape, dtype: gy.dtype, device: gy.device)
    gy.device.backend.maxPoolBackward(gy.contiguousRaw(), indices: indices.contiguousRaw(), into: out)
    if shouldRecord(gy) { record(out, .maxPoolBackward(spatialRank: inputShape.count - 2), inputs: [gy], saved: [indices]) }
    return out
}

/// Average pooling of a batched float tensor; records `.avgPool`.
func avgPoolForward(_ x: Tensor, _ geometry: PoolingGeometry, outputShape: [Int]) -> Tensor {
    let out = Tensor(uninitializedShape: outputShape, dtype: x.dtype, device: x.device)
    x.device.backend.avgPool(x.contiguousRaw(), geometry: geometry, into: out)
    if shouldRecord(x) { record(out, .avgPool(geometry), inputs: [x]) }
    return out
}

/// The gradient of average pooling (an `inputShape` tensor); differentiable in `gy`
/// (its derivative is the average pooling again).
func avgPoolInputGradient(_ gy: Tensor, _ geometry: PoolingGeometry, inputShape: [Int]) -> Tensor {
    let out = Tensor(uninitializedShape: inputShape, dtype: gy.dtype, device: gy.device)
    gy.device.backend.avgPoolBackward(gy.contiguousRaw(), geometry: geometry, into: out)
    if shouldRecord(gy) { record(out, .avgPoolBackward(geometry), inputs: [gy]) }
    return out
}
