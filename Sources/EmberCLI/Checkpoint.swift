// Checkpoints of the trainer: the model's state dict in safetensors, with metadata naming
// the task and architecture so `ember eval` can rebuild the model.
import Foundation
import Ember
import EmberNN

/// A saved model: weights plus what is needed to rebuild it.
struct Checkpoint {
    static let taskKey = "ember.task"
    static let architectureKey = "ember.architecture"

    let task: String
    let architecture: FashionMNISTArchitecture
    let weights: [String: Tensor]

    /// Saves atomically; an existing file is only replaced by a complete new one.
    static func save(_ model: Module, task: String, architecture: FashionMNISTArchitecture, to path: String) throws {
        try Safetensors.save(model.stateDict(), to: URL(fileURLWithPath: path),
                             metadata: [taskKey: task, architectureKey: architecture.rawValue])
    }

    /// Reads a checkpoint and checks it names a known task and architecture.
    static func load(_ path: String) throws -> Checkpoint {
        guard FileManager.default.fileExists(atPath: path) else { throw ToolError("\(path): no such checkpoint file") }
        let (weights, metadata) = try Safetensors.loadWithMetadata(URL(fileURLWithPath: path))
        guard let task = metadata[taskKey] else {
            throw ToolError("\(path): not an ember checkpoint (no \(taskKey) in its metadata)")
        }
        guard let name = metadata[architectureKey], let architecture = FashionMNISTArchitecture(rawValue: name) else {
            throw ToolError("\(path): unknown architecture '\(metadata[architectureKey] ?? "")'")
        }
        return Checkpoint(task: task, architecture: architecture, weights: weights)
    }

    /// The model with these weights loaded (strictly: every key and shape must match).
    func makeModel() throws -> Module {
        let model = architecture.makeModel()
        do {
            try model.loadStateDict(weights)
        } catch let error as StateDictError {
            throw ToolError("checkpoint does not fit the \(architecture.rawValue) architecture: \(error)")
        }
        return model
    }
}
