// A dataset of numeric rows from a CSV file.
import Foundation
import Ember

/// Numeric rows of a CSV file: one column is the target, the others the features.
///
/// Every cell must be a number (surrounding spaces and double quotes are ignored); blank
/// lines are skipped. A bad cell or a row with the wrong number of cells throws a
/// ``DatasetError`` naming the file, the line and the column. The file is parsed once
/// into a float32 `[N, F]` feature tensor and an `[N]` target tensor.
///
/// ```swift
/// // sepal_length,sepal_width,petal_length,petal_width,species
/// // 5.1,3.5,1.4,0.2,0
/// let iris = try CSVDataset(path: "iris.csv", labelColumn: -1, hasHeader: true)
/// let (x, y) = iris[0]   // [5.1, 3.5, 1.4, 0.2] float32, 0 (int64, 0-d)
/// ```
public struct CSVDataset: Dataset, BatchTensorSource {
    /// The file the rows came from.
    public let path: String
    /// Column names from the header line (`column1` … when there is none), without the target's.
    public let featureNames: [String]
    /// The target column's name.
    public let labelName: String
    /// All features, float32 `[N, F]`.
    public let features: Tensor
    /// All targets, `[N]` (int64 by default).
    public let labels: Tensor

    /// Parses the CSV file at `path`.
    ///
    /// - Parameters:
    ///   - path: the file.
    ///   - labelColumn: the target's column index (negative counts from the end: -1 is the last).
    ///   - hasHeader: whether the first line holds column names.
    ///   - delimiter: the cell separator.
    ///   - labelDType: the targets' dtype: `.int64` for class indices (cells must then be
    ///     whole numbers), or a floating-point dtype for regression.
    ///
    /// ```swift
    /// let houses = try CSVDataset(path: "houses.csv", labelColumn: 0, labelDType: .float32)
    /// ```
    public init(path: String, labelColumn: Int = -1, hasHeader: Bool = true, delimiter: Character = ",",
                labelDType: DType = .int64) throws {
        let bytes = try FileBytes.readMaybeGzipped(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DatasetError(.badValue, path: path, "the file is not UTF-8 text")
        }
        var header: [String]? = nil
        var width: Int? = nil
        var label = 0
        var featureValues: [Float] = []
        var labelValues: [Double] = []
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so this splits Windows and Unix lines alike.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let cells = line.split(separator: delimiter, omittingEmptySubsequences: false).map(CSVDataset.clean)
            if width == nil {
                width = cells.count
                guard cells.count >= 2 else {
                    throw DatasetError(.badValue, path: path, line: lineNumber,
                                       "a row needs at least 2 columns (features and a target), found \(cells.count)")
                }
                label = labelColumn < 0 ? labelColumn + cells.count : labelColumn
                guard label >= 0 && label < cells.count else {
                    throw DatasetError(.badValue, path: path, line: lineNumber,
                                       "label column \(labelColumn) is out of range for rows of \(cells.count) columns")
                }
                if hasHeader { header = cells; continue }
            }
            guard cells.count == width else {
                throw DatasetError(.badValue, path: path, line: lineNumber,
                                   "row has \(cells.count) cells, expected \(width!) like the first row")
            }
            for (c, cell) in cells.enumerated() {
                guard let value = Double(cell) else {
                    let name = header.map { " ('\($0[c])')" } ?? ""
                    throw DatasetError(.badValue, path: path, line: lineNumber,
                                       "column \(c + 1)\(name): '\(cell)' is not a number")
                }
                if c == label {
                    if !labelDType.isFloatingPoint && (value.rounded() != value || !value.isFinite) {
                        throw DatasetError(.badValue, path: path, line: lineNumber,
                                           "column \(c + 1) (the label): '\(cell)' is not a whole number, but labels are \(labelDType)")
                    }
                    labelValues.append(value)
                } else {
                    featureValues.append(Float(value))
                }
            }
        }
        guard let width else { throw DatasetError(.badValue, path: path, "the file has no rows") }
        let n = labelValues.count
        let names = header ?? (1...width).map { "column\($0)" }
        self.path = path
        self.labelName = names[label]
        self.featureNames = names.enumerated().filter { $0.offset != label }.map(\.element)
        self.features = Tensor(featureValues, shape: [n, width - 1])
        self.labels = Tensor(labelValues, shape: [n], dtype: labelDType)
    }

    private static func clean(_ cell: Substring) -> String {
        var s = cell.trimmingCharacters(in: .whitespaces)
        if s.count >= 2 && s.hasPrefix("\"") && s.hasSuffix("\"") { s = String(s.dropFirst().dropLast()) }
        return s
    }

    /// The number of rows.
    public var count: Int { labels.shape[0] }

    /// Row `index`: its features `[F]` and its target (0-d).
    public subscript(index: Int) -> (Tensor, Tensor) {
        (features.select(dim: 0, index: index), labels.select(dim: 0, index: index))
    }

    /// Rows `indices` at once.
    public func batchTensors(at indices: [Int]) -> [Tensor]? {
        [selectRows(features, indices), selectRows(labels, indices)]
    }
}
