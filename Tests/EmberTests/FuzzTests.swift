// Fuzzing as a bounded, reproducible test (no libFuzzer): a seeded mutation loop per file
// parser over the committed seed corpus in Fixtures/fuzz (plus a few seeds built here).
//
// Every mutated input must either parse or throw the parser's typed error: never crash,
// never allocate absurdly (VmRSS / VmHWM from /proc/self/status stay bounded), and never
// hand back a tensor whose view reaches outside its storage. Each parser gets a fixed time
// budget (`EMBER_FUZZ_SECONDS`, default 2.5 s; the whole file stays under ~20 s in a debug
// build) and a fixed seed (`EMBER_FUZZ_SEED`, default 0x5EED), so a run is reproducible up to
// how many cases fit in the budget. The number of cases tried is printed per parser.
//
// Mutations: a deterministic phase per seed (truncation at every length up to 4 KiB; 0, -1,
// 2^31, 2^31-1, 2^32, 2^63-1 and 2^63 written as 2-, 4- and 8-byte little- and big-endian
// integers at every offset of the first 160 bytes; every decimal number in a text header
// replaced by extreme values), then random stacks of 1-4 mutations (bit flips, interesting
// bytes, byte insert / delete / duplicate, truncation, splicing two seeds, extreme integer
// fields, extreme decimal numbers). The torch checkpoint parser is fuzzed twice: on raw
// archive bytes, and with the mutations applied to the pickle / storage entries and the
// archive rebuilt with valid CRCs (otherwise nearly every mutation stops at the CRC check).
//
// When an input crashes the process, a signal handler prints the parser and the input bytes
// (hex) to stderr before the process dies, so the crash can be reproduced.
import Foundation
import XCTest
@testable import Ember

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Crash reporting (async-signal-safe: fixed buffers, write(2) only)

private let fuzzCapacity = 1 << 20
nonisolated(unsafe) private let fuzzInput = UnsafeMutablePointer<UInt8>.allocate(capacity: fuzzCapacity)
nonisolated(unsafe) private var fuzzInputCount = 0
nonisolated(unsafe) private let fuzzLabel = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
nonisolated(unsafe) private var fuzzLabelCount = 0
nonisolated(unsafe) private let fuzzHex = UnsafeMutablePointer<UInt8>.allocate(capacity: 4096)

private func fuzzWrite(_ pointer: UnsafeRawPointer, _ count: Int) {
    var done = 0
    while done < count {
        let n = write(2, pointer + done, count - done)
        if n <= 0 { return }
        done += n
    }
}

private func fuzzWriteStatic(_ text: StaticString) {
    fuzzWrite(text.utf8Start, text.utf8CodeUnitCount)
}

private let fuzzSignalHandler: @convention(c) (Int32) -> Void = { signal in
    fuzzWriteStatic("\n=== FUZZ CRASH (signal) while parsing with: ")
    fuzzWrite(fuzzLabel, fuzzLabelCount)
    fuzzWriteStatic("\n=== input bytes (hex):\n")
    let digits: StaticString = "0123456789abcdef"
    var used = 0
    for i in 0..<fuzzInputCount {
        let b = fuzzInput[i]
        fuzzHex[used] = digits.utf8Start[Int(b >> 4)]
        fuzzHex[used + 1] = digits.utf8Start[Int(b & 15)]
        used += 2
        if i % 32 == 31 { fuzzHex[used] = 10; used += 1 }
        if used > 4000 { fuzzWrite(fuzzHex, used); used = 0 }
    }
    fuzzHex[used] = 10
    fuzzWrite(fuzzHex, used + 1)
    fuzzWriteStatic("=== end of input\n")
    Glibc.signal(signal, SIG_DFL)
    raise(signal)
}

// MARK: - Random numbers and mutations

/// 0, -1, 2^31, 2^31 - 1, 2^32, 2^63 - 1, 2^63 as bit patterns.
private let extremeIntegers: [UInt64] = [0, UInt64.max, 1 << 31, (1 << 31) - 1, 1 << 32, UInt64(Int64.max), 1 << 63]
private let extremeDecimals = ["0", "-1", "2147483648", "4294967296", "9223372036854775807",
                               "9223372036854775808", "18446744073709551616", "99999999999999999999999", "-9223372036854775808", "1e308"]

