// A recurrent language model: embedding → LSTM → Linear.
import Ember
import EmberNN

/// A character/word-level LSTM language model (as PyTorch's `word_language_model` example).
///
/// Parameters: `embedding.weight`, `lstm.weight_ih_l0` … (PyTorch's flat LSTM names),
/// `lm_head.weight`, `lm_head.bias`. The LSTM is batch-first.
///
/// ```swift
/// let model = LSTMLanguageModel(vocabSize: 65, embedDim: 32, hiddenSize: 64, numLayers: 2)
/// let (logits, state) = model(tokens, nil)         // [B, T] → [B, T, 65]
/// let new = model.generate([0, 1], maxNewTokens: 20)
/// ```
public final class LSTMLanguageModel: Module {
    /// Number of token ids.
    public let vocabSize: Int
    /// Token embeddings.
    public let embedding: Embedding
    /// The batch-first recurrent layers.
    public let lstm: LSTM
    /// Dropout on the embeddings and the LSTM output (training only).
    public let dropout: Dropout
    /// Projection from the hidden state to vocabulary logits.
    public let lm_head: Linear

    /// Creates the model with PyTorch's default initialisation.
    public init(vocabSize: Int, embedDim: Int, hiddenSize: Int, numLayers: Int = 1, dropout: Double = 0) {
        precondition(vocabSize > 0, "LSTMLanguageModel: vocabSize must be positive, got \(vocabSize)")
        self.vocabSize = vocabSize
        embedding = Embedding(vocabSize, embedDim)
        lstm = LSTM(embedDim, hiddenSize, numLayers: numLayers, batchFirst: true, dropout: numLayers > 1 ? dropout : 0)
        self.dropout = Dropout(p: dropout)
        lm_head = Linear(hiddenSize, vocabSize)
        super.init()
    }

    /// Logits for `tokens` `[B, T]` (or `[T]`) → `[B, T, V]` (or `[T, V]`), continuing from
    /// `state` (each `[numLayers, B, hidden]`; nil starts from zeros), and the final state.
    public func forward(_ tokens: Tensor, _ state: (h: Tensor, c: Tensor)?) -> (logits: Tensor, state: (h: Tensor, c: Tensor)) {
        precondition(tokens.rank == 1 || tokens.rank == 2, "LSTMLanguageModel: tokens must be [T] or [B, T], got \(tokens.shape)")
        let batched = tokens.rank == 2
        let idx = batched ? tokens : tokens.unsqueeze(0)
        let (out, newState) = lstm(dropout(embedding(idx)), state)
        let logits = lm_head(dropout(out))
        return (batched ? logits : logits.squeeze(dim: 0), newState)
    }

    /// Calls `forward(_:_:)`: `let (logits, state) = model(tokens, nil)`.
    public func callAsFunction(_ tokens: Tensor, _ state: (h: Tensor, c: Tensor)?) -> (logits: Tensor, state: (h: Tensor, c: Tensor)) {
        forward(tokens, state)
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(input, nil).logits }

    /// Samples `maxNewTokens` tokens after `prompt`, carrying the recurrent state (the
    /// prompt runs once, then one token per step), calling `onToken` with each; returns the
    /// new tokens. Runs without gradients in evaluation mode (restoring the previous mode).
    public func generate(_ prompt: [Int], maxNewTokens: Int, temperature: Double = 1, topK: Int? = nil,
                         generator: Generator = .default, onToken: ((Int) -> Void)? = nil) -> [Int] {
        precondition(!prompt.isEmpty, "LSTMLanguageModel.generate: the prompt must hold at least one token")
        precondition(maxNewTokens >= 0, "LSTMLanguageModel.generate: maxNewTokens must be non-negative, got \(maxNewTokens)")
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return noGrad {
            var produced: [Int] = []
            var (logits, state) = forward(GPT.tokenTensor(prompt), nil)
            for step in 0 ..< maxNewTokens {
                let next = sampleToken(logits: logits.select(dim: 0, index: logits.shape[0] - 1),
                                       temperature: temperature, topK: topK, generator: generator)
                produced.append(next)
                onToken?(next)
                if step + 1 < maxNewTokens { (logits, state) = forward(GPT.tokenTensor([next]), state) }
            }
            return produced
        }
    }
}
