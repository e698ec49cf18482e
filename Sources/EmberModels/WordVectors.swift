// `WordVectors`: a vocabulary with one vector per word (GloVe, word2vec, fastText), with
// nearest neighbours by cosine similarity and analogies computed as one matrix-vector product.
import Foundation
import Ember
import EmberNN

/// One result of a nearest-neighbour search.
///
/// ```swift
/// for neighbour in try glove.nearest(to: "king", k: 3) { print(neighbour.word, neighbour.similarity) }
/// ```
public struct WordNeighbour: Equatable, Sendable {
    /// The word.
    public let word: String
    /// Its row in the vocabulary.
    public let index: Int
    /// The cosine similarity to the query, in [-1, 1].
    public let similarity: Float
}

/// Words and their vectors: an `[N, D]` float32 matrix whose row `i` belongs to `words[i]`.
///
/// Similarities are cosines: the vectors are normalised to unit length once (on the first
/// search) and a query costs one `[N, D] · [D]` product plus a top-k pass. Look-ups by word
/// scan the vocabulary the first few times and then use a dictionary; when a word occurs
/// twice, the first row wins. Not thread-safe: these caches fill on first use.
///
/// ```swift
/// let glove = try WordVectors.gloveFromPackage()          // 400000 × 50
/// try glove.nearest(to: "frog", k: 3).map(\.word)         // ["snake", "ape", "toad"]
/// try glove.analogy(a: "man", b: "king", c: "woman").first?.word   // "queen"
/// let table = glove.embedding()                           // a frozen Embedding
/// ```
public final class WordVectors {
    /// The vocabulary, in row order.
    public let words: [String]
    /// The vectors, `[words.count, dimension]`, float32 on the CPU.
    public let vectors: Tensor

    private var lookup: [String: Int]?
    private var linearLookups = 0
    private static let lookupsBeforeDictionary = 16
    private var unit: Tensor?

    /// The number of words.
    public var count: Int { words.count }
    /// The length of each vector.
    public var dimension: Int { vectors.shape[1] }

    /// Pairs `words` with the rows of `vectors`.
    ///
    /// - Parameters:
    ///   - words: one word per row.
    ///   - vectors: a 2-D tensor with one row per word (converted to float32 on the CPU).
    /// - Throws: ``WordVectorsError/mismatch(_:)`` when the shapes disagree.
    ///
    /// ```swift
    /// let wv = try WordVectors(words: ["a", "b"], vectors: Tensor([1, 0, 0, 1] as [Float], shape: [2, 2]))
    /// ```
    public init(words: [String], vectors: Tensor) throws {
        guard vectors.rank == 2 else {
            throw WordVectorsError.mismatch("word vectors must be a 2-D tensor, got shape \(vectors.shape)")
        }
        guard vectors.shape[0] == words.count else {
            throw WordVectorsError.mismatch("\(words.count) words but \(vectors.shape[0]) vectors")
        }
        guard vectors.shape[1] > 0 else { throw WordVectorsError.mismatch("word vectors have no components") }
        self.words = words
        self.vectors = noGrad { vectors.detach().to(.cpu).to(.float32).contiguous() }
    }

    /// The row of `word`, or nil when it is not in the vocabulary.
    ///
    /// ```swift
    /// glove.index(of: "the")   // 0
    /// ```
    public func index(of word: String) -> Int? {
        if let lookup { return lookup[word] }
        // A scan costs about as much as hashing a few words of the vocabulary: the first few
        // look-ups scan (a one-shot query stays fast), later ones build the dictionary.
        if linearLookups < Self.lookupsBeforeDictionary {
            linearLookups += 1
            return words.firstIndex(of: word)
        }
        var table = [String: Int](minimumCapacity: words.count)
        for (i, w) in words.enumerated() where table[w] == nil { table[w] = i }
        lookup = table
        return table[word]
    }

    /// The vector of `word` (a `[dimension]` view of ``vectors``), or nil.
    ///
    /// ```swift
    /// glove.vector(for: "king")?.shape   // [50]
    /// ```
    public func vector(for word: String) -> Tensor? {
        index(of: word).map { vectors.select(dim: 0, index: $0) }
    }

    /// The vectors scaled to unit length (zero vectors stay zero), computed once.
    public var normalizedVectors: Tensor {
        if let unit { return unit }
        let norms = noGrad { vectors.norm(dims: [1], keepDim: true).clamp(min: 1e-12) }
        let result = noGrad { (vectors / norms).contiguous() }
        unit = result
        return result
    }

    private func requireIndex(_ word: String) throws -> Int {
        guard let i = index(of: word) else { throw WordVectorsError.unknownWord(word, vocabularySize: count) }
        return i
    }

    /// The `k` words most similar to `word` (cosine similarity), the word itself excluded.
    ///
    /// - Parameters:
    ///   - word: a word of the vocabulary.
    ///   - k: how many neighbours.
    /// - Throws: ``WordVectorsError/unknownWord(_:vocabularySize:)``.
    ///
    /// ```swift
    /// try glove.nearest(to: "king", k: 3).map(\.word)   // ["prince", "queen", "ii"]
    /// ```
    public func nearest(to word: String, k: Int = 10) throws -> [WordNeighbour] {
        try nearest(positive: [word], negative: [], k: k)
    }

