// `ember train fashion-mnist`: trains an MLP or CNN with a progress bar per epoch and
// reports test accuracy after each epoch; saves a safetensors checkpoint.
import ArgumentParser
import Foundation
import Ember
import EmberData
import EmberNN
import EmberOptim

/// Which optimizer `ember train` uses.
enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable {
    case sgd, adam
}

extension FashionMNISTArchitecture: ExpressibleByArgument {}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model.",
        discussion: """
            Examples: ember train fashion-mnist --model cnn --epochs 5 --save cnn.safetensors
                      ember train char-lm --model gpt --steps 3000 --save gpt.safetensors
            """)

    @Argument(help: "The task to train (fashion-mnist or char-lm).")
    var task: String

    @Option(help: "Architecture: \(FashionMNISTArchitecture.allCases.map(\.rawValue).joined(separator: " or ")) for fashion-mnist (default mlp); \(CharLMArchitecture.allCases.map(\.rawValue).joined(separator: " or ")) for char-lm (default gpt).")
    var model: String?

    @Option(help: "Passes over the training set.")
    var epochs: Int = 5

    @Option(help: "Samples per batch (default: 128 for fashion-mnist, 64 for char-lm).")
    var batchSize: Int?

    @Option(help: "Learning rate (default: 0.05 for SGD, 1e-3 for Adam).")
    var lr: Double?

    @Option(help: "Optimizer: sgd (momentum 0.9) or adam.")
    var optimizer: OptimizerChoice = .sgd

    @Option(help: "Random seed (initialisation and shuffling).")
    var seed: UInt64 = 0

    @Option(help: "Worker threads preparing batches.")
    var workers: Int = 1

    @Option(help: "Where to save the trained model (safetensors).")
    var save: String?

    @Option(help: "Directory of the Fashion-MNIST files.")
    var data: String = FashionMNIST.defaultRoot

    @OptionGroup var charLM: CharLMOptions

    /// The fashion-mnist architecture (`validate()` has checked `--model`).
    private var architecture: FashionMNISTArchitecture { FashionMNISTArchitecture(rawValue: model ?? "mlp") ?? .mlp }

    func validate() throws {
        guard task == "fashion-mnist" || task == "char-lm" else { throw ValidationError("unknown task '\(task)'; available: fashion-mnist, char-lm") }
        if let model {
            let names = task == "char-lm" ? CharLMArchitecture.allCases.map(\.rawValue) : FashionMNISTArchitecture.allCases.map(\.rawValue)
            guard names.contains(model) else {
                throw ValidationError("--model '\(model)' is not a \(task) model; available: \(names.joined(separator: ", "))")
            }
        }
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        guard workers >= 0 else { throw ValidationError("--workers must be zero or more") }
        if let save {
            let directory = (save as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            guard directory.isEmpty || (FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue) else {
                throw ValidationError("--save: directory '\(directory)' does not exist")
            }
        }
    }

    func run() throws {
        do {
            if task == "char-lm" {
                try CharLMTrainer(architecture: CharLMArchitecture(rawValue: model ?? "gpt") ?? .gpt, options: charLM,
                                  batchSize: batchSize ?? 64, lr: lr, seed: seed, save: save).run()
            } else {
                try train()
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
            throw ExitCode.failure
        }
    }

    private func train() throws {
        manualSeed(seed)
        let trainSet = try FashionMNIST(split: .train, root: data)
        let testSet = try FashionMNIST(split: .test, root: data)
        let model = architecture, batchSize = self.batchSize ?? 128
        let network = model.makeModel()
        let learningRate = lr ?? (optimizer == .sgd ? 0.05 : 1e-3)
        let optim: Optimizer = optimizer == .sgd
            ? SGD(network.parameters(), lr: learningRate, momentum: 0.9)
            : Adam(network.parameters(), lr: learningRate)
        let loader = DataLoader(trainSet, batchSize: batchSize, shuffle: true, numWorkers: workers, seed: seed)
        // The learning rate follows a cosine from its start value down to 0 over the run.
        let schedule = CosineAnnealingLR(optim, tMax: epochs * loader.count)
        print("training \(model.rawValue) on Fashion-MNIST: \(trainSet.count) images, \(network.parameterCount) parameters, \(optimizer.rawValue) lr \(learningRate), batch \(batchSize), \(Threading.threadCount) threads")

        for epoch in 1...epochs {
            network.train()
            var progress = ProgressBar(total: loader.count, label: "epoch \(epoch)/\(epochs)")
            var runningLoss = 0.0, seen = 0, batches = 0
            for (images, labels) in loader {
                let loss = crossEntropy(network(FashionMNISTArchitecture.normalize(images)), labels)
                optim.zeroGrad()
                loss.backward()
                optim.step()
                schedule.step()
                runningLoss += loss.item(Double.self) * Double(labels.count)
                seen += labels.count
                batches += 1
                progress.update(batches, loss: runningLoss / Double(seen))
            }
            progress.finish()
            let accuracy = evaluate(network, on: testSet, batchSize: 1000)
            print(String(format: "epoch %d/%d  loss %.4f  test accuracy %.2f%%", epoch, epochs, runningLoss / Double(seen), accuracy * 100))
        }
        if let save {
            try Checkpoint.save(network, task: task, architecture: model, to: save)
            print("saved \(save)")
        }
    }
}

/// Fraction of `dataset` that `model` classifies correctly.
func evaluate(_ model: Module, on dataset: FashionMNIST, batchSize: Int) -> Double {
    model.eval()
    defer { model.train() }
    return noGrad {
        var correct = 0
        for (images, labels) in DataLoader(dataset, batchSize: batchSize) {
            correct += model(FashionMNISTArchitecture.normalize(images)).argmax(dim: 1).eq(labels).sum().item(Int.self)
        }
        return Double(correct) / Double(dataset.count)
    }
}