/// Writes `value` as a `width`-byte integer at `offset` (clipped to the buffer).
private func overwrite(_ bytes: inout [UInt8], at offset: Int, value: UInt64, width: Int, bigEndian: Bool) {
    for k in 0..<width where offset + k < bytes.count {
        let shift = bigEndian ? (width - 1 - k) * 8 : k * 8
        bytes[offset + k] = UInt8(truncatingIfNeeded: value >> UInt64(shift))
    }
}

/// Ranges of ASCII digits (with an optional leading '-') in `bytes`.
private func decimalRuns(_ bytes: [UInt8], limit: Int = 4096) -> [Range<Int>] {
    var runs: [Range<Int>] = []
    var i = 0
    let end = min(bytes.count, limit)
    while i < end {
        if bytes[i] >= 48 && bytes[i] <= 57 {
            var start = i
            if start > 0 && bytes[start - 1] == 45 { start -= 1 }
            while i < end && bytes[i] >= 48 && bytes[i] <= 57 { i += 1 }
            runs.append(start..<i)
        } else {
            i += 1
        }
    }
    return runs
}

private func mutate(_ input: [UInt8], corpus: [[UInt8]], random: Generator) -> [UInt8] {
    var bytes = input
    for _ in 0..<(1 + random.next(below: 4)) {
        switch random.next(below: 10) {
        case 0, 1: // bit flips
            guard !bytes.isEmpty else { continue }
            for _ in 0..<(1 + random.next(below: 8)) { bytes[random.next(below: bytes.count)] ^= UInt8(1) << UInt8(random.next(below: 8)) }
        case 2: // interesting byte
            guard !bytes.isEmpty else { continue }
            bytes[random.next(below: bytes.count)] = [0, 0xFF, 0x7F, 0x80, 1, UInt8(random.next(below: 256))][random.next(below: 6)]
        case 3: // insert
            let at = random.next(below: bytes.count + 1)
            bytes.insert(contentsOf: (0..<(1 + random.next(below: 16))).map { _ in UInt8(random.next(below: 256)) }, at: at)
        case 4: // delete
            guard !bytes.isEmpty else { continue }
            let at = random.next(below: bytes.count)
            bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.next(below: 16)))
        case 5: // truncate
            bytes = Array(bytes.prefix(random.next(below: bytes.count + 1)))
        case 6: // splice with another seed
            let other = corpus[random.next(below: corpus.count)]
            bytes = Array(bytes.prefix(random.next(below: bytes.count + 1))) + Array(other.suffix(random.next(below: other.count + 1)))
        case 7: // duplicate a chunk
            guard !bytes.isEmpty else { continue }
            let at = random.next(below: bytes.count)
            let chunk = bytes[at..<min(bytes.count, at + 1 + random.next(below: 64))]
            bytes.insert(contentsOf: chunk, at: random.next(below: bytes.count + 1))
        case 8: // extreme integer field
            guard !bytes.isEmpty else { continue }
            overwrite(&bytes, at: random.next(below: bytes.count), value: extremeIntegers[random.next(below: extremeIntegers.count)],
                      width: [2, 4, 8][random.next(below: 3)], bigEndian: random.next(below: 2) == 1)
        default: // extreme decimal number in a text header
            let runs = decimalRuns(bytes)
            guard !runs.isEmpty else { continue }
            bytes.replaceSubrange(runs[random.next(below: runs.count)], with: Array(extremeDecimals[random.next(below: extremeDecimals.count)].utf8))
        }
    }
    return bytes
}