    /// The `k` words whose vectors are most similar (cosine) to `vector`.
    ///
    /// - Parameters:
    ///   - vector: a `[dimension]` tensor (need not have unit length).
    ///   - k: how many neighbours.
    ///   - excluding: words to leave out of the results.
    ///
    /// ```swift
    /// let frog = glove.vector(for: "frog")!
    /// glove.nearest(to: frog, k: 2).map(\.word)                       // ["frog", "snake"]
    /// glove.nearest(to: frog, k: 1, excluding: ["frog"]).first?.word   // "snake"
    /// ```
    public func nearest(to vector: Tensor, k: Int = 10, excluding: Set<String> = []) -> [WordNeighbour] {
        precondition(vector.shape == [dimension], "WordVectors.nearest: the query has shape \(vector.shape), expected [\(dimension)]")
        precondition(k >= 0, "WordVectors.nearest: k must be zero or more, got \(k)")
        let query = noGrad { vector.detach().to(.cpu).to(.float32) }
        let norm = noGrad { query.norm() }.item(Float.self)
        let direction = norm > 0 ? noGrad { query / Double(norm) } : query
        let scores = noGrad { normalizedVectors.matmul(direction) }.asArray(Float.self)
        let excludedRows = Set(excluding.compactMap { index(of: $0) })
        return topK(scores, k: k, excluding: excludedRows)
    }

    /// The `k` words nearest (cosine) to the sum of the unit vectors of `positive` minus those
    /// of `negative` — the arithmetic behind analogies — leaving the query words out.
    ///
    /// - Parameters:
    ///   - positive: words whose directions are added.
    ///   - negative: words whose directions are subtracted.
    ///   - k: how many neighbours.
    /// - Throws: ``WordVectorsError/unknownWord(_:vocabularySize:)`` for the first unknown word.
    ///
    /// ```swift
    /// try glove.nearest(positive: ["king", "woman"], negative: ["man"], k: 1)[0].word   // "queen"
    /// ```
    public func nearest(positive: [String], negative: [String], k: Int = 10) throws -> [WordNeighbour] {
        precondition(!positive.isEmpty || !negative.isEmpty, "WordVectors.nearest: give at least one word")
        let plus = try positive.map(requireIndex)
        let minus = try negative.map(requireIndex)
        let unit = normalizedVectors
        var query = unit.select(dim: 0, index: plus.first ?? minus[0])
        if plus.isEmpty { query = -query }
        for i in plus.dropFirst() { query = query + unit.select(dim: 0, index: i) }
        for i in (plus.isEmpty ? Array(minus.dropFirst()) : minus) { query = query - unit.select(dim: 0, index: i) }
        let norm = query.norm().item(Float.self)
        let direction = norm > 0 ? query / Double(norm) : query
        let scores = noGrad { unit.matmul(direction) }.asArray(Float.self)
        return topK(scores, k: k, excluding: Set(plus + minus))
    }

    /// "`a` is to `b` as `c` is to ?": the words nearest to `b − a + c` (unit vectors), the
    /// three query words excluded. `analogy(a: "man", b: "king", c: "woman")` is
    /// `king − man + woman`.
    ///
    /// - Parameters:
    ///   - a: the first word of the known pair.
    ///   - b: the second word of the known pair.
    ///   - c: the first word of the asked pair.
    ///   - k: how many answers.
    ///
    /// ```swift
    /// try glove.analogy(a: "man", b: "king", c: "woman", k: 1)[0].word   // "queen"
    /// ```
    public func analogy(a: String, b: String, c: String, k: Int = 10) throws -> [WordNeighbour] {
        try nearest(positive: [b, c], negative: [a], k: k)
    }

    /// The vectors as an `Embedding` layer (`Embedding.fromPretrained`): row `index(of: w)`
    /// is `w`'s vector.
    ///
    /// - Parameter freeze: keep the table fixed during training (the default).
    ///
    /// ```swift
    /// let table = glove.embedding()
    /// let x = table(Tensor([glove.index(of: "king")!], dtype: .int64))   // [1, 50]
    /// ```
    public func embedding(freeze: Bool = true) -> Embedding {
        Embedding.fromPretrained(vectors, freeze: freeze)
    }

    /// The `k` highest scores, highest first (ties: the lower row first), skipping `excluded`.
    private func topK(_ scores: [Float], k: Int, excluding excluded: Set<Int>) -> [WordNeighbour] {
        guard k > 0 else { return [] }
        // A small sorted buffer: k is tiny next to the vocabulary.
        var best: [(score: Float, row: Int)] = []
        best.reserveCapacity(k + 1)
        for (row, score) in scores.enumerated() where !score.isNaN {
            if best.count == k, let last = best.last, !(score > last.score) { continue }
            if excluded.contains(row) { continue }
            var at = best.count
            while at > 0 && best[at - 1].score < score { at -= 1 }
            best.insert((score, row), at: at)
            if best.count > k { best.removeLast() }
        }
        return best.map { WordNeighbour(word: words[$0.row], index: $0.row, similarity: $0.score) }
    }
}
