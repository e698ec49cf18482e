// Running the built `ember` executable from a test, as a user would, and a scratch folder
// for its files: shared by every test of the command-line tool.
import Foundation
import XCTest

/// What one run of the `ember` tool did.
struct ToolResult {
    /// The exit status.
    let status: Int32
    /// Everything written to standard output.
    let stdout: String
    /// Everything written to standard error.
    let stderr: String
}

extension XCTestCase {
    /// The `ember` executable built next to this test bundle (skips the test when absent).
    var emberExecutable: URL {
        get throws {
            let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            let url = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("ember")
            guard FileManager.default.isExecutableFile(atPath: url.path) else {
                throw XCTSkip("the ember executable is not built next to the tests (\(url.path))")
            }
            return url
        }
    }

    /// Runs `ember` with `arguments` (and extra environment variables, in `directory` when
    /// given) to completion.
    func runEmber(_ arguments: [String], in directory: URL? = nil, environment extra: [String: String] = [:]) throws -> ToolResult {
        let process = Process()
        process.executableURL = try emberExecutable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Stdout is drained first; the tests' outputs are far below a pipe's buffer for stderr.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ToolResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A fresh temporary folder, removed when the test ends.
    func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ember-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
