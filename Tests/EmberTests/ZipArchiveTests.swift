// ZipArchive / ZipWriter: round trips (stored, deflated, ZIP64), Python's zipfile agrees,
// and damaged or hostile archives give typed errors naming the file and the entry.
import Foundation
import XCTest
@testable import Ember

final class ZipArchiveTests: XCTestCase {
    private func archive(_ entries: [(String, Data, Bool)], zip64Threshold: UInt64 = 0xFFFF_FFFF) -> Data {
        var writer = ZipWriter(alignment: 64, zip64Threshold: zip64Threshold)
        for (name, bytes, compress) in entries { writer.add(name, bytes, compress: compress) }
        return writer.finish()
    }

    private let sample: [(String, Data, Bool)] = [
        ("a/data.pkl", Data("hello".utf8), false),
        ("a/data/0", Data((0..<1000).map { UInt8($0 % 251) }), false),
        ("a/zeros", Data(count: 100_000), true),
        ("a/empty", Data(), false),
        ("a/empty-deflated", Data(), true),
    ]

    func testRoundTripStoredAndDeflatedWithAlignedData() throws {
        let bytes = archive(sample)
        let zip = try ZipArchive(data: bytes, path: "t.zip")
        XCTAssertEqual(zip.entries.map(\.name), sample.map(\.0))
        for (name, data, compress) in sample {
            XCTAssertEqual(try zip.data(for: name), data, name)
            let entry = try XCTUnwrap(zip.entry(named: name))
            XCTAssertEqual(entry.method, compress ? 8 : 0)
        }
        XCTAssertLessThan(try XCTUnwrap(zip.entry(named: "a/zeros")).compressedSize, 1000)
        // Stored data starts on a 64-byte boundary, as torch writes it.
        let entry = try XCTUnwrap(zip.entry(named: "a/data/0"))
        let nameLength = Int(ZipArchive.read(bytes, entry.localHeaderOffset + 26) as UInt16)
        let extraLength = Int(ZipArchive.read(bytes, entry.localHeaderOffset + 28) as UInt16)
        let dataStart = entry.localHeaderOffset + 30 + nameLength + extraLength
        XCTAssertEqual(dataStart % 64, 0)
        // Without a copy, a stored entry is the archive's own bytes at its offset (CRC still
        // checked); a deflated one is inflated as before.
        let slice = try zip.data(for: "a/data/0", copy: false)
        XCTAssertEqual(slice.startIndex, dataStart)
        XCTAssertEqual(Data(slice), sample[1].1)
        XCTAssertEqual(try zip.data(for: "a/zeros", copy: false), sample[2].1)
        XCTAssertEqual(try zip.data(for: "a/empty", copy: false).count, 0)
    }

    func testZip64RecordsRoundTrip() throws {
        // A threshold of 0 forces ZIP64 sizes, offsets and end records for every entry.
        let bytes = archive(sample, zip64Threshold: 0)
        XCTAssertEqual(ZipArchive.read(bytes, bytes.count - 22 + 16) as UInt32, UInt32.max)
        let zip = try ZipArchive(data: bytes)
        for (name, data, _) in sample { XCTAssertEqual(try zip.data(for: name), data, name) }
        try checkWithPython(bytes, expected: sample)
    }

    func testPythonZipfileReadsOurArchive() throws {
        try checkWithPython(archive(sample), expected: sample)
    }

