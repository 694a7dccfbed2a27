import XCTest
@testable import CryoKernels

/// The fused message-passing kernel against the chain of ops it replaces, on every instruction set this CPU has.
final class MessageAggregationTests: XCTestCase {
    override func tearDown() {
        InstructionSet.limit(.avx512)
        super.tearDown()
    }

    /// Value and gradients (of a weighted sum) of `f` with respect to source, target and edge terms.
    private func evaluate(_ inputs: [Tensor], weights: Tensor, _ f: ([Tensor]) throws -> Tensor) throws -> (Tensor, [Tensor]) {
        let leaves = inputs.map { Tensor(uncheckedShape: $0.shape, storage: $0.storage).asParameter() }
        var value = Tensor.zeros([1])
        let (_, grads) = try valueAndGradient(wrt: leaves) {
            value = try f(leaves)
            return try (value * weights).sum()
        }
        return (value.detached(), grads)
    }

    func testFusedKernelEqualsTheOpChainOnEveryInstructionSet() throws {
        var g = SeededGenerator(seed: 3)
        let (nodes, batch, hidden, edges) = (40, 3, 19, 160)          // odd width: vector remainders are exercised
        let src = Tensor((0..<edges).map { _ in Float(g.next() % UInt64(nodes)) })
        let dst = Tensor((0..<edges).map { _ in Float(g.next() % UInt64(nodes)) })
        let weights = Tensor.randn([nodes, batch, hidden], using: &g)
        for edgeBatch in [1, batch] {
            let inputs = [Tensor.randn([nodes, batch, hidden], std: 2, using: &g), Tensor.randn([nodes, batch, hidden], std: 2, using: &g),
                          Tensor.randn([edges, edgeBatch, hidden], using: &g)]
            let (chain, chainGrads) = try evaluate(inputs, weights: weights) {
                try ($0[0].gather(src) + $0[1].gather(dst) + $0[2]).silu().segmentSum(dst, segments: nodes)
            }
            for isa in InstructionSet.allCases where isa <= InstructionSet.supported {
                XCTAssertEqual(InstructionSet.limit(isa), isa)
                let (fused, fusedGrads) = try evaluate(inputs, weights: weights) {
                    try Tensor.messageAggregate(source: $0[0], target: $0[1], edge: $0[2], src: src, dst: dst)
                }
                for (x, y) in zip(fused.storage, chain.storage) { XCTAssertEqual(x, y, accuracy: 1e-4, "\(isa.name) forward") }
                for (name, fusedGrad, chainGrad) in zip3(["source", "target", "edge"], fusedGrads, chainGrads) {
                    XCTAssertEqual(fusedGrad.shape, chainGrad.shape)
                    let worst = zip(fusedGrad.storage, chainGrad.storage).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThan(worst, 1e-4, "\(isa.name) \(name) cotangent, edge terms per batch: \(edgeBatch > 1)")
                }
            }
        }
    }

    func testGraphWithoutEdgesAggregatesToZero() throws {
        var g = SeededGenerator(seed: 5)
        let table = Tensor.randn([5, 2, 4], using: &g)
        let out = try Tensor.messageAggregate(source: table, target: table, edge: Tensor.zeros([0, 1, 4]), src: Tensor([Float]()), dst: Tensor([Float]()))
        XCTAssertEqual(out.shape, [5, 2, 4])
        XCTAssertEqual(out.storage.max(), 0)
    }

    func testBadShapesAndIndicesAreErrors() throws {
        var g = SeededGenerator(seed: 3)
        let source = Tensor.randn([6, 3, 4], using: &g), target = Tensor.randn([6, 3, 4], using: &g), edge = Tensor.randn([9, 1, 4], using: &g)
        let src = Tensor([0, 1, 2, 3, 4, 5, 0, 2, 4]), dst = Tensor([1, 2, 3, 4, 5, 0, 3, 3, 1])
        XCTAssertNoThrow(try Tensor.messageAggregate(source: source, target: target, edge: edge, src: src, dst: dst))
        XCTAssertThrowsError(try Tensor.messageAggregate(source: source, target: target, edge: Tensor.zeros([8, 1, 4]), src: src, dst: dst))
        XCTAssertThrowsError(try Tensor.messageAggregate(source: source, target: target, edge: edge, src: src, dst: Tensor([1, 2, 3, 4, 5, 0, 3, 3, 6])))
        XCTAssertThrowsError(try Tensor.messageAggregate(source: source, target: Tensor.zeros([5, 3, 4]), edge: edge, src: src, dst: dst))
    }
}

/// Triples of corresponding elements.
private func zip3<A, B, C>(_ a: [A], _ b: [B], _ c: [C]) -> [(A, B, C)] {
    (0..<min(a.count, b.count, c.count)).map { (a[$0], b[$0], c[$0]) }
}
