// Loading Fixtures/optim.json (written by scripts/make_optim_fixtures.py) and comparing numbers.
import Foundation
import XCTest
import Ember

/// The PyTorch reference file, parsed once.
enum OptimFixture {
    static let root: [String: Any] = {
        guard let url = Bundle.module.url(forResource: "optim", withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            fatalError("Fixtures/optim.json is missing or unreadable; run scripts/make_optim_fixtures.py")
        }
        return object
    }()

    /// The cases of one section ("optimizers", "schedulers", "plateau", "clip").
    static func cases(_ section: String) -> [[String: Any]] {
        guard let cases = root[section] as? [[String: Any]], !cases.isEmpty else {
            fatalError("optim.json has no section \(section)")
        }
        return cases
    }
}

/// A JSON number or one of the strings "nan", "inf", "-inf".
func number(_ value: Any?) -> Double {
    switch value {
    case let number as NSNumber: return number.doubleValue
    case let string as String:
        switch string {
        case "nan": return .nan
        case "inf": return .infinity
        case "-inf": return -.infinity
        default: fatalError("optim.json: unexpected string \(string)")
        }
    default: fatalError("optim.json: expected a number, got \(String(describing: value))")
    }
}

func numbers(_ value: Any?) -> [Double] {
    guard let array = value as? [Any] else { fatalError("optim.json: expected an array, got \(String(describing: value))") }
    return array.map(number)
}

func ints(_ value: Any?) -> [Int] { numbers(value).map { Int($0) } }

/// The largest relative difference `|a − e| / max(|e|, floor)` between two sequences
/// (infinite when their lengths differ).
func maxRelativeError(_ actual: [Double], _ expected: [Double], floor: Double = 1e-3) -> Double {
    guard actual.count == expected.count else { return .infinity }
    var worst = 0.0
    for (a, e) in zip(actual, expected) {
        if a == e { continue }
        let error = abs(a - e) / max(abs(e), floor)
        worst = max(worst, error.isNaN ? .infinity : error)
    }
    return worst
}

/// Asserts that `actual` matches `expected` to `tolerance` relative (per element).
func assertClose(_ actual: [Double], _ expected: [Double], tolerance: Double, floor: Double = 1e-3,
                 _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
    let error = maxRelativeError(actual, expected, floor: floor)
    XCTAssertLessThanOrEqual(error, tolerance, "\(message()): relative error \(error); got \(actual.prefix(6)), expected \(expected.prefix(6))",
                             file: file, line: line)
}

extension Tensor {
    /// The elements as doubles, row-major.
    var doubles: [Double] { to(.float64).contiguous().asArray(Double.self) }
}
