// Fuzzing the Parquet reader as a bounded, reproducible test: a seeded mutation loop over the
// committed fixtures (truncations, extreme integers, bit flips, byte insertions and
// deletions, splices), also applied to the footer alone. Every mutated file must either read
// or throw a `ParquetError`, never crash, never take long and never grow memory much.
// `EMBER_FUZZ_SEED` and `EMBER_FUZZ_SECONDS` (default 2.5) change the seed and the budget.
import Foundation
import XCTest
import Ember
@testable import EmberData

final class ParquetFuzzTests: XCTestCase {
    private static let extremes: [UInt64] = [0, UInt64.max, 1 << 31, (1 << 31) - 1, 1 << 32, UInt64(Int64.max), 1 << 63, 0x7F, 0x80]

    private func residentKiB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).filter(\.isNumber)) ?? 0
        }
        return 0
    }

    /// Where the footer starts (so mutations can aim at the Thrift metadata).
    private func footerStart(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        let length = Int(bytes[n - 8]) | Int(bytes[n - 7]) << 8 | Int(bytes[n - 6]) << 16 | Int(bytes[n - 5]) << 24
        return n - 8 - length
    }

    private func mutate(_ seed: [UInt8], corpus: [[UInt8]], random: Generator) -> [UInt8] {
        var bytes = seed
        // Half of the mutations aim at the footer, where the offsets and sizes live.
        let low = random.next(below: 2) == 0 ? min(footerStart(seed), max(seed.count - 1, 0)) : 0
        func position() -> Int { low + random.next(below: max(bytes.count - low, 1)) }
        for _ in 0..<(1 + random.next(below: 4)) {
            guard !bytes.isEmpty else { break }
            switch random.next(below: 8) {
            case 0, 1:
                for _ in 0..<(1 + random.next(below: 4)) { bytes[min(position(), bytes.count - 1)] ^= UInt8(1) << UInt8(random.next(below: 8)) }
            case 2:
                bytes[min(position(), bytes.count - 1)] = [0, 0xFF, 0x7F, 0x80, 0x15, 0x16, 0x19, 0x1C][random.next(below: 8)]
            case 3:
                let at = min(position(), bytes.count)
                bytes.insert(contentsOf: (0..<(1 + random.next(below: 8))).map { _ in UInt8(random.next(below: 256)) }, at: at)
            case 4:
                let at = min(position(), bytes.count - 1)
                bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.next(below: 8)))
            case 5:
                bytes = Array(bytes.prefix(random.next(below: bytes.count + 1)))
            case 6:
                let other = corpus[random.next(below: corpus.count)]
                bytes = Array(bytes.prefix(random.next(below: bytes.count + 1))) + Array(other.suffix(random.next(below: other.count + 1)))
            default:
                // An extreme value as a varint (what Thrift uses for every integer).
                var v = Self.extremes[random.next(below: Self.extremes.count)]
                var encoded: [UInt8] = []
                while v >= 0x80 { encoded.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
                encoded.append(UInt8(v))
                let at = min(position(), bytes.count - 1)
                bytes.replaceSubrange(at..<min(bytes.count, at + 1 + random.next(below: 3)), with: encoded)
            }
        }
        return bytes
    }

    func testMutatedFilesReadOrThrowParquetErrors() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["EMBER_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED
        let budget = environment["EMBER_FUZZ_SECONDS"].flatMap(Double.init) ?? 2.5
        let corpus = try ParquetFixtures.readableNames().map(ParquetFixtures.bytes) + [HandMadeParquet().bytes()]
        for bytes in corpus { XCTAssertNoThrow(try readEveryColumn(try ParquetFile(bytes: bytes))) }

        let random = Generator(seed: seed)
        let rssStart = residentKiB()
        var maxRSS = rssStart
        var cases = 0, parsed = 0, refused = 0, slowest = 0.0
        let start = Date()
        // A deterministic phase first: every truncation of the smallest fixture's footer region.
        let smallest = corpus.min { $0.count < $1.count }!
        var inputs: [[UInt8]] = (footerStart(smallest)..<smallest.count).map { Array(smallest.prefix($0)) }
        while Date().timeIntervalSince(start) < budget {
            let input = inputs.popLast() ?? mutate(corpus[random.next(below: corpus.count)], corpus: corpus, random: random)
            let t0 = Date()
            do {
                try readEveryColumn(try ParquetFile(bytes: input, source: "fuzz.parquet"))
                parsed += 1
            } catch let error as ParquetError {
                XCTAssertEqual(error.path, "fuzz.parquet")
                refused += 1
            } catch {
                XCTFail("case \(cases) (seed \(seed)): untyped error \(type(of: error)): \(error); input \(Data(input).base64EncodedString())")
                break
            }
            slowest = max(slowest, Date().timeIntervalSince(t0))
            cases += 1
            if cases % 64 == 0 { maxRSS = max(maxRSS, residentKiB()) }
        }
        maxRSS = max(maxRSS, residentKiB())
        print("fuzz parquet: \(cases) cases in \(String(format: "%.1f", Date().timeIntervalSince(start))) s, seed \(seed): "
              + "\(parsed) read, \(refused) ParquetErrors; slowest \(String(format: "%.1f", slowest * 1000)) ms; VmRSS \(rssStart) -> max \(maxRSS) KiB")
        XCTAssertGreaterThan(cases, 100)
        XCTAssertGreaterThan(refused, 0)
        XCTAssertLessThan(maxRSS - rssStart, 512 * 1024, "the resident set grew by \(maxRSS - rssStart) KiB")
        XCTAssertLessThan(slowest, 2.0)
    }
}
