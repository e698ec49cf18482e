// Testing programmer errors that stop the process (precondition failures): the test runs
// its crashing body in a child process — this same test executable, filtered to one
// `CrashCases` method, with an environment variable that arms it — and checks that the
// child stopped abnormally with the expected message on stderr.
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// What a child test process did.
struct CrashOutcome {
    /// True when the child was killed by a signal (a trap from `precondition` is SIGILL/SIGTRAP).
    let terminatedBySignal: Bool
    /// The exit code, or the signal number when `terminatedBySignal`.
    let status: Int32
    /// Everything the child wrote to standard output.
    let stdout: String
    /// Everything the child wrote to standard error.
    let stderr: String
    /// True when the child ran past the time limit and was killed.
    let timedOut: Bool

    /// True when the child did not exit normally with status 0.
    var exitedAbnormally: Bool { terminatedBySignal || status != 0 }
}

enum CrashTestSupport {
    /// The environment variable that arms a crash case; its value is the method name.
    static let variable = "EMBER_CRASH_CASE"

    /// Throws `XCTSkip` unless this process was started to run the crash case `name`, so a
    /// crash case never runs (nor silently passes) in an ordinary test run.
    static func armed(_ name: String) throws {
        let value = ProcessInfo.processInfo.environment[variable]
        guard value == name else {
            throw XCTSkip("crash case \(name) runs only in a child process started by its test (\(variable)=\(name))")
        }
    }

    /// Lock-protected storage for data read on another thread.
    private final class Buffer: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func set(_ value: Data) { lock.lock(); data = value; lock.unlock() }
        func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
    }

    /// The executable and arguments that run one test method of this test bundle.
    private static func command(for testName: String) throws -> (URL, [String]) {
        let filter = "EmberTests.CrashCases/\(testName)"
        #if os(Linux)
        // Under `swift test` on Linux the test bundle (EmberPackageTests.xctest) is itself
        // the executable, and it takes a test filter as its argument.
        let fileManager = FileManager.default
        var path = CommandLine.arguments[0]
        if let resolved = try? fileManager.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            path = resolved
        } else if !path.hasPrefix("/") {
            path = fileManager.currentDirectoryPath + "/" + path
        }
        guard fileManager.isExecutableFile(atPath: path) else {
            throw XCTSkip("cannot find the test executable to re-run (tried \(path))")
        }
        return (URL(fileURLWithPath: path), [filter])
        #elseif os(macOS)
        let bundle = Bundle(for: CrashCases.self).bundlePath
        return (URL(fileURLWithPath: "/usr/bin/xcrun"), ["xctest", "-XCTest", filter, bundle])
        #else
        throw XCTSkip("crash tests need a way to re-run the test executable on this platform")
        #endif
    }

    /// Runs `CrashCases.<testName>` in a child process and collects its exit status and
    /// output. Both pipes are drained on background threads while the child runs (so a
    /// chatty child cannot block on a full pipe); the child is killed after `timeout`.
    static func run(_ testName: String, timeout: TimeInterval = 120) throws -> CrashOutcome {
        let (executable, arguments) = try command(for: testName)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment[variable] = testName
        environment["SWIFT_BACKTRACE"] = "enable=no"   // no slow symbolicated backtrace in the child
        process.environment = environment
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice

        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let readers = DispatchGroup()
        let out = Buffer(), err = Buffer()
        try process.run()
        for (pipe, buffer) in [(outPipe, out), (errPipe, err)] {
            readers.enter()
            DispatchQueue.global().async {
                buffer.set(pipe.fileHandleForReading.readDataToEndOfFile())
                readers.leave()
            }
        }

        var timedOut = false
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()
            if exited.wait(timeout: .now() + 5) == .timedOut {
                #if canImport(Glibc)
                kill(process.processIdentifier, SIGKILL)
                #endif
                _ = exited.wait(timeout: .now() + 5)
            }
        }
        process.waitUntilExit()
        _ = readers.wait(timeout: .now() + 10)
        return CrashOutcome(terminatedBySignal: process.terminationReason == .uncaughtSignal,
                            status: process.terminationStatus,
                            stdout: String(decoding: out.get(), as: UTF8.self),
                            stderr: String(decoding: err.get(), as: UTF8.self),
                            timedOut: timedOut)
    }
}

extension XCTestCase {
    /// Runs `CrashCases.<testName>` in a child process and asserts that it stopped
    /// abnormally (not by timeout) with each of `messages` on its standard error.
    ///
    /// ```swift
    /// try assertCrashes("testMatmulShapeMismatch", messages: ["matmul: shapes [32, 784] and [512, 10] do not match: 784 ≠ 512"])
    /// ```
    @discardableResult
    func assertCrashes(_ testName: String, messages: [String], file: StaticString = #filePath, line: UInt = #line) throws -> CrashOutcome {
        let outcome = try CrashTestSupport.run(testName)
        let transcript = "\n--- child stdout ---\n\(outcome.stdout.suffix(2000))\n--- child stderr ---\n\(outcome.stderr.suffix(4000))"
        XCTAssertFalse(outcome.timedOut, "crash case \(testName) timed out\(transcript)", file: file, line: line)
        XCTAssertTrue(outcome.exitedAbnormally, "crash case \(testName) exited normally (status \(outcome.status)); expected it to stop\(transcript)", file: file, line: line)
        XCTAssertTrue(outcome.terminatedBySignal, "crash case \(testName) exited with status \(outcome.status) instead of trapping\(transcript)", file: file, line: line)
        XCTAssertTrue(outcome.stdout.contains("CrashCases.\(testName)") || outcome.stderr.contains("CrashCases.\(testName)"),
                      "the child did not run CrashCases.\(testName)\(transcript)", file: file, line: line)
        for message in messages {
            XCTAssertTrue(outcome.stderr.contains(message), "crash case \(testName): stderr does not contain \"\(message)\"\(transcript)",
                          file: file, line: line)
        }
        return outcome
    }
}
