// Printing tensors the way PyTorch's repr does (`torch/_tensor_str.py`): precision 4,
// scientific notation when the range calls for it, summaries of large tensors, rows
// wrapped at 80 columns, and dtype/device/grad information.
import Foundation

/// Print options, as `torch.set_printoptions`.
public enum PrintOptions {
    /// Digits after the decimal point for floating-point values.
    nonisolated(unsafe) public static var precision = 4
    /// Tensors with more elements than this are summarised with `...`.
    nonisolated(unsafe) public static var threshold = 1000
    /// Elements shown at each end of a summarised dimension.
    nonisolated(unsafe) public static var edgeItems = 3
    /// Characters per line before a row of elements wraps (`linewidth`).
    nonisolated(unsafe) public static var lineWidth = 80
}

extension Tensor: CustomStringConvertible {
    /// PyTorch-style text, e.g. `tensor([[1.0000, 2.5000]], requires_grad=True)`.
    ///
    /// ```swift
    /// print(Tensor([1, 2] as [Float]))   // tensor([1., 2.])
    /// ```
    public var description: String {
        let host = noGrad { self.detach().to(.cpu) }
        let prefix = "tensor("
        let indent = prefix.count
        var suffixes: [String] = []
        if device != .cpu { suffixes.append("device='\(device)'") }
        var body: String
        if count == 0 {
            // No elements to show the dtype by, so anything but the default float says it.
            if rank != 1 { suffixes.append("size=\(pythonTuple(shape))") }
            if dtype != .defaultFloat { suffixes.append("dtype=\(dtype)") }
            body = "[]"
        } else {
            if PrintOptions.edgeItems <= 0 { suffixes.append("size=\(pythonTuple(shape))") }
            if ![.defaultFloat, .int64, .bool].contains(dtype) { suffixes.append("dtype=\(dtype)") }
            let summarize = count > PrintOptions.threshold
            let cells = ElementCells(host)
            // The format is chosen from the elements that are shown, as PyTorch does.
            let shown = summarize ? shownPositions(dim: 0, offset: 0) : Array(0..<count)
            let format = ElementFormat(cells, positions: shown)
            body = rank == 0 ? format.string(cells, 0)
                : render(cells, format: format, dim: 0, offset: 0, indent: indent, summarize: summarize)
        }
        if let name = gradFnName { suffixes.append("grad_fn=<\(name)>") } else if requiresGradFlag { suffixes.append("requires_grad=True") }
        return addSuffixes(prefix + body, suffixes, indent: indent)
    }

    /// Row-major positions of the elements a summarised print shows.
    private func shownPositions(dim: Int, offset: Int) -> [Int] {
        if rank == 0 { return [0] }
        let step = shape[(dim + 1)...].reduce(1, *)
        let positions = shownIndices(shape[dim], summarize: true).compactMap { $0 }
        if dim == rank - 1 { return positions.map { offset + $0 } }
        return positions.flatMap { shownPositions(dim: dim + 1, offset: offset + $0 * step) }
    }

    /// Indices shown along a dimension of `size`; nil stands for the `...` in the middle.
    private func shownIndices(_ size: Int, summarize: Bool) -> [Int?] {
        let edge = PrintOptions.edgeItems
        if summarize && edge <= 0 { return [nil] }
        if summarize && size > 2 * edge { return Array(0..<edge) + [nil] + Array((size - edge)..<size) }
        return Array(0..<size)
    }

    /// One dimension's text (`_tensor_str_with_formatter` / `_vector_str`); `indent` is the
    /// column where this dimension's `[` stands.
    private func render(_ cells: ElementCells, format: ElementFormat, dim: Int, offset: Int, indent: Int,
                        summarize: Bool) -> String {
        let step = shape[(dim + 1)...].reduce(1, *)
        let shown = shownIndices(shape[dim], summarize: summarize)
        if dim == rank - 1 {
            // PyTorch writes the elided middle of a row as " ..." (alone: "...").
            let items = shown.map { i in i.map { format.padded(cells, offset + $0) } ?? (shown.count == 1 ? "..." : " ...") }
            let perLine = Swift.max(1, (PrintOptions.lineWidth - indent) / (format.width + 2))
            let lines = stride(from: 0, to: items.count, by: perLine).map {
                items[$0..<Swift.min($0 + perLine, items.count)].joined(separator: ", ")
            }
            return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
        }
        let separator = "," + String(repeating: "\n", count: rank - dim - 1) + String(repeating: " ", count: indent + 1)
        let rows = shown.map { i in
            i.map { render(cells, format: format, dim: dim + 1, offset: offset + $0 * step, indent: indent + 1,
                           summarize: summarize) } ?? "..."
        }
        return "[" + rows.joined(separator: separator) + "]"
    }

