// `ember similarity "a" "b"`: the cosine similarity of two sentences' embeddings.
import ArgumentParser
import Foundation
import Ember
import EmberModels

struct Similarity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the cosine similarity of two sentences (all-MiniLM-L6-v2 by default).",
        discussion: "Example: ember similarity \"A man is eating food.\" \"A man is eating a piece of bread.\"")

    @Argument(help: "The first sentence.")
    var first: String

    @Argument(help: "The second sentence.")
    var second: String

    @OptionGroup var model: SentenceModelOptions

    func run() throws {
        do {
            let embedder = try model.load()
            let vectors = embedder.embed([first, second])
            let cosine = SentenceEmbedder.cosineSimilarity(vectors[0], vectors[1]).item(Float.self)
            print(cosine.description)
        } catch {
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }
}
