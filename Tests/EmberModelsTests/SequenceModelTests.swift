import Foundation
import XCTest
import Ember
import EmberNN
import EmberData
import EmberOptim
@testable import EmberModels

final class CharTokenizerTests: XCTestCase {
    func testVocabularyIsSortedUniqueAndRoundTrips() throws {
        let text = "hello, world\n\tÉé\r\n"
        let tok = CharTokenizer(text: text)
        XCTAssertEqual(tok.vocabulary.map { $0.value }, tok.vocabulary.map { $0.value }.sorted())
        XCTAssertEqual(tok.vocabSize, Set(text.unicodeScalars).count)
        XCTAssertEqual(try tok.encode("hello"), [tok.id(of: "h")!, tok.id(of: "e")!, tok.id(of: "l")!, tok.id(of: "l")!, tok.id(of: "o")!])
        let ids = try tok.encode(text)
        XCTAssertEqual(ids.count, text.unicodeScalars.count)
        XCTAssertEqual(try tok.decode(ids), text)
        XCTAssertEqual(try tok.decode(tok.encodeTensor(text)), text)
        XCTAssertEqual(try tok.encodeTensor("lo").dtype, .int64)
    }

    func testUnknownCharactersAndIdsAreClearErrors() {
        let tok = CharTokenizer(text: "abc")
        XCTAssertThrowsError(try tok.encode("abz")) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownCharacter("z", offset: 2))
            XCTAssertTrue("\(error)".contains("'z'") || "\(error)".contains("z"))
        }
        XCTAssertThrowsError(try tok.decode([0, 3])) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownToken(3, vocabSize: 3))
        }
        XCTAssertThrowsError(try CharTokenizer(vocabulary: ["a", "a"]))
        XCTAssertThrowsError(try CharTokenizer(vocabulary: []))
    }

    func testSaveAndLoadJSONAndLines() throws {
        let tok = CharTokenizer(text: "To be, or not\nto be:\t\\ \u{7F}ü")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ember-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["vocab.json", "vocab.txt"] {
            let url = dir.appendingPathComponent(name)
            try tok.save(to: url)
            let loaded = try CharTokenizer.load(from: url)
            XCTAssertEqual(loaded, tok, name)
            XCTAssertEqual(loaded.vocabulary, tok.vocabulary, name)
        }
        let lines = try String(contentsOf: dir.appendingPathComponent("vocab.txt"), encoding: .utf8)
        XCTAssertTrue(lines.hasPrefix("\\t\n\\n\n \n"), lines)
        let bad = dir.appendingPathComponent("bad.json")
        try Data("[1, 2]".utf8).write(to: bad)
        XCTAssertThrowsError(try CharTokenizer.load(from: bad)) { error in
            XCTAssertTrue("\(error)".contains("bad.json"))
        }
    }
}

final class TextBlockDatasetTests: XCTestCase {
    func testBlocksAreShiftedByOne() throws {
        let ds = TextBlockDataset(tokens: Tensor((0 ..< 10).map { Int64($0) }, shape: [10], dtype: .int64), blockSize: 4)
        XCTAssertEqual(ds.count, 6)
        let (x, y) = ds[2]
        XCTAssertEqual(x.dtype, .int64)
        XCTAssertEqual(x.asArray(Int64.self), [2, 3, 4, 5])
        XCTAssertEqual(y.asArray(Int64.self), [3, 4, 5, 6])
        let (lx, ly) = ds[5]
        XCTAssertEqual(lx.asArray(Int64.self), [5, 6, 7, 8])
        XCTAssertEqual(ly.asArray(Int64.self), [6, 7, 8, 9])
        let batch = ds.batchTensors(at: [0, 5])!
        XCTAssertEqual(batch[0].shape, [2, 4])
        XCTAssertEqual(batch[1].asArray(Int64.self), [1, 2, 3, 4, 6, 7, 8, 9])
        let disjoint = TextBlockDataset(tokens: (0 ..< 10).map { Int64($0) }, blockSize: 4, stride: 4)
        XCTAssertEqual(disjoint.count, 2)
        XCTAssertEqual(disjoint[1].0.asArray(Int64.self), [4, 5, 6, 7])
        XCTAssertEqual(TextBlockDataset(tokens: [1, 2, 3], blockSize: 3).count, 0)
    }