    /// Appends `, suffix` items, starting a new line when one would pass the line width.
    private func addSuffixes(_ text: String, _ suffixes: [String], indent: Int) -> String {
        var result = text
        // PyTorch's measure: the last line's length plus 2.
        var lastLineLength = (text.lastIndex(of: "\n").map { text[text.index(after: $0)...].count } ?? text.count) + 2
        for suffix in suffixes {
            if lastLineLength + suffix.count + 2 > PrintOptions.lineWidth {
                result += ",\n" + String(repeating: " ", count: indent) + suffix
                lastLineLength = indent + suffix.count
            } else {
                result += ", " + suffix
                lastLineLength += suffix.count + 2
            }
        }
        return result + ")"
    }
}

/// Python's text for a tuple of sizes: `(2, 0)`, `(5,)`, `()`.
private func pythonTuple(_ values: [Int]) -> String {
    values.count == 1 ? "(\(values[0]),)" : "(" + values.map(String.init).joined(separator: ", ") + ")"
}

/// The elements of a CPU tensor in row-major order, in the form they print from.
private enum ElementCells {
    case floating([Double])
    case integer([Int64])
    case bool([Bool])

    init(_ host: Tensor) {
        if host.dtype == .bool {
            self = .bool(host.asArray(Bool.self))
        } else if host.dtype.isFloatingPoint {
            self = .floating(host.asArray(Double.self))
        } else {
            self = .integer(host.asArray(Int64.self))
        }
    }
}

/// How the elements of one tensor are written: one style and a common width
/// (PyTorch's `_Formatter`).
private struct ElementFormat {
    enum Style { case plain, integerFloat, fixed, scientific }
    private(set) var style = Style.plain
    private(set) var width = 1

    init(_ cells: ElementCells, positions: [Int]) {
        switch cells {
        case .integer(let values):
            for i in positions { width = Swift.max(width, String(values[i]).count) }
        case .bool(let values):
            for i in positions { width = Swift.max(width, values[i] ? 4 : 5) }
        case .floating(let values):
            // Only nonzero finite values choose the style and the width.
            let chosen = positions.map { values[$0] }.filter { $0.isFinite && $0 != 0 }
            style = .integerFloat
            guard !chosen.isEmpty else { return }
            let magnitudes = chosen.map { Swift.abs($0) }
            let largest = magnitudes.max()!, smallest = magnitudes.min()!
            let whole = chosen.allSatisfy { $0 == $0.rounded(.up) }
            let scientific = largest / smallest > 1000 || largest > 1e8 || smallest < 1e-4
            style = scientific ? .scientific : (whole ? .integerFloat : .fixed)
            for v in chosen { width = Swift.max(width, string(v).count) }
        }
    }

    /// A floating-point value in this format, unpadded.
    func string(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        switch style {
        case .plain, .integerFloat: return String(format: "%.0f.", v)
        case .fixed: return String(format: "%.\(PrintOptions.precision)f", v)
        case .scientific: return String(format: "%.\(PrintOptions.precision)e", v)
        }
    }

    /// Element `i`, unpadded.
    func string(_ cells: ElementCells, _ i: Int) -> String {
        switch cells {
        case .integer(let values): return String(values[i])
        case .bool(let values): return values[i] ? "True" : "False"
        case .floating(let values): return string(values[i])
        }
    }

    /// Element `i`, right-aligned to the common width (never truncated).
    func padded(_ cells: ElementCells, _ i: Int) -> String {
        let s = string(cells, i)
        return String(repeating: " ", count: Swift.max(0, width - s.count)) + s
    }
}
