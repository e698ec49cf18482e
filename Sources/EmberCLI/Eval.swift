// `ember eval --checkpoint PATH`: the test accuracy of a saved model.
import ArgumentParser
import Foundation
import Ember
import EmberData

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Report the test accuracy of a saved model.")

    @Option(help: "A checkpoint written by `ember train --save`.")
    var checkpoint: String

    @Option(help: "Directory of the Fashion-MNIST files.")
    var data: String = FashionMNIST.defaultRoot

    func run() throws {
        do {
            let saved = try Checkpoint.load(checkpoint)
            guard saved.task == "fashion-mnist" else { throw ToolError("\(checkpoint): unknown task '\(saved.task)'") }
            let model = try saved.makeModel()
            let testSet = try FashionMNIST(split: .test, root: data)
            let accuracy = evaluate(model, on: testSet, batchSize: 1000)
            print(String(format: "%@ (%@): test accuracy %.2f%% on %d images", checkpoint, saved.architecture.rawValue, accuracy * 100, testSet.count))
        } catch {
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }
}