    func testSplitByPosition() throws {
        let text = String(repeating: "abcdefghij", count: 10)   // 100 characters
        let tok = CharTokenizer(text: text)
        let (train, val) = try TextBlockDataset.split(text: text, tokenizer: tok, blockSize: 8)
        XCTAssertEqual(train.tokens.count, 90)
        XCTAssertEqual(val.tokens.count, 10)
        XCTAssertEqual(train.count, 82)
        XCTAssertEqual(val.count, 2)
        XCTAssertEqual(try tok.decode(val.tokens.map { Int($0) }), "abcdefghij")
        let (_, vy) = val[1]
        XCTAssertEqual(try tok.decode(vy), "cdefghij")
        let (t2, v2) = TextBlockDataset.split(tokens: (0 ..< 50).map { Int64($0) }, blockSize: 4, trainFraction: 0.8)
        XCTAssertEqual(t2.tokens.last, 39)
        XCTAssertEqual(v2.tokens.first, 40)
        // Works with a DataLoader-style pair collation.
        XCTAssertEqual(Collate.pairs([train[0], train[1]]).0.shape, [2, 8])
    }
}

final class GPTTests: XCTestCase {
    func tiny(tie: Bool = true, layers: Int = 2, context: Int = 16, vocab: Int = 11) -> GPT {
        manualSeed(1234)
        return GPT(GPTConfig(vocabSize: vocab, contextLength: context, numLayers: layers, numHeads: 2, embedDim: 16, tieWeights: tie))
    }

    func randomTokens(_ shape: [Int], vocab: Int, seed: UInt64) -> Tensor {
        var rng = Generator(seed: seed)
        let n = shape.reduce(1, *)
        return Tensor((0 ..< n).map { _ in Int64.random(in: 0 ..< Int64(vocab), using: &rng) }, shape: shape, dtype: .int64)
    }

    func testShapesAndParameterNames() {
        let gpt = tiny()
        let x = randomTokens([3, 7], vocab: 11, seed: 1)
        XCTAssertEqual(gpt(x).shape, [3, 7, 11])
        XCTAssertEqual(gpt(x.select(dim: 0, index: 0)).shape, [7, 11])
        let names = gpt.namedParameters().map(\.0)
        XCTAssertEqual(names, [
            "wte.weight", "wpe.weight",
            "h.0.ln_1.weight", "h.0.ln_1.bias", "h.0.attn.c_attn.weight", "h.0.attn.c_attn.bias",
            "h.0.attn.c_proj.weight", "h.0.attn.c_proj.bias", "h.0.ln_2.weight", "h.0.ln_2.bias",
            "h.0.mlp.c_fc.weight", "h.0.mlp.c_fc.bias", "h.0.mlp.c_proj.weight", "h.0.mlp.c_proj.bias",
            "h.1.ln_1.weight", "h.1.ln_1.bias", "h.1.attn.c_attn.weight", "h.1.attn.c_attn.bias",
            "h.1.attn.c_proj.weight", "h.1.attn.c_proj.bias", "h.1.ln_2.weight", "h.1.ln_2.bias",
            "h.1.mlp.c_fc.weight", "h.1.mlp.c_fc.bias", "h.1.mlp.c_proj.weight", "h.1.mlp.c_proj.bias",
            "ln_f.weight", "ln_f.bias",
        ])
        let shapes = Dictionary(uniqueKeysWithValues: gpt.namedParameters().map { ($0.0, $0.1.shape) })
        XCTAssertEqual(shapes["wpe.weight"], [16, 16])
        XCTAssertEqual(shapes["h.0.attn.c_attn.weight"], [48, 16])
        XCTAssertEqual(shapes["h.1.mlp.c_fc.weight"], [64, 16])
        // 11*16 + 16*16 + 2 * (4*16 + 48*16+48 + 16*16+16 + 64*16+64 + 16*64+16) + 32
        XCTAssertEqual(gpt.parameterCount, 176 + 256 + 2 * (64 + 816 + 272 + 1088 + 1040) + 32)
        let untied = tiny(tie: false)
        XCTAssertEqual(untied.namedParameters().last?.0, "lm_head.weight")
        XCTAssertEqual(untied.parameterCount, gpt.parameterCount + 11 * 16)
    }

