// Checks exported models with the reference tools: onnx.checker (full check) and ONNX
// Runtime, run on inputs Ember wrote, compared with Ember's own outputs. One Python
// process checks a whole batch of models.
import Ember
import EmberNN
import EmberONNX
import EmberTestSupport
import Foundation
import XCTest

/// One model to check: the exported file and the inputs to run it on, each with the
/// output Ember computed for it.
struct RuntimeCase {
    let name: String
    let onnx: URL
    let samples: [(input: Tensor, expected: Tensor)]
}

/// What ONNX Runtime reported for one case.
struct RuntimeResult: Decodable {
    /// True when the checker accepted the model and every output had the right shape.
    let ok: Bool
    /// The error, when not ok.
    let error: String?
    /// The largest `|ort − ember| − (atol + rtol·|ember|)` over all samples (≤ 0 passes).
    let excess: Double?
    /// The largest absolute difference seen.
    let maxAbsDiff: Double?
}

enum ONNXRuntimeChecker {
    static let absoluteTolerance = 1e-5
    static let relativeTolerance = 1e-5

    /// A Python with onnx, onnxruntime and numpy (`ReferencePython`). Throws XCTSkip (and
    /// prints why) when there is none.
    static func python() throws -> URL {
        if let python = ReferencePython.find(importing: ["onnx", "onnxruntime", "numpy"]) { return python }
        let reason = "no Python with onnx and onnxruntime (set EMBER_PYTHON or run scripts/make_test_venv.sh): skipping the ONNX Runtime check"
        print(reason)
        throw XCTSkip(reason)
    }

    /// The Python side: check each model, run it on every sample, compare.
    static let script = """
    import json, os, sys
    import numpy as np, onnx, onnxruntime as ort
    root = sys.argv[1]
    atol, rtol = float(sys.argv[2]), float(sys.argv[3])
    cases = json.load(open(os.path.join(root, "cases.json")))
    results = {}
    for case in cases:
        name = case["name"]
        try:
            model = onnx.load(case["onnx"])
            onnx.checker.check_model(model, full_check=True)
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            session = ort.InferenceSession(case["onnx"], options, providers=["CPUExecutionProvider"])
            input_name = session.get_inputs()[0].name
            excess, max_abs = -1.0, 0.0
            for k in range(case["samples"]):
                x = np.load(os.path.join(root, f"{name}.in{k}.npy"))
                want = np.load(os.path.join(root, f"{name}.out{k}.npy"))
                got = session.run(None, {input_name: x})[0]
                if got.shape != want.shape or got.dtype != want.dtype:
                    raise ValueError(f"sample {k}: ONNX Runtime gave {got.dtype} {got.shape}, Ember {want.dtype} {want.shape}")
                if want.size:
                    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
                    excess = max(excess, float(np.max(diff - (atol + rtol * np.abs(want.astype(np.float64))))))
                    max_abs = max(max_abs, float(np.max(diff)))
            results[name] = {"ok": True, "excess": excess, "maxAbsDiff": max_abs}
        except Exception as error:
            results[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    print("RESULTS " + json.dumps(results))
    """

    /// Checks every case in one Python process and returns the results by case name.
    static func check(_ cases: [RuntimeCase], in directory: URL) throws -> [String: RuntimeResult] {
        let python = try python()
        var manifest: [[String: Any]] = []
        for runtimeCase in cases {
            for (k, sample) in runtimeCase.samples.enumerated() {
                try sample.input.save(npy: directory.appendingPathComponent("\(runtimeCase.name).in\(k).npy"))
                try sample.expected.save(npy: directory.appendingPathComponent("\(runtimeCase.name).out\(k).npy"))
            }
            manifest.append(["name": runtimeCase.name, "onnx": runtimeCase.onnx.path, "samples": runtimeCase.samples.count])
        }
        try JSONSerialization.data(withJSONObject: manifest).write(to: directory.appendingPathComponent("cases.json"))
        let result = try ReferencePython.run(python, ["-c", script, directory.path, "\(absoluteTolerance)", "\(relativeTolerance)"])
        guard result.status == 0, let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("RESULTS ") }) else {
            XCTFail("the ONNX check script failed (status \(result.status)):\n\(result.output)")
            return [:]
        }
        return try JSONDecoder().decode([String: RuntimeResult].self, from: Data(line.dropFirst("RESULTS ".count).utf8))
    }
}

extension XCTestCase {
    /// A fresh temporary folder, removed when the test ends.
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ember-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Asserts that ONNX Runtime accepted every case and matched Ember within tolerance.
    func assertRuntimeMatches(_ results: [String: RuntimeResult], _ cases: [RuntimeCase],
                              file: StaticString = #filePath, line: UInt = #line) {
        for runtimeCase in cases {
            guard let result = results[runtimeCase.name] else {
                XCTFail("\(runtimeCase.name): no result", file: file, line: line)
                continue
            }
            XCTAssertTrue(result.ok, "\(runtimeCase.name): \(result.error ?? "")", file: file, line: line)
            if result.ok {
                print("\(runtimeCase.name): \(runtimeCase.samples.count) batches, max |ONNX Runtime − Ember| = \(result.maxAbsDiff ?? .nan)")
                XCTAssertLessThanOrEqual(result.excess ?? 1, 0,
                                         "\(runtimeCase.name): ONNX Runtime differs from Ember by up to \(result.maxAbsDiff ?? .nan)",
                                         file: file, line: line)
            }
        }
    }

    /// Exports `model` traced on `example` into `directory` and returns a runtime case
    /// with Ember's outputs (evaluation mode) for each of `inputs`.
    func exportCase(_ name: String, _ model: Module, example: Tensor, inputs: [Tensor], in directory: URL,
                    opset: Int = ONNX.defaultOpset) throws -> RuntimeCase {
        let url = directory.appendingPathComponent("\(name).onnx")
        try ONNX.export(model, exampleInput: example, to: url, opset: opset)
        model.eval()
        let samples = inputs.map { input in (input, noGrad { model(input) }) }
        return RuntimeCase(name: name, onnx: url, samples: samples)
    }

    /// The same for a function reading `namedTensors`.
    func exportCase(_ name: String, _ function: @escaping (Tensor) -> Tensor, namedTensors: [(String, Tensor)] = [],
                    example: Tensor, inputs: [Tensor], in directory: URL, opset: Int = ONNX.defaultOpset,
                    dynamicBatch: Bool = true) throws -> RuntimeCase {
        let url = directory.appendingPathComponent("\(name).onnx")
        try ONNX.export(function, exampleInput: example, namedTensors: namedTensors, to: url,
                        dynamicBatch: dynamicBatch, opset: opset)
        let samples = inputs.map { input in (input, noGrad { function(input) }) }
        return RuntimeCase(name: name, onnx: url, samples: samples)
    }
}
