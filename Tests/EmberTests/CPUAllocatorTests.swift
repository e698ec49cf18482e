// The CPU allocator's cache of large blocks: reuse, limit and emptying.
import XCTest
@testable import Ember

final class CPUAllocatorTests: XCTestCase {
    override func tearDown() {
        CPUMemory.cacheLimit = 1 << 30
        CPUMemory.emptyCache()
    }

    func testFreedLargeBlockIsCachedAndReused() {
        CPUMemory.emptyCache()
        var address: UnsafeMutableRawPointer?
        do {
            let big = Tensor.zeros([1 << 19])           // 2 MiB
            address = big.storage.pointer
        }
        XCTAssertEqual(CPUMemory.cachedBytes, 2 << 20)
        let again = Tensor.empty([1 << 19])
        XCTAssertEqual(again.storage.pointer, address, "the cached block is handed out again")
        XCTAssertEqual(CPUMemory.cachedBytes, 0)
    }

    func testSmallBlocksAreNotCached() {
        CPUMemory.emptyCache()
        do { _ = Tensor.zeros([1024]) }
        XCTAssertEqual(CPUMemory.cachedBytes, 0)
    }

    func testCacheRespectsItsLimitAndEmpties() {
        CPUMemory.emptyCache()
        CPUMemory.cacheLimit = 3 << 20
        do {
            let a = Tensor.zeros([1 << 19]), b = Tensor.zeros([1 << 19])   // 2 MiB each
            XCTAssertEqual(a.count + b.count, 1 << 20)
        }
        XCTAssertEqual(CPUMemory.cachedBytes, 2 << 20, "only one 2 MiB block fits a 3 MiB limit")
        CPUMemory.emptyCache()
        XCTAssertEqual(CPUMemory.cachedBytes, 0)
    }

    func testReusedBlockIsFullyRewrittenByZeros() {
        do { _ = Tensor.full([1 << 19], 7) }
        let z = Tensor.zeros([1 << 19])
        XCTAssertEqual(z.sum().item(Double.self), 0)
    }
}