    func testCausalMasking() {
        let gpt = tiny().eval()
        let x = randomTokens([2, 10], vocab: 11, seed: 2)
        var values = x.asArray(Int64.self)
        values[6] = (values[6] + 3) % 11     // batch 0, position 6
        values[19] = (values[19] + 5) % 11   // batch 1, position 9
        let changed = Tensor(values, shape: [2, 10], dtype: .int64)
        let a = gpt(x), b = gpt(changed)
        let early = a.narrow(dim: 1, start: 0, length: 6), earlyB = b.narrow(dim: 1, start: 0, length: 6)
        XCTAssertEqual(early.asArray(Float.self), earlyB.asArray(Float.self))
        // batch 1 is unchanged up to position 8
        XCTAssertEqual(a.select(dim: 0, index: 1).narrow(dim: 0, start: 0, length: 9).asArray(Float.self),
                       b.select(dim: 0, index: 1).narrow(dim: 0, start: 0, length: 9).asArray(Float.self))
        // ...and the change does reach the changed position.
        let diff = (a.select(dim: 0, index: 0).select(dim: 0, index: 6) - b.select(dim: 0, index: 0).select(dim: 0, index: 6)).abs().max().item(Double.self)
        XCTAssertGreaterThan(diff, 1e-6)
    }

    func testCachedForwardMatchesFullForward() {
        let gpt = tiny().eval()
        let x = randomTokens([1, 9], vocab: 11, seed: 3)
        let full = gpt(x)
        let cache = gpt.makeCache()
        let first = gpt.forward(x.narrow(dim: 1, start: 0, length: 4), cache: cache)
        let second = gpt.forward(x.narrow(dim: 1, start: 4, length: 3), cache: cache)
        let third = gpt.forward(x.narrow(dim: 1, start: 7, length: 1), cache: cache)
        let fourth = gpt.forward(x.narrow(dim: 1, start: 8, length: 1), cache: cache)
        XCTAssertEqual(cache.length, 9)
        XCTAssertEqual(cache.keys[0]?.shape, [1, 2, 9, 8])
        let stitched = Tensor.cat([first, second, third, fourth], dim: 1)
        XCTAssertLessThan((stitched - full).abs().max().item(Double.self), 1e-5)
    }

    func testGenerationWithCacheEqualsRecomputation() {
        let gpt = tiny(context: 8)
        let prompt = [1, 2, 3]
        var streamed: [Int] = []
        // 20 new tokens run past the context of 8, exercising the sliding window as well.
        let cached = gpt.generate(prompt, maxNewTokens: 20, temperature: 1.0, topK: 5, generator: Generator(seed: 42)) { streamed.append($0) }
        let recomputed = gpt.generate(prompt, maxNewTokens: 20, temperature: 1.0, topK: 5, generator: Generator(seed: 42), useCache: false)
        XCTAssertEqual(cached.count, 20)
        XCTAssertEqual(cached, recomputed)
        XCTAssertEqual(streamed, cached)
        XCTAssertTrue(cached.allSatisfy { $0 >= 0 && $0 < 11 })
        XCTAssertTrue(gpt.isTraining, "generate restores the training mode")
        let greedyA = gpt.generate([4], maxNewTokens: 6, temperature: 0)
        let greedyB = gpt.generate([4], maxNewTokens: 6, temperature: 0, useCache: false)
        XCTAssertEqual(greedyA, greedyB)
        // Different seeds give (with overwhelming probability) different samples.
        let other = gpt.generate(prompt, maxNewTokens: 20, temperature: 1.0, generator: Generator(seed: 7))
        XCTAssertNotEqual(other, cached)
    }

    func testWeightTyingSharesOneTensor() {
        let gpt = tiny()
        XCTAssertTrue(gpt.weightsAreTied)
        XCTAssertTrue(gpt.lm_head.weight === gpt.wte.weight)
        XCTAssertEqual(gpt.namedParameters().filter { $0.1 === gpt.wte.weight }.map(\.0), ["wte.weight"])
        XCTAssertNil(gpt.stateDict()["lm_head.weight"])
        let x = randomTokens([2, 5], vocab: 11, seed: 4)
        let opt = AdamW(gpt.parameters(), lr: 0.01)
        languageModelLoss(gpt(x), randomTokens([2, 5], vocab: 11, seed: 5)).backward()
        XCTAssertNotNil(gpt.wte.weight.grad)
        let before = gpt.wte.weight.clone()
        opt.step()
        XCTAssertTrue(gpt.lm_head.weight === gpt.wte.weight)
        XCTAssertGreaterThan((gpt.lm_head.weight - before).abs().max().item(Double.self), 0)
        XCTAssertFalse(tiny(tie: false).weightsAreTied)
    }

