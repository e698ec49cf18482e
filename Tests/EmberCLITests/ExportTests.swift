// `ember export`: a Fashion-MNIST checkpoint becomes an ONNX file that ONNX Runtime runs
// with Ember's results; bad arguments give one error line and exit status 1.
import Foundation
import XCTest
import EmberTestSupport
import Ember
import EmberNN
import EmberModels

final class ExportTests: XCTestCase {
    /// The CNN that `ember train fashion-mnist --model cnn` builds (its state-dict names).
    private func fashionCNN() -> Module {
        Sequential(Conv2d(1, 32, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
                   Conv2d(32, 64, kernelSize: 3, padding: 1), ReLU(), MaxPool2d(kernelSize: 2),
                   Flatten(), Linear(3136, 128), ReLU(), Linear(128, 10))
    }

    /// A Python with onnx and onnxruntime (`ReferencePython`), or a skip with the reason printed.
    private func python() throws -> URL {
        if let python = ReferencePython.find(importing: ["onnx", "onnxruntime", "numpy"]) { return python }
        let reason = "no Python with onnx and onnxruntime (set EMBER_PYTHON or run scripts/make_test_venv.sh): skipping the ONNX Runtime check of ember export"
        print(reason)
        throw XCTSkip(reason)
    }

    /// Checks `onnx` with onnx.checker (full check), runs it in ONNX Runtime on `input` and
    /// compares with `expected` (1e-5 absolute plus 1e-5 relative); asserts the input's
    /// name and symbolic shape as ONNX Runtime reports them.
    private func assertONNXRuntimeMatches(_ onnx: URL, inputName: String, inputShape: String, input: Tensor, expected: Tensor,
                                          in dir: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let python = try python()
        try input.save(npy: dir.appendingPathComponent("input.npy"))
        try expected.save(npy: dir.appendingPathComponent("expected.npy"))
        let script = """
        import sys, numpy as np, onnx, onnxruntime as ort
        path, root, name, shape = sys.argv[1:5]
        onnx.checker.check_model(onnx.load(path), full_check=True)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == [name], session.get_inputs()
        assert str(session.get_inputs()[0].shape) == shape, session.get_inputs()[0].shape
        got = session.run(["logits"], {name: np.load(root + "/input.npy")})[0]
        want = np.load(root + "/expected.npy")
        assert got.shape == want.shape, (got.shape, want.shape)
        excess = np.max(np.abs(got - want) - (1e-5 + 1e-5 * np.abs(want)))
        print("max_abs", np.max(np.abs(got - want)), "excess", excess)
        sys.exit(0 if excess <= 0 else 3)
        """
        let (status, output) = try ReferencePython.run(python, ["-c", script, onnx.path, dir.path, inputName, inputShape])
        XCTAssertEqual(status, 0, output, file: file, line: line)
    }

    func testExportsAFashionMNISTCNNCheckpointThatONNXRuntimeRuns() throws {
        let dir = try scratchDirectory()
        manualSeed(3)
        let model = fashionCNN()
        let checkpoint = dir.appendingPathComponent("cnn.safetensors")
        try Safetensors.save(model.stateDict(), to: checkpoint, metadata: ["ember.task": "fashion-mnist", "ember.architecture": "cnn"])
        let onnx = dir.appendingPathComponent("cnn.onnx")
        let result = try runEmber(["export", "--checkpoint", checkpoint.path, "--onnx", onnx.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("fashion-mnist cnn"), result.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: onnx.path))
        // Pixels in [0, 1]; the graph includes the training normalisation.
        let images = Tensor.rand([3, 1, 28, 28])
        let expected = noGrad { model.eval()((images - 0.2860) / 0.3530) }
        try assertONNXRuntimeMatches(onnx, inputName: "image", inputShape: "['batch', 1, 28, 28]", input: images,
                                     expected: expected, in: dir)
    }

    func testExportsACharLMGPTCheckpointThatONNXRuntimeRuns() throws {
        let dir = try scratchDirectory()
        manualSeed(4)
        let model = GPT(GPTConfig(vocabSize: 11, contextLength: 8, numLayers: 2, numHeads: 2, embedDim: 16, dropout: 0))
        let checkpoint = dir.appendingPathComponent("gpt.safetensors")
        try Safetensors.save(model.stateDict(), to: checkpoint, metadata: [
            "ember.task": "char-lm", "ember.architecture": "gpt", "ember.vocab_size": "11", "ember.context_length": "8",
            "ember.num_layers": "2", "ember.num_heads": "2", "ember.embed_dim": "16", "ember.hidden_size": "0",
        ])
        let onnx = dir.appendingPathComponent("gpt.onnx")
        let result = try runEmber(["export", "--checkpoint", checkpoint.path, "--onnx", onnx.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("char-lm gpt"), result.stdout)
        let tokens = Tensor((0..<24).map { Int64(($0 * 5 + 3) % 11) }, shape: [3, 8])
        let expected = noGrad { model.eval()(tokens) }
        try assertONNXRuntimeMatches(onnx, inputName: "tokens", inputShape: "['batch', 8]", input: tokens,
                                     expected: expected, in: dir)
    }

    func testModelOptionOverridesTheRecordedArchitecture() throws {
        let dir = try scratchDirectory()
        manualSeed(5)
        let mlp = Sequential(Flatten(), Linear(784, 512), ReLU(), Linear(512, 512), ReLU(), Linear(512, 10))
        let checkpoint = dir.appendingPathComponent("mlp.safetensors")
        // The metadata names the wrong architecture; --model mlp rebuilds the right one.
        try Safetensors.save(mlp.stateDict(), to: checkpoint, metadata: ["ember.task": "fashion-mnist", "ember.architecture": "cnn"])
        let onnx = dir.appendingPathComponent("mlp.onnx")
        let result = try runEmber(["export", "--checkpoint", checkpoint.path, "--onnx", onnx.path, "--model", "mlp", "--opset", "18"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("fashion-mnist mlp"), result.stdout)
        let images = Tensor.rand([2, 1, 28, 28])
        let expected = noGrad { mlp.eval()((images - 0.2860) / 0.3530) }
        try assertONNXRuntimeMatches(onnx, inputName: "image", inputShape: "['batch', 1, 28, 28]", input: images,
                                     expected: expected, in: dir)
    }

    func testExportsACharLMLSTMCheckpointThatONNXRuntimeRuns() throws {
        let dir = try scratchDirectory()
        manualSeed(6)
        let model = LSTMLanguageModel(vocabSize: 9, embedDim: 6, hiddenSize: 8, numLayers: 2)
        let checkpoint = dir.appendingPathComponent("lstm.safetensors")
        try Safetensors.save(model.stateDict(), to: checkpoint, metadata: [
            "ember.task": "char-lm", "ember.architecture": "lstm", "ember.vocab_size": "9", "ember.context_length": "5",
            "ember.num_layers": "2", "ember.num_heads": "0", "ember.embed_dim": "6", "ember.hidden_size": "8",
        ])
        let onnx = dir.appendingPathComponent("lstm.onnx")
        let result = try runEmber(["export", "--checkpoint", checkpoint.path, "--onnx", onnx.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let tokens = Tensor((0..<10).map { Int64(($0 * 4 + 1) % 9) }, shape: [2, 5])
        let expected = noGrad { model.eval()(tokens) }
        try assertONNXRuntimeMatches(onnx, inputName: "tokens", inputShape: "['batch', 5]", input: tokens,
                                     expected: expected, in: dir)
    }

    func testMissingCheckpointGivesOneErrorLine() throws {
        let dir = try scratchDirectory()
        let result = try runEmber(["export", "--checkpoint", dir.appendingPathComponent("none.safetensors").path,
                                   "--onnx", dir.appendingPathComponent("out.onnx").path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("no such checkpoint file"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.onnx").path))
    }

    func testUnknownModelOverrideIsRefused() throws {
        let dir = try scratchDirectory()
        let checkpoint = dir.appendingPathComponent("mlp.safetensors")
        try Safetensors.save(["weight": Tensor.zeros([2])], to: checkpoint,
                             metadata: ["ember.task": "fashion-mnist", "ember.architecture": "mlp"])
        let result = try runEmber(["export", "--checkpoint", checkpoint.path, "--onnx", dir.appendingPathComponent("o.onnx").path,
                                   "--model", "resnet"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("unknown fashion-mnist model 'resnet'"), result.stderr)
        // The right name with the wrong weights names the architecture.
        let mismatch = try runEmber(["export", "--checkpoint", checkpoint.path, "--onnx", dir.appendingPathComponent("o.onnx").path])
        XCTAssertEqual(mismatch.status, 1)
        XCTAssertTrue(mismatch.stderr.contains("does not fit the mlp architecture"), mismatch.stderr)
    }

    func testBadOpsetIsRejected() throws {
        let result = try runEmber(["export", "--checkpoint", "x.safetensors", "--onnx", "x.onnx", "--opset", "9"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--opset must be between 17 and 21"), result.stderr)
    }
}
