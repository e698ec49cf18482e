// CSVDataset: good files, and bad ones with errors naming the line and column.
import XCTest
import Ember
@testable import EmberData

final class CSVDatasetTests: XCTestCase {
    var dir: ScratchDirectory!
    override func setUpWithError() throws { dir = try ScratchDirectory() }
    override func tearDown() { dir.remove() }

    func testReadsHeaderFeaturesAndLabels() throws {
        let path = try dir.write("iris.csv", text: "sepal_length, sepal_width ,petal_length,species\r\n5.1,3.5,1.4,0\r\n\"4.9\",3,1.4,2\r\n\r\n6.2,2.8,4.8,1\n\n")
        let data = try CSVDataset(path: path)
        XCTAssertEqual(data.count, 3)
        XCTAssertEqual(data.featureNames, ["sepal_length", "sepal_width", "petal_length"])
        XCTAssertEqual(data.labelName, "species")
        XCTAssertEqual(data.features.shape, [3, 3])
        XCTAssertEqual(data.features.dtype, .float32)
        XCTAssertEqual(data.features.asArray(Float.self), [5.1, 3.5, 1.4, 4.9, 3, 1.4, 6.2, 2.8, 4.8])
        XCTAssertEqual(data.labels.dtype, .int64)
        XCTAssertEqual(data.labels.asArray(Int.self), [0, 2, 1])
        let (x, y) = data[1]
        XCTAssertEqual(x.asArray(Float.self), [4.9, 3, 1.4])
        XCTAssertEqual(y.item(Int.self), 2)
        let batches = Array(DataLoader(data, batchSize: 2))
        XCTAssertEqual(batches[0].1.asArray(Int.self), [0, 2])
        XCTAssertEqual(batches[1].0.shape, [1, 3])
    }

    func testLabelColumnWithoutHeaderAndFloatTargets() throws {
        let path = try dir.write("r.csv", text: "1.5;10;-2\n2.5;20;-4e-1\n")
        let data = try CSVDataset(path: path, labelColumn: 0, hasHeader: false, delimiter: ";", labelDType: .float32)
        XCTAssertEqual(data.featureNames, ["column2", "column3"])
        XCTAssertEqual(data.labelName, "column1")
        XCTAssertEqual(data.labels.asArray(Float.self), [1.5, 2.5])
        XCTAssertEqual(data.features.asArray(Float.self), [10, -2, 20, -0.4])
    }

    func testBadCellNamesLineAndColumn() throws {
        let path = try dir.write("bad.csv", text: "a,b,label\n1,2,0\n3,x7,1\n")
        expectDatasetError(.badValue, "bad.csv:3:", "column 2 ('b'): 'x7' is not a number") { _ = try CSVDataset(path: path) }
        let empty = try dir.write("empty-cell.csv", text: "1,,0\n")
        expectDatasetError(.badValue, "empty-cell.csv:1:", "column 2: '' is not a number") {
            _ = try CSVDataset(path: empty, hasHeader: false)
        }
    }

    func testRaggedRowsAndBadLabels() throws {
        let ragged = try dir.write("ragged.csv", text: "a,b,c\n1,2,3\n4,5\n")
        expectDatasetError(.badValue, "ragged.csv:3:", "row has 2 cells, expected 3") { _ = try CSVDataset(path: ragged) }
        let fractional = try dir.write("frac.csv", text: "a,label\n1,0.5\n")
        expectDatasetError(.badValue, "frac.csv:2:", "'0.5' is not a whole number") { _ = try CSVDataset(path: fractional) }
        let column = try dir.write("col.csv", text: "1,2\n")
        expectDatasetError(.badValue, "col.csv:1:", "label column 5 is out of range") {
            _ = try CSVDataset(path: column, labelColumn: 5, hasHeader: false)
        }
    }

    func testEmptyMissingAndBinaryFiles() throws {
        let empty = try dir.write("empty.csv", text: "\n\n")
        expectDatasetError(.badValue, "empty.csv", "no rows") { _ = try CSVDataset(path: empty) }
        let headerOnly = try dir.write("header.csv", text: "a,b\n")
        XCTAssertEqual(try CSVDataset(path: headerOnly).count, 0)
        expectDatasetError(.fileNotFound, dir.path("none.csv")) { _ = try CSVDataset(path: self.dir.path("none.csv")) }
        let binary = try dir.write("bin.csv", [0xFF, 0xFE, 0x00, 0x41])
        expectDatasetError(.badValue, "bin.csv", "not UTF-8") { _ = try CSVDataset(path: binary) }
    }
}
