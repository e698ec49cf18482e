// The `ember` command-line tool: train and evaluate models.
import ArgumentParser
import Ember

/// `ember`: Ember's command-line tool.
@main
struct EmberCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ember",
        abstract: "Train, evaluate, run and convert Ember models.",
        subcommands: [Train.self, Eval.self, Generate.self, Embed.self, Similarity.self, Classify.self,
                      Nearest.self, Inspect.self, Convert.self, Export.self])
}

/// An error the tool reports as one line and exit status 1.
struct ToolError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