/// The deterministic mutations of one seed, produced lazily.
private func deterministicMutations(_ seed: [UInt8]) -> [() -> [UInt8]] {
    var cases: [() -> [UInt8]] = []
    for length in 0..<min(seed.count, 4096) { cases.append { Array(seed.prefix(length)) } }
    for offset in 0..<min(seed.count, 160) {
        for value in extremeIntegers {
            for (width, bigEndian) in [(2, false), (4, false), (4, true), (8, false), (8, true)] {
                cases.append {
                    var bytes = seed
                    overwrite(&bytes, at: offset, value: value, width: width, bigEndian: bigEndian)
                    return bytes
                }
            }
        }
    }
    for run in decimalRuns(seed) {
        for text in extremeDecimals {
            cases.append {
                var bytes = seed
                bytes.replaceSubrange(run, with: Array(text.utf8))
                return bytes
            }
        }
    }
    return cases
}

// MARK: - Process memory

private func procStatusKiB(_ key: String) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
        return Int(line.dropFirst(key.count + 1).filter { $0.isNumber }) ?? -1
    }
    return -1
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0); false where that is not allowed.
private func resetPeakRSS() -> Bool {
    let fd = open("/proc/self/clear_refs", O_WRONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return write(fd, "5", 1) == 1
}

// MARK: - The fuzz driver

final class FuzzTests: XCTestCase {
    static let fuzzSeed = UInt64(ProcessInfo.processInfo.environment["EMBER_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED)
    static let budget = Double(ProcessInfo.processInfo.environment["EMBER_FUZZ_SECONDS"] ?? "") ?? 2.5
    /// The most a single parser may grow the resident set while fuzzing.
    static let memoryLimitKiB = 512 * 1024

    private static var corpusDirectory: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("fuzz")
    }

    private func seeds(_ suffix: String) throws -> [[UInt8]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpusDirectory.path)
            .filter { $0.hasSuffix(suffix) }.sorted()
        let files = try names.map { [UInt8](try Data(contentsOf: Self.corpusDirectory.appendingPathComponent($0))) }
        XCTAssertFalse(files.isEmpty, "no \(suffix) seeds in Fixtures/fuzz")
        return files
    }

    /// A tensor's view must lie inside its storage.
    private func checkBounds(_ t: Tensor, _ label: String, _ input: [UInt8]) {
        guard t.shape.reduce(1, *) > 0 else { return }
        var lowest = t.offset, highest = t.offset
        for (size, stride) in zip(t.shape, t.strides) {
            if stride >= 0 { highest += (size - 1) * stride } else { lowest += (size - 1) * stride }
        }
        let ok = lowest >= 0 && (highest + 1) * t.dtype.itemSize <= t.storage.byteCount
        if !ok {
            XCTFail("\(label): parsed tensor shape \(t.shape) strides \(t.strides) offset \(t.offset) reaches outside its \(t.storage.byteCount)-byte storage; input \(input.count) bytes: \(Data(input).base64EncodedString())")
        }
    }

    /// Runs the mutation loop for one parser and returns the number of cases tried.
    @discardableResult
    private func fuzz(_ label: String, seeds corpus: [[UInt8]], budget: Double = FuzzTests.budget,
                      mutator: (([UInt8], [[UInt8]], Generator) -> [UInt8])? = nil,
                      deterministic: Bool = true,
                      parse: ([UInt8]) throws -> [Tensor], isTyped: (Error) -> Bool) -> Int {
        precondition(!corpus.isEmpty)
        let labelBytes = Array(label.utf8.prefix(255))
        fuzzLabel.update(from: labelBytes, count: labelBytes.count)
        fuzzLabelCount = labelBytes.count
        let signals = [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT]
        let previous = signals.map { signal($0, fuzzSignalHandler) }
        defer { for (s, old) in zip(signals, previous) { signal(s, old) } }

        let random = Generator(seed: Self.fuzzSeed ^ UInt64(truncatingIfNeeded: label.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }))
        let start = Date()
        let deadline = start.addingTimeInterval(budget)
        let deterministicDeadline = start.addingTimeInterval(budget * 0.45)
        let peakResettable = resetPeakRSS()
        let rssStart = procStatusKiB("VmRSS")
        var maxRSS = rssStart
        var cases = 0, parsed = 0, typedErrors = 0, slowest = 0.0
        var failures = 0

        func run(_ input: [UInt8]) {
            let count = min(input.count, fuzzCapacity)
            if count > 0 { input.withUnsafeBufferPointer { fuzzInput.update(from: $0.baseAddress!, count: count) } }
            fuzzInputCount = count
            let t0 = Date()
            do {
                let tensors = try parse(input)
                parsed += 1
                for t in tensors { checkBounds(t, label, input) }
            } catch {
                if isTyped(error) {
                    typedErrors += 1
                } else if failures < 5 {
                    failures += 1
                    XCTFail("\(label): untyped error \(type(of: error)): \(error); input \(input.count) bytes: \(Data(input).base64EncodedString())")
                }
            }
            let elapsed = Date().timeIntervalSince(t0)
            if elapsed > slowest { slowest = elapsed }
            cases += 1
            if cases % 64 == 0 { maxRSS = max(maxRSS, procStatusKiB("VmRSS")) }
        }

        // Every seed must parse.
        for seed in corpus {
            do { _ = try parse(seed) } catch { XCTFail("\(label): a seed does not parse: \(error)") }
        }
        if deterministic {
            outer: for seed in corpus {
                for make in deterministicMutations(seed) {
                    if Date() > deterministicDeadline { break outer }
                    run(make())
                }
            }
        }
        let deterministicCases = cases
        while Date() < deadline {
            for _ in 0..<16 {
                let seed = corpus[random.next(below: corpus.count)]
                run(mutator.map { $0(seed, corpus, random) } ?? mutate(seed, corpus: corpus, random: random))
            }
        }
        maxRSS = max(maxRSS, procStatusKiB("VmRSS"))
        let peak = procStatusKiB("VmHWM")
        fuzzInputCount = 0
        let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
        let slowestMs = String(format: "%.1f", slowest * 1000)
        print("fuzz \(label): \(cases) cases (\(deterministicCases) deterministic, \(cases - deterministicCases) random) in \(seconds) s, "
              + "seed \(Self.fuzzSeed): \(parsed) parsed, \(typedErrors) typed errors; slowest case \(slowestMs) ms; "
              + "VmRSS \(rssStart) -> max \(maxRSS) KiB" + (peakResettable ? ", VmHWM \(peak) KiB" : ""))
        XCTAssertGreaterThan(cases, 20, "\(label): too few cases ran")
        XCTAssertLessThan(maxRSS - rssStart, Self.memoryLimitKiB, "\(label): resident set grew by \(maxRSS - rssStart) KiB")
        if peakResettable {
            XCTAssertLessThan(peak - rssStart, Self.memoryLimitKiB, "\(label): peak resident set grew by \(peak - rssStart) KiB")
        }
        XCTAssertLessThan(slowest, 2.0, "\(label): one case took \(slowest) s")
        return cases
    }

    /// Checks the crash report itself: with EMBER_FUZZ_SELFTEST=1 this test crashes on purpose
    /// (a trap on the first 7-byte input) and stderr must show the parser name and the input.
    func testCrashReportSelfCheck() throws {
        guard ProcessInfo.processInfo.environment["EMBER_FUZZ_SELFTEST"] == "1" else {
            throw XCTSkip("set EMBER_FUZZ_SELFTEST=1 to crash on purpose and see the crash report")
        }
        fuzz("self-check (traps on a 7-byte input)", seeds: try seeds(".npy"), budget: 1, parse: { bytes in
            if bytes.count == 7 { fatalError("deliberate fuzz self-check trap") }
            return []
        }, isTyped: { _ in true })
    }

    // MARK: Parsers

    func testFuzzSafetensors() throws {
        var corpus = try seeds(".safetensors")
        corpus.append([UInt8](Safetensors.encode(["a": Tensor([1, 2, 3, 4] as [Float]).reshape([2, 2]),
                                                   "i": Tensor([5, -6] as [Int64])], metadata: ["k": "v"])))
        fuzz("safetensors (Safetensors.decode)", seeds: corpus, parse: { bytes in
            Array(try Safetensors.decode(Data(bytes), path: "<fuzz>").tensors.values)
        }, isTyped: { $0 is SafetensorsError })
    }

    func testFuzzNpy() throws {
        fuzz("npy (Tensor.load(npyData:))", seeds: try seeds(".npy"), parse: { bytes in
            [try Tensor.load(npyData: Data(bytes), source: "<fuzz>")]
        }, isTyped: { $0 is TensorIOError })
    }

    func testFuzzZipArchive() throws {
        var corpus = try seeds(".pt")
        var writer = ZipWriter(alignment: 16)
        writer.add("a/stored.bin", Data((0..<200).map { UInt8($0 % 7) }))
        writer.add("a/deflated.txt", Data(String(repeating: "ember fuzz ", count: 40).utf8), compress: true)
        writer.add("empty", Data())
        corpus.append([UInt8](writer.finish()))
        fuzz("zip (ZipArchive(data:) + every entry's data)", seeds: corpus, parse: { bytes in
            let zip = try ZipArchive(data: Data(bytes), path: "<fuzz>", maximumEntryBytes: 64 << 20)
            for entry in zip.entries { _ = try zip.data(for: entry) }
            return []
        }, isTyped: { $0 is ZipArchiveError })
    }

    private static func torchTensors(_ bytes: [UInt8]) throws -> [Tensor] {
        let value = try TorchCheckpoint.decode(Data(bytes), path: "<fuzz>")
        return Array(try value.flattenedTensors().values)
    }

    func testFuzzTorchCheckpointRaw() throws {
        fuzz("torch checkpoint, raw bytes (TorchCheckpoint.decode)", seeds: try seeds(".pt"),
             parse: Self.torchTensors, isTyped: { $0 is TorchCheckpointError })
    }

    /// Mutations inside the archive's entries (the pickle most of the time), re-zipped with
    /// valid CRCs so that they reach the unpickler and the storage checks.
    func testFuzzTorchCheckpointPickle() throws {
        let corpus = try seeds(".pt")
        let archives: [[(String, [UInt8])]] = try corpus.map { bytes in
            let zip = try ZipArchive(data: Data(bytes))
            return try zip.entries.map { ($0.name, [UInt8](try zip.data(for: $0))) }
        }
        let pickles = archives.map { entries in entries.first { $0.0.hasSuffix("/data.pkl") }!.1 }
        fuzz("torch checkpoint, pickle re-zipped (TorchCheckpoint.decode)", seeds: corpus, mutator: { seed, _, random in
            let index = corpus.firstIndex(of: seed) ?? 0
            var entries = archives[index]
            let target: Int
            if random.next(below: 5) == 0 {
                target = random.next(below: entries.count)
            } else {
                target = entries.firstIndex { $0.0.hasSuffix("/data.pkl") }!
            }
            entries[target].1 = mutate(entries[target].1, corpus: pickles, random: random)
            var writer = ZipWriter()
            for (name, data) in entries { writer.add(name, Data(data)) }
            return [UInt8](writer.finish())
        }, deterministic: false, parse: Self.torchTensors, isTyped: { $0 is TorchCheckpointError })
    }
}

// MARK: - EmberData parsers (IDX, CSV)
//
// Package.swift gives EmberTests the EmberData dependency and defines EMBER_FUZZ_DATA, so
// these run in every test run; the flag keeps the file buildable without EmberData.
#if EMBER_FUZZ_DATA
import EmberData

extension FuzzTests {
    func testFuzzIDX() throws {
        var corpus = try seeds(".idx")
        corpus.append(IDXArray.encode(uint8: (0..<24).map { UInt8($0) }, shape: [2, 3, 4]))
        fuzz("IDX (IDXArray(bytes:path:))", seeds: corpus, parse: { bytes in
            [try IDXArray(bytes: bytes, path: "<fuzz>").tensor()]
        }, isTyped: { $0 is DatasetError })
    }

    func testFuzzCSV() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ember-fuzz-\(getpid()).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        fuzz("CSV (CSVDataset(path:))", seeds: try seeds(".csv"), parse: { bytes in
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            let data = try CSVDataset(path: path, labelColumn: -1, hasHeader: true, labelDType: .int64)
            return [data.features, data.labels]
        }, isTyped: { $0 is DatasetError })
    }
}
#endif
