// Module.save(to:) and loadStateDict(from:strict:): weights round-trip through a
// safetensors file into a fresh model; mismatches and unknown extensions are clear errors.
import Foundation
import XCTest
import Ember
import EmberNN

final class ModuleFilesTests: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ember-modfiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func makeModel() -> Module {
        Sequential(Linear(4, 8), BatchNorm1d(8), ReLU(), Linear(8, 3))
    }

    func testRoundTripIntoAFreshModel() throws {
        let url = try temporaryDirectory().appendingPathComponent("net.safetensors")
        let model = makeModel()
        // Change a buffer so buffers are shown to travel too.
        model.train()
        _ = model(Tensor.randn([16, 4]))
        try model.save(to: url)
        let fresh = makeModel()
        XCTAssertFalse(fresh.stateDict()["0.weight"]!.equal(model.stateDict()["0.weight"]!))
        try fresh.loadStateDict(from: url)
        let want = model.stateDict(), got = fresh.stateDict()
        XCTAssertEqual(Set(got.keys), Set(want.keys))
        XCTAssertTrue(want.keys.contains("1.running_mean"))
        for (name, tensor) in want { XCTAssertTrue(got[name]!.equal(tensor), name) }
        model.eval(); fresh.eval()
        let x = Tensor.randn([5, 4])
        XCTAssertTrue(model(x).equal(fresh(x)))
        XCTAssertEqual(Set(try Safetensors.load(url).keys), Set(want.keys), "a plain safetensors file")
    }

    func testMetadataIsStored() throws {
        let url = try temporaryDirectory().appendingPathComponent("net.safetensors")
        try makeModel().save(to: url, metadata: ["arch": "mlp"])
        XCTAssertEqual(try SafetensorsFile(url).metadata, ["arch": "mlp"])
    }

    func testStrictMismatchNamesTheKeysAndChangesNothing() throws {
        let url = try temporaryDirectory().appendingPathComponent("small.safetensors")
        try Linear(4, 8).save(to: url)
        let model = makeModel()
        let before = model.stateDict().mapValues { $0.clone() }
        XCTAssertThrowsError(try model.loadStateDict(from: url)) { error in
            guard let error = error as? StateDictError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.missingKeys.contains("0.weight"), "\(error)")
            XCTAssertEqual(Set(error.unexpectedKeys), ["weight", "bias"])
        }
        for (name, tensor) in model.stateDict() { XCTAssertTrue(tensor.equal(before[name]!), name) }
    }

    func testNonStrictLoadsTheMatchingKeys() throws {
        let url = try temporaryDirectory().appendingPathComponent("part.safetensors")
        let source = Linear(4, 8)
        try Safetensors.save(["0.weight": source.weight, "extra": Tensor.zeros([1])], to: url)
        let model = makeModel()
        try model.loadStateDict(from: url, strict: false)
        XCTAssertTrue(model.stateDict()["0.weight"]!.equal(source.weight))
    }

    func testUnknownExtensionListsTheSupportedOnes() throws {
        let url = try temporaryDirectory().appendingPathComponent("net.ckpt")
        XCTAssertThrowsError(try makeModel().save(to: url)) { error in
            XCTAssertTrue("\(error)".contains("unsupported file extension 'ckpt'") && "\(error)".contains(".safetensors"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        XCTAssertThrowsError(try makeModel().loadStateDict(from: url)) { error in
            XCTAssertTrue(error is ModuleFileError && "\(error)".contains("supported: .safetensors"), "\(error)")
        }
    }

    func testCorruptFileIsASafetensorsError() throws {
        let url = try temporaryDirectory().appendingPathComponent("bad.safetensors")
        try Data([1, 2, 3]).write(to: url)
        XCTAssertThrowsError(try makeModel().loadStateDict(from: url)) { error in
            XCTAssertTrue(error is SafetensorsError, "\(error)")
        }
    }
}