    private func checkWithPython(_ bytes: Data, expected: [(String, Data, Bool)]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            print("skipping the Python zipfile check: /usr/bin/python3 not found"); return
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ember-zip-\(UUID().uuidString).zip")
        try bytes.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", """
            import sys, zipfile, hashlib
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            for i in z.infolist(): print(i.filename, len(z.read(i)), hashlib.sha256(z.read(i)).hexdigest())
            """, url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, output)
        let lines = output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, expected.count)
        for (line, (name, data, _)) in zip(lines, expected) {
            XCTAssertTrue(line.hasPrefix("\(name) \(data.count) "), line)
        }
    }

    func testNotAZipAndTruncatedArchives() {
        XCTAssertThrowsError(try ZipArchive(data: Data("just some text, no zip here at all".utf8), path: "x.zip")) { error in
            let e = error as! ZipArchiveError
            XCTAssertEqual(e.kind, .notAZip)
            XCTAssertTrue(e.description.hasPrefix("x.zip: "), e.description)
        }
        let bytes = archive(sample)
        for cut in [10, bytes.count / 2, bytes.count - 5] {
            XCTAssertThrowsError(try ZipArchive(data: bytes.prefix(cut), path: "cut.zip")) { error in
                XCTAssertEqual((error as? ZipArchiveError)?.kind, .notAZip, "\(cut): \(error)")
                XCTAssertTrue("\(error)".contains("cut.zip"))
            }
        }
        XCTAssertThrowsError(try ZipArchive(url: URL(fileURLWithPath: "/nonexistent/a.zip"))) { error in
            XCTAssertEqual((error as? ZipArchiveError)?.kind, .fileNotFound)
        }
    }

    func testCentralDirectoryPointingOutsideTheFileIsRefused() throws {
        var bytes = archive(sample)
        let eocd = bytes.count - 22
        bytes.replaceSubrange(eocd + 16..<eocd + 20, with: [0xF0, 0xFF, 0xFF, 0x7F])  // central directory offset
        XCTAssertThrowsError(try ZipArchive(data: bytes, path: "bad.zip")) { error in
            XCTAssertEqual((error as? ZipArchiveError)?.kind, .truncated, "\(error)")
        }
        // A local header offset past the end: refused, naming the entry.
        var bytes2 = archive(sample)
        let cd = Int(ZipArchive.read(bytes2, bytes2.count - 22 + 16) as UInt32)
        bytes2.replaceSubrange(cd + 42..<cd + 46, with: [0x00, 0x00, 0xFF, 0x00])
        XCTAssertThrowsError(try ZipArchive(data: bytes2, path: "bad.zip")) { error in
            let e = error as! ZipArchiveError
            XCTAssertEqual(e.entry, "a/data.pkl")
            XCTAssertTrue(e.description.contains("bad.zip: entry 'a/data.pkl'"), e.description)
        }
        // A local header offset inside the file but not at a local header.
        var bytes3 = archive(sample)
        bytes3.replaceSubrange(cd + 42..<cd + 46, with: [0x05, 0x00, 0x00, 0x00])
        XCTAssertThrowsError(try ZipArchive(data: bytes3, path: "bad.zip").data(for: "a/data.pkl")) { error in
            XCTAssertEqual((error as? ZipArchiveError)?.kind, .corrupt, "\(error)")
            XCTAssertEqual((error as? ZipArchiveError)?.entry, "a/data.pkl")
        }
    }

    func testCRCMismatchIsDetected() throws {
        var bytes = archive(sample)
        let zip0 = try ZipArchive(data: bytes)
        let entry = try XCTUnwrap(zip0.entry(named: "a/data/0"))
        let start = entry.localHeaderOffset + 30 + Int(ZipArchive.read(bytes, entry.localHeaderOffset + 26) as UInt16)
            + Int(ZipArchive.read(bytes, entry.localHeaderOffset + 28) as UInt16)
        bytes[start + 3] ^= 0xFF
        let zip = try ZipArchive(data: bytes, path: "flip.zip")
        for copy in [true, false] {
            XCTAssertThrowsError(try zip.data(for: "a/data/0", copy: copy)) { error in
                XCTAssertEqual((error as? ZipArchiveError)?.kind, .checksumMismatch)
                XCTAssertEqual((error as? ZipArchiveError)?.entry, "a/data/0")
            }
        }
        XCTAssertEqual(try zip.data(for: "a/data.pkl"), Data("hello".utf8))
        XCTAssertThrowsError(try zip.data(for: "a/missing")) { error in
            XCTAssertEqual((error as? ZipArchiveError)?.kind, .missingEntry)
        }
    }

    /// Patches the uncompressed size recorded for `name` in the central directory.
    private func patchUncompressedSize(_ bytes: inout Data, _ name: String, to size: UInt32) throws {
        let zip = try ZipArchive(data: bytes)
        let cd = Int(ZipArchive.read(bytes, bytes.count - 22 + 16) as UInt32)
        var p = cd
        for entry in zip.entries {
            let nameLength = Int(ZipArchive.read(bytes, p + 28) as UInt16)
            let extraLength = Int(ZipArchive.read(bytes, p + 30) as UInt16)
            if entry.name == name {
                withUnsafeBytes(of: size.littleEndian) { bytes.replaceSubrange(p + 24..<p + 28, with: $0) }
                return
            }
            p += 46 + nameLength + extraLength
        }
        XCTFail("no entry \(name)")
    }

    func testZipBombsAreRefusedWithoutInflating() throws {
        let bomb: [(String, Data, Bool)] = [("bomb", Data(count: 10_000_000), true)]
        // Declares 1000 bytes but inflates to 10 MB: stopped at the declared size.
        var lying = archive(bomb)
        try patchUncompressedSize(&lying, "bomb", to: 1000)
        XCTAssertThrowsError(try ZipArchive(data: lying, path: "bomb.zip").data(for: "bomb")) { error in
            let e = error as! ZipArchiveError
            XCTAssertEqual(e.kind, .tooLarge, "\(e)")
            XCTAssertTrue(e.description.contains("bomb.zip: entry 'bomb'"), e.description)
        }
        // Declares 4 GB from ~10 KB of deflate data: impossible for deflate, refused up front.
        var huge = archive(bomb)
        try patchUncompressedSize(&huge, "bomb", to: 0xFFFF_FFF0)
        XCTAssertThrowsError(try ZipArchive(data: huge, path: "bomb.zip").data(for: "bomb")) { error in
            XCTAssertEqual((error as? ZipArchiveError)?.kind, .tooLarge, "\(error)")
        }
        // A reader limit below the entry's size.
        XCTAssertThrowsError(try ZipArchive(data: archive(bomb), maximumEntryBytes: 1 << 20).data(for: "bomb")) { error in
            XCTAssertEqual((error as? ZipArchiveError)?.kind, .tooLarge, "\(error)")
        }
        XCTAssertEqual(try ZipArchive(data: archive(bomb)).data(for: "bomb").count, 10_000_000)
    }

    func testCorruptDeflateStreamIsAnError() throws {
        var bytes = archive([("z", Data((0..<5000).map { UInt8($0 % 7) }), true)])
        let zip0 = try ZipArchive(data: bytes)
        let entry = try XCTUnwrap(zip0.entry(named: "z"))
        let start = entry.localHeaderOffset + 30 + 1 + Int(ZipArchive.read(bytes, entry.localHeaderOffset + 28) as UInt16)
        for i in 0..<min(8, entry.compressedSize) { bytes[start + i] = 0xFF }
        XCTAssertThrowsError(try ZipArchive(data: bytes, path: "c.zip").data(for: "z")) { error in
            XCTAssertEqual((error as? ZipArchiveError)?.entry, "z", "\(error)")
        }
    }
}
