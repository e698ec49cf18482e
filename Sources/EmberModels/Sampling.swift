// Next-token sampling shared by the language models.
import Foundation
import Ember

/// Draws the next token from one row of logits.
///
/// - Parameters:
///   - logits: `[V]` (any float dtype).
///   - temperature: divides the logits; `0` picks the arg-max (greedy, no random draw).
///   - topK: keep only the `k` largest logits (ties with the k-th kept as well).
///   - generator: the random source; exactly one `Double` is drawn per sampled token.
/// - Returns: the token id.
public func sampleToken(logits: Tensor, temperature: Double = 1, topK: Int? = nil, generator: Generator = .default) -> Int {
    precondition(logits.rank == 1 && logits.count > 0, "sampleToken: logits must be a non-empty 1-D tensor, got \(logits.shape)")
    precondition(temperature >= 0 && temperature.isFinite, "sampleToken: temperature must be finite and non-negative, got \(temperature)")
    if let topK { precondition(topK > 0, "sampleToken: topK must be positive, got \(topK)") }
    let values = logits.asArray(Double.self)
    if temperature == 0 {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
    var scaled = values.map { $0 / temperature }
    if let k = topK, k < scaled.count {
        let threshold = scaled.sorted(by: >)[k - 1]
        for i in scaled.indices where scaled[i] < threshold { scaled[i] = -.infinity }
    }
    let maximum = scaled.max()!
    var weights = scaled.map { $0 == -.infinity ? 0 : exp($0 - maximum) }
    let total = weights.reduce(0, +)
    for i in weights.indices { weights[i] /= total }
    var rng = generator
    let u = Double.random(in: 0 ..< 1, using: &rng)
    var cumulative = 0.0
    var last = 0
    for i in weights.indices where weights[i] > 0 {
        cumulative += weights[i]
        last = i
        if u < cumulative { return i }
    }
    return last
}