    func testTinyGPTOverfitsARepeatedString() throws {
        let text = String(repeating: "abcdefgh", count: 40)
        let tok = CharTokenizer(text: text)
        let ds = try TextBlockDataset(text: text, tokenizer: tok, blockSize: 12)
        manualSeed(7)
        let gpt = GPT(GPTConfig(vocabSize: tok.vocabSize, contextLength: 12, numLayers: 1, numHeads: 2, embedDim: 32))
        let opt = AdamW(gpt.parameters(), lr: 1e-2)
        var rng = Generator(seed: 11)
        var first = 0.0, last = Double.infinity
        for step in 0 ..< 150 {
            let idx = (0 ..< 8).map { _ in Int.random(in: 0 ..< ds.count, using: &rng) }
            let batch = ds.batchTensors(at: idx)!
            let loss = languageModelLoss(gpt(batch[0]), batch[1])
            opt.zeroGrad()
            loss.backward()
            opt.step()
            last = loss.item(Double.self)
            if step == 0 { first = last }
            if last < 0.05 { break }
        }
        XCTAssertGreaterThan(first, 1.5)
        XCTAssertLessThan(last, 0.05)
        let continuation = gpt.generate(try tok.encode("abc"), maxNewTokens: 10, temperature: 0)
        XCTAssertEqual(try tok.decode(continuation), "defghabcde")
    }
}

final class LSTMLanguageModelTests: XCTestCase {
    func testShapesNamesAndState() {
        manualSeed(5)
        let model = LSTMLanguageModel(vocabSize: 9, embedDim: 6, hiddenSize: 10, numLayers: 2)
        let x = Tensor((0 ..< 12).map { Int64($0 % 9) }, shape: [3, 4], dtype: .int64)
        let (logits, state) = model(x, nil)
        XCTAssertEqual(logits.shape, [3, 4, 9])
        XCTAssertEqual(state.h.shape, [2, 3, 10])
        XCTAssertEqual(state.c.shape, [2, 3, 10])
        XCTAssertEqual(model.forward(x.select(dim: 0, index: 0)).shape, [4, 9])
        let names = model.namedParameters().map(\.0)
        XCTAssertEqual(names.first, "embedding.weight")
        XCTAssertTrue(names.contains("lstm.weight_ih_l1"))
        XCTAssertEqual(Array(names.suffix(2)), ["lm_head.weight", "lm_head.bias"])
        // Running in two halves with the carried state equals one pass.
        let model2 = model.eval()
        let (whole, _) = model2(x, nil)
        let (a, s) = model2(x.narrow(dim: 1, start: 0, length: 2), nil)
        let (b, _) = model2(x.narrow(dim: 1, start: 2, length: 2), s)
        XCTAssertLessThan((Tensor.cat([a, b], dim: 1) - whole).abs().max().item(Double.self), 1e-5)
    }

    func testGeneration() {
        manualSeed(6)
        let model = LSTMLanguageModel(vocabSize: 7, embedDim: 4, hiddenSize: 8)
        var streamed: [Int] = []
        let a = model.generate([1, 2], maxNewTokens: 15, topK: 3, generator: Generator(seed: 3)) { streamed.append($0) }
        let b = model.generate([1, 2], maxNewTokens: 15, topK: 3, generator: Generator(seed: 3))
        XCTAssertEqual(a.count, 15)
        XCTAssertEqual(a, b)
        XCTAssertEqual(streamed, a)
        XCTAssertTrue(a.allSatisfy { $0 >= 0 && $0 < 7 })
        // Greedy generation equals arg-max of a full recomputation at every step.
        let greedy = model.generate([3], maxNewTokens: 5, temperature: 0)
        var context = [3]
        for _ in 0 ..< 5 {
            let logits = noGrad { model.forward(Tensor(context.map(Int64.init), shape: [context.count], dtype: .int64)) }
            context.append(logits.select(dim: 0, index: context.count - 1).argmax().item(Int64.self).asInt)
        }
        XCTAssertEqual(greedy, Array(context.dropFirst()))
    }
}

private extension Int64 { var asInt: Int { Int(self) } }

final class SamplingTests: XCTestCase {
    func testTopKTemperatureAndGreedy() {
        let logits = Tensor([0.0, 3.0, 2.9, -1.0, 1.0] as [Float], shape: [5])
        XCTAssertEqual(sampleToken(logits: logits, temperature: 0), 1)
        let g = Generator(seed: 9)
        var counts = [0, 0, 0, 0, 0]
        for _ in 0 ..< 400 { counts[sampleToken(logits: logits, topK: 2, generator: g)] += 1 }
        XCTAssertEqual(counts[0] + counts[3] + counts[4], 0)
        XCTAssertGreaterThan(counts[1], 150)
        XCTAssertGreaterThan(counts[2], 150)
        XCTAssertEqual(sampleToken(logits: logits, topK: 1, generator: g), 1)
    }
}
