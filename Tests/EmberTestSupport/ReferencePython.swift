// The Python with the reference tools (NumPy, safetensors, torch, onnxruntime, pyarrow)
// that the cross-check tests of every test target drive: $EMBER_PYTHON, else the
// repository's .venv-ref (scripts/make_test_venv.sh).
import Foundation

/// Finds and runs the reference Python for the cross-check tests.
///
/// ```swift
/// guard let python = ReferencePython.find(importing: ["numpy"]) else { throw XCTSkip("no NumPy") }
/// let (status, output) = try ReferencePython.run(python, ["-c", "import numpy; print(numpy.__version__)"])
/// ```
public enum ReferencePython {
    /// $EMBER_PYTHON or `<repository>/.venv-ref/bin/python`, the first that exists and can
    /// import every module in `modules`; nil when none can (the caller skips).
    public static func find(importing modules: [String] = []) -> URL? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates: [String?] = [ProcessInfo.processInfo.environment["EMBER_PYTHON"], root.appendingPathComponent(".venv-ref/bin/python").path]
        for case let path? in candidates where FileManager.default.isExecutableFile(atPath: path) {
            let python = URL(fileURLWithPath: path)
            if modules.isEmpty { return python }
            if (try? run(python, ["-c", modules.map { "import \($0)" }.joined(separator: "; ")]))?.status == 0 { return python }
        }
        return nil
    }

    /// Runs `python` with `arguments`; returns its exit status and its stdout and stderr together.
    public static func run(_ python: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = python
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
