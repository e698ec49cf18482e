// Seedable random number generators and the random tensor constructors.
import Foundation

/// A seedable pseudo-random generator (xoshiro256** seeded through splitmix64):
/// the same seed gives the same numbers on every run and machine.
///
/// ```swift
/// let g = Generator(seed: 42)
/// let a = Tensor.randn([3], generator: g)
/// manualSeed(0)   // reseeds the default generator
/// ```
public final class Generator: RandomNumberGenerator {
    private var state: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private let lock = NSLock()
    /// The seed this generator was last seeded with.
    public private(set) var initialSeed: UInt64 = 0

    /// The generator used when none is passed.
    nonisolated(unsafe) public static let `default` = Generator(seed: 0x5EED)

    /// Creates a generator seeded with `seed`.
    public init(seed: UInt64) { manualSeed(seed) }

    /// Restarts the sequence from `seed`.
    public func manualSeed(_ seed: UInt64) {
        lock.lock(); defer { lock.unlock() }
        initialSeed = seed
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E3779B97F4A7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The next 64 random bits.
    public func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// A uniformly drawn integer in `0..<bound` (0 when `bound` ≤ 0), from the next 64 bits
    /// (the high half of their product with `bound`).
    ///
    /// ```swift
    /// let g = Generator(seed: 1)
    /// let die = g.next(below: 6) + 1   // 1...6
    /// ```
    public func next(below bound: Int) -> Int {
        bound <= 0 ? 0 : Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform double in [0, 1) with 53 random bits.
    @inline(__always) func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Fills `count` doubles under the lock, so concurrent users get disjoint draws.
    func draw(_ count: Int, _ body: (Generator) -> Double) -> [Double] {
        lock.lock(); defer { lock.unlock() }
        return (0..<count).map { _ in body(self) }
    }

    /// Standard normal pairs by the Box–Muller transform.
    func normals(_ count: Int) -> [Double] {
        lock.lock(); defer { lock.unlock() }
        var values = [Double](repeating: 0, count: count)
        var i = 0
        while i < count {
            let u1 = 1 - nextUnit(), u2 = nextUnit()
            let radius = (-2 * Foundation.log(u1)).squareRoot()
            values[i] = radius * Foundation.cos(2 * .pi * u2)
            if i + 1 < count { values[i + 1] = radius * Foundation.sin(2 * .pi * u2) }
            i += 2
        }
        return values
    }
}

/// Reseeds the default generator (`torch.manual_seed`).
///
/// ```swift
/// manualSeed(42)
/// let a = Tensor.rand([2])   // the same on every run
/// ```
public func manualSeed(_ seed: UInt64) { Generator.default.manualSeed(seed) }

extension Tensor {
    /// Uniform samples in [0, 1).
    ///
    /// ```swift
    /// let noise = Tensor.rand([4, 4])
    /// ```
    public static func rand(_ shape: [Int], dtype: DType = .defaultFloat, device: Device = .cpu,
                            generator: Generator = .default, requiresGrad: Bool = false) -> Tensor {
        let values = generator.draw(shape.reduce(1, *)) { $0.nextUnit() }
        return Tensor(values, shape: shape, dtype: dtype, device: device, requiresGrad: requiresGrad)
    }

    /// Standard normal samples.
    ///
    /// ```swift
    /// let w = Tensor.randn([784, 128]) * 0.01
    /// ```
    public static func randn(_ shape: [Int], dtype: DType = .defaultFloat, device: Device = .cpu,
                             generator: Generator = .default, requiresGrad: Bool = false) -> Tensor {
        Tensor(generator.normals(shape.reduce(1, *)), shape: shape, dtype: dtype, device: device, requiresGrad: requiresGrad)
    }

    /// Uniform integers in `low ..< high` (int64 by default).
    ///
    /// ```swift
    /// let labels = Tensor.randint(0, 10, [32])
    /// ```
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, device: Device = .cpu,
                               generator: Generator = .default) -> Tensor {
        precondition(high > low, "randint: high (\(high)) must be greater than low (\(low))")
        let span = UInt64(high - low)
        let values = generator.draw(shape.reduce(1, *)) { g in Double(Int64(low) + Int64(g.next() % span)) }
        return Tensor(values.map { Int64($0) }, shape: shape, dtype: dtype, device: device)
    }

    /// A random permutation of `0 ..< n` (int64), by Fisher–Yates.
    ///
    /// ```swift
    /// let order = Tensor.randperm(10)
    /// ```
    public static func randperm(_ n: Int, dtype: DType = .int64, device: Device = .cpu, generator: Generator = .default) -> Tensor {
        var order = (0..<n).map { Int64($0) }
        let draws = generator.draw(n) { $0.nextUnit() }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(draws[i] * Double(i + 1))
            order.swapAt(i, Swift.min(j, i))
        }
        return Tensor(order, shape: [n], dtype: dtype, device: device)
    }

    /// Draws 1 with probability `self` (elementwise, in [0, 1]) and 0 otherwise.
    ///
    /// ```swift
    /// let keep = Tensor.full([8], 0.9).bernoulli()
    /// ```
    public func bernoulli(generator: Generator = .default) -> Tensor {
        let p = noGrad { self.to(.float64) }.asArray(Double.self)
        precondition(p.allSatisfy { $0 >= 0 && $0 <= 1 }, "bernoulli: probabilities must be in [0, 1]")
        let draws = generator.draw(p.count) { $0.nextUnit() }
        let values = zip(p, draws).map { $1 < $0 ? 1.0 : 0.0 }
        return Tensor(values, shape: shape, dtype: dtype.isFloatingPoint ? dtype : .defaultFloat, device: device)
    }

    /// Samples with probability `p` of 1 (`torch.bernoulli(torch.full(shape, p))`).
    public static func bernoulli(_ p: Double, _ shape: [Int], dtype: DType = .defaultFloat, device: Device = .cpu,
                                 generator: Generator = .default) -> Tensor {
        Tensor.full(shape, p, dtype: .float64).bernoulli(generator: generator).to(dtype).to(device)
    }
}
