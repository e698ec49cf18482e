// Deterministic helpers on Ember's Generator: seed mixing, unbiased integers, unit doubles.
import Ember

/// Small deterministic building blocks for samplers, transforms and the loader. They use
/// only `Generator.next()`, so sequences never depend on the Swift standard library's
/// shuffling or range-sampling algorithms.
enum Randomness {
    /// splitmix64's finaliser: a well-mixed 64-bit function of `x`.
    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E3779B97F4A7C15
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }

    /// A seed derived from `seed` and a list of counters (epoch, batch index, …).
    static func derive(_ seed: UInt64, _ parts: Int...) -> UInt64 {
        var h = mix(seed)
        for p in parts { h = mix(h ^ UInt64(bitPattern: Int64(p))) }
        return h
    }

    /// A uniform integer in `0 ..< n` without modulo bias (Lemire's method).
    static func below(_ n: Int, _ g: Generator) -> Int {
        precondition(n > 0, "random integer below \(n): the bound must be positive")
        let bound = UInt64(n)
        var product = g.next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = g.next().multipliedFullWidth(by: bound) }
        }
        return Int(product.high)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    @inline(__always) static func unit(_ g: Generator) -> Double { Double(g.next() >> 11) * 0x1.0p-53 }

    /// A random permutation of `0 ..< n` (Fisher–Yates from the top).
    static func permutation(_ n: Int, _ g: Generator) -> [Int] {
        var order = Array(0..<n)
        var i = n - 1
        while i > 0 {
            order.swapAt(i, below(i + 1, g))
            i -= 1
        }
        return order
    }
}
