// Fixed-length (input, target) blocks over a token stream, for language-model training.
import Ember
import EmberData

/// Blocks of `blockSize` tokens and the same block shifted one to the right, as nanoGPT's
/// `get_batch`: sample `i` is `(tokens[s ..< s+blockSize], tokens[s+1 ..< s+blockSize+1])`
/// with `s = i·stride`, both int64 `[blockSize]`.
///
/// With the default `stride: 1` every start position is a sample (`count = n − blockSize`),
/// so a shuffled `DataLoader` draws random windows; `stride: blockSize` gives disjoint blocks.
/// Batches are sliced straight from the token array (`BatchTensorSource`).
///
/// ```swift
/// let tok = CharTokenizer(text: text)
/// let (train, val) = try TextBlockDataset.split(text: text, tokenizer: tok, blockSize: 64)   // 90 / 10
/// let (x, y) = train[0]   // [64], [64]
/// ```
public struct TextBlockDataset: Dataset, BatchTensorSource {
    /// The token stream.
    public let tokens: [Int64]
    /// Tokens per input block.
    public let blockSize: Int
    /// Tokens between the starts of consecutive blocks.
    public let stride: Int

    /// Blocks over `tokens` (1-D integer tensor).
    public init(tokens: Tensor, blockSize: Int, stride: Int = 1) {
        precondition(tokens.rank == 1 && !tokens.dtype.isFloatingPoint && tokens.dtype != .bool,
                     "TextBlockDataset: tokens must be a 1-D integer tensor, got \(tokens.dtype) \(tokens.shape)")
        self.init(tokens: tokens.asArray(Int64.self), blockSize: blockSize, stride: stride)
    }

    /// Blocks over a token array.
    public init(tokens: [Int64], blockSize: Int, stride: Int = 1) {
        precondition(blockSize > 0, "TextBlockDataset: blockSize must be positive, got \(blockSize)")
        precondition(stride > 0, "TextBlockDataset: stride must be positive, got \(stride)")
        self.tokens = tokens
        self.blockSize = blockSize
        self.stride = stride
    }

    /// Blocks over `text` encoded by `tokenizer`.
    /// - Throws: `TokenizerError.unknownCharacter` for a character outside the vocabulary.
    public init(text: String, tokenizer: CharTokenizer, blockSize: Int, stride: Int = 1) throws {
        self.init(tokens: try tokenizer.encode(text).map(Int64.init), blockSize: blockSize, stride: stride)
    }

    /// Number of blocks: start positions `0, stride, …` that leave room for the shifted target.
    public var count: Int {
        let room = tokens.count - blockSize - 1
        return room < 0 ? 0 : room / stride + 1
    }

    /// Block `index`: int64 inputs and the same tokens shifted by one as targets.
    public subscript(index: Int) -> (Tensor, Tensor) {
        precondition(index >= 0 && index < count, "TextBlockDataset: index \(index) out of range for \(count) blocks")
        let s = index * stride
        return (Tensor(Array(tokens[s ..< s + blockSize]), shape: [blockSize], dtype: .int64),
                Tensor(Array(tokens[s + 1 ..< s + blockSize + 1]), shape: [blockSize], dtype: .int64))
    }

    /// Inputs and targets `[batch, blockSize]` for the given sample indices.
    public func batchTensors(at indices: [Int]) -> [Tensor]? {
        var x: [Int64] = [], y: [Int64] = []
        x.reserveCapacity(indices.count * blockSize)
        y.reserveCapacity(indices.count * blockSize)
        for i in indices {
            precondition(i >= 0 && i < count, "TextBlockDataset: index \(i) out of range for \(count) blocks")
            let s = i * stride
            x.append(contentsOf: tokens[s ..< s + blockSize])
            y.append(contentsOf: tokens[s + 1 ..< s + blockSize + 1])
        }
        return [Tensor(x, shape: [indices.count, blockSize], dtype: .int64),
                Tensor(y, shape: [indices.count, blockSize], dtype: .int64)]
    }

    /// Splits a token stream by position: the first `trainFraction` of the tokens (rounded
    /// down) train, the rest validate (nanoGPT's 90/10 split, no shuffling, so no block
    /// straddles the boundary).
    /// - Precondition: both parts hold at least `blockSize + 1` tokens.
    public static func split(tokens: [Int64], blockSize: Int, trainFraction: Double = 0.9, stride: Int = 1)
        -> (train: TextBlockDataset, validation: TextBlockDataset) {
        precondition(trainFraction > 0 && trainFraction < 1, "TextBlockDataset.split: trainFraction must be in (0, 1), got \(trainFraction)")
        let cut = Int(Double(tokens.count) * trainFraction)
        precondition(cut >= blockSize + 1 && tokens.count - cut >= blockSize + 1,
                     "TextBlockDataset.split: \(tokens.count) tokens split at \(cut) leave a part shorter than blockSize + 1 (\(blockSize + 1))")
        return (TextBlockDataset(tokens: Array(tokens[..<cut]), blockSize: blockSize, stride: stride),
                TextBlockDataset(tokens: Array(tokens[cut...]), blockSize: blockSize, stride: stride))
    }

    /// Splits a 1-D integer token tensor by position (see `split(tokens:blockSize:trainFraction:stride:)`).
    public static func split(tokens: Tensor, blockSize: Int, trainFraction: Double = 0.9, stride: Int = 1)
        -> (train: TextBlockDataset, validation: TextBlockDataset) {
        precondition(tokens.rank == 1, "TextBlockDataset.split: tokens must be 1-D, got \(tokens.shape)")
        return split(tokens: tokens.asArray(Int64.self), blockSize: blockSize, trainFraction: trainFraction, stride: stride)
    }

    /// Encodes `text` and splits it by position.
    public static func split(text: String, tokenizer: CharTokenizer, blockSize: Int, trainFraction: Double = 0.9,
                             stride: Int = 1) throws -> (train: TextBlockDataset, validation: TextBlockDataset) {
        split(tokens: try tokenizer.encode(text).map(Int64.init), blockSize: blockSize, trainFraction: trainFraction, stride: stride)
    }
}
