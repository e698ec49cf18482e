// Printing tensors the way PyTorch's repr does: precision 4, scientific notation when the
// range calls for it, summaries of large tensors, and dtype/grad information.
import Foundation

/// Print options, as `torch.set_printoptions`.
public enum PrintOptions {
    /// Digits after the decimal point for floating-point values.
    nonisolated(unsafe) public static var precision = 4
    /// Tensors with more elements than this are summarised with `...`.
    nonisolated(unsafe) public static var threshold = 1000
    /// Elements shown at each end of a summarised dimension.
    nonisolated(unsafe) public static var edgeItems = 3
}

extension Tensor: CustomStringConvertible {
    /// PyTorch-style text, e.g. `tensor([[1.0000, 2.5000]], requires_grad=True)`.
    ///
    /// ```swift
    /// print(Tensor([1, 2] as [Float]))   // tensor([1., 2.])
    /// ```
    public var description: String {
        let host = noGrad { self.detach().to(.cpu) }
        let summarize = count > PrintOptions.threshold
        let values: [Double] = dtype == .int64 ? host.asArray(Int64.self).map { Double($0) } : host.asArray(Double.self)
        let format = ElementFormat(values: values, dtype: dtype)
        var body: String
        if rank == 0 {
            body = format.string(values.first ?? 0)
        } else if count == 0 {
            body = "[]"
        } else {
            body = render(values, format: format, dim: 0, offset: 0, indent: 7, summarize: summarize)
        }
        var extras: [String] = []
        if count == 0 && rank > 1 { extras.append("size=(\(shape.map(String.init).joined(separator: ", ")))") }
        if ![.float32, .int64, .bool].contains(dtype) { extras.append("dtype=\(dtype)") }
        if device != .cpu { extras.append("device='\(device)'") }
        if let name = gradFnName { extras.append("grad_fn=<\(name)>") } else if requiresGradFlag { extras.append("requires_grad=True") }
        if !extras.isEmpty { body += ", " + extras.joined(separator: ", ") }
        return "tensor(\(body))"
    }

    private func render(_ values: [Double], format: ElementFormat, dim: Int, offset: Int, indent: Int, summarize: Bool) -> String {
        let size = shape[dim]
        let step = shape[(dim + 1)...].reduce(1, *)
        let edge = PrintOptions.edgeItems
        let shown: [Int?] = summarize && size > 2 * edge
            ? Array(0..<edge) + [nil] + Array((size - edge)..<size) : Array(0..<size)
        if dim == rank - 1 {
            let items = shown.map { i in i.map { format.padded(values[offset + $0]) } ?? "..." }
            return "[" + items.joined(separator: ", ") + "]"
        }
        let separator = "," + String(repeating: "\n", count: rank - dim - 1) + String(repeating: " ", count: indent + dim + 1)
        let rows = shown.map { i in
            i.map { render(values, format: format, dim: dim + 1, offset: offset + $0 * step, indent: indent, summarize: summarize) } ?? "..."
        }
        return "[" + rows.joined(separator: separator) + "]"
    }
}

/// How the elements of one tensor are written: all with one style and width.
private struct ElementFormat {
    enum Style { case integer, bool, wholeFloat, fixed, scientific }
    let style: Style
    let width: Int

    init(values: [Double], dtype: DType) {
        let finite = values.filter { $0.isFinite }
        if dtype == .bool {
            style = .bool
        } else if !dtype.isFloatingPoint {
            style = .integer
        } else if finite.allSatisfy({ $0.rounded() == $0 }) && (finite.map { Swift.abs($0) }.max() ?? 0) < 1e8 {
            style = .wholeFloat
        } else {
            let magnitudes = finite.map { Swift.abs($0) }.filter { $0 != 0 }
            let largest = magnitudes.max() ?? 0, smallest = magnitudes.min() ?? 0
            style = (largest > 1e8 || (smallest > 0 && smallest < 1e-4) || (smallest > 0 && largest / smallest > 1000)) ? .scientific : .fixed
        }
        var width = 0
        let probe = ElementFormat(style: style, width: 0)
        for v in values { width = Swift.max(width, probe.string(v).count) }
        self.width = width
    }

    private init(style: Style, width: Int) {
        self.style = style
        self.width = width
    }

    func string(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        switch style {
        case .bool: return v != 0 ? "True" : "False"
        case .integer: return String(Int64(v))
        case .wholeFloat: return String(format: "%.0f.", v)
        case .fixed: return String(format: "%.\(PrintOptions.precision)f", v)
        case .scientific: return String(format: "%.\(PrintOptions.precision)e", v)
        }
    }

    func padded(_ v: Double) -> String {
        let s = string(v)
        return String(repeating: " ", count: Swift.max(0, width - s.count)) + s
    }
}
