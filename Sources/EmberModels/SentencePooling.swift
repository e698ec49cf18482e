// How sentence-transformers' Pooling module turns token states into one sentence vector,
// read from `1_Pooling/config.json`.
import Foundation
import Ember

/// The pooling of a sentence-transformers model (`1_Pooling/config.json`): one or more modes,
/// whose vectors are concatenated in the configured order.
///
/// Both config layouts are read: the legacy booleans (`pooling_mode_mean_tokens: true`, …,
/// taken in the order cls, max, mean, mean_sqrt_len) and the newer `pooling_mode` (a mode
/// name or a list of them).
///
/// ```swift
/// let pooling = try SentencePooling(contentsOf: dir.appendingPathComponent("1_Pooling/config.json"))
/// pooling.modes   // [.mean] for all-MiniLM-L6-v2
/// let vectors = pooling(states, attentionMask: mask)   // [B, T, H] → [B, H]
/// ```
public struct SentencePooling: Equatable, Sendable {
    /// One pooling mode.
    public enum Mode: String, Sendable, CaseIterable {
        /// The first unmasked token's state (`[CLS]`).
        case cls
        /// The elementwise maximum over unmasked tokens.
        case max
        /// The mean over unmasked tokens: `Σ mᵢhᵢ / max(Σ mᵢ, 1e-9)`.
        case mean
        /// The masked sum divided by the square root of the token count.
        case meanSqrtLen = "mean_sqrt_len_tokens"
    }

    /// The modes, in output order.
    public var modes: [Mode]

    /// Creates a pooling from its modes.
    public init(modes: [Mode] = [.mean]) {
        precondition(!modes.isEmpty, "SentencePooling: at least one mode is needed")
        self.modes = modes
    }

    /// Reads `1_Pooling/config.json`.
    ///
    /// - Throws: `PretrainedFilesError` for a missing or malformed file, no mode, or a mode
    ///   Ember does not implement (`weightedmean`, `lasttoken`).
    public init(contentsOf url: URL) throws {
        let config = try PretrainedFilesError.decode(Config.self, from: url, what: "the pooling configuration")
        var names: [String] = []
        switch config.pooling_mode {
        case .one(let name): names = [name]
        case .many(let list): names = list
        case nil:
            let legacy: [(Bool?, String)] = [
                (config.pooling_mode_cls_token, "cls"), (config.pooling_mode_max_tokens, "max"),
                (config.pooling_mode_mean_tokens, "mean"), (config.pooling_mode_mean_sqrt_len_tokens, "mean_sqrt_len_tokens"),
                (config.pooling_mode_weightedmean_tokens, "weightedmean"), (config.pooling_mode_lasttoken, "lasttoken"),
            ]
            names = legacy.filter { $0.0 == true }.map(\.1)
        }
        guard !names.isEmpty else { throw PretrainedFilesError.invalid(path: url.path, reason: "no pooling mode is enabled") }
        var modes: [Mode] = []
        for name in names {
            guard let mode = Mode(rawValue: name) else {
                throw PretrainedFilesError.unsupported(path: url.path, reason: "pooling mode \"\(name)\" (supported: cls, max, mean, mean_sqrt_len_tokens)")
            }
            modes.append(mode)
        }
        if config.include_prompt == false {
            throw PretrainedFilesError.unsupported(path: url.path, reason: "include_prompt: false")
        }
        self.init(modes: modes)
    }

    private struct Config: Decodable {
        enum Modes: Decodable {
            case one(String), many([String])
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let name = try? c.decode(String.self) { self = .one(name) } else { self = .many(try c.decode([String].self)) }
            }
        }
        var pooling_mode: Modes?
        var pooling_mode_cls_token: Bool?
        var pooling_mode_max_tokens: Bool?
        var pooling_mode_mean_tokens: Bool?
        var pooling_mode_mean_sqrt_len_tokens: Bool?
        var pooling_mode_weightedmean_tokens: Bool?
        var pooling_mode_lasttoken: Bool?
        var include_prompt: Bool?
    }

    /// Pools token states `[B, T, H]` with an attention mask `[B, T]` (nonzero on real tokens)
    /// to `[B, H · modes.count]`.
    public func callAsFunction(_ states: Tensor, attentionMask: Tensor) -> Tensor {
        precondition(states.rank == 3 && attentionMask.shape == Array(states.shape.prefix(2)),
                     "SentencePooling: states \(states.shape) and mask \(attentionMask.shape) do not fit [B, T, H] and [B, T]")
        let mask = attentionMask.to(states.dtype).unsqueeze(-1)   // [B, T, 1]
        var sum: Tensor? = nil, count: Tensor? = nil
        var vectors: [Tensor] = []
        for mode in modes {
            switch mode {
            case .cls:
                // The first unmasked position (0 for right padding).
                let first = (attentionMask .!= 0).to(.int64).argmax(dim: 1, keepDim: true)   // [B, 1]
                let index = first.unsqueeze(-1).expand([states.shape[0], 1, states.shape[2]])
                vectors.append(states.gather(dim: 1, index: index).squeeze(dim: 1))
            case .max:
                vectors.append(states.maskedFill(mask .== 0, -.infinity).amax(dims: [1]))
            case .mean, .meanSqrtLen:
                if sum == nil {
                    sum = (states * mask).sum(dim: 1)
                    count = mask.sum(dim: 1).clamp(min: 1e-9)
                }
                vectors.append(mode == .mean ? sum! / count! : sum! / count!.sqrt())
            }
        }
        return vectors.count == 1 ? vectors[0] : Tensor.cat(vectors, dim: -1)
    }
}
