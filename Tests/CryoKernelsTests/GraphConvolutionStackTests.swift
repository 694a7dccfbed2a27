import XCTest
@testable import CryoKernels

/// The fused GCN stack against the chain of ops it replaces (sparse product, Linear, ReLU, residual add), on every
/// instruction set this CPU has, and inside the trainer.
final class GraphConvolutionStackTests: XCTestCase {
    override func tearDown() {
        InstructionSet.limit(.avx512)
        super.tearDown()
    }

    /// The decoder's layers composed from the existing ops (today's unfused `decode`).
    private func unfusedDecode(_ d: GCNDecoder, _ z: Tensor) throws -> Tensor {
        var h = try d.embed(try d.first(z).relu()).reshape([z.shape[0], d.nodes, d.hidden])
        for (l, layer) in d.convolutions.enumerated() {
            let updated = try layer(try d.convolutionStack.adjacency.apply(h)).relu()
            h = l > 0 || d.convolutionStack.firstResidual ? try updated + h : updated
        }
        return try d.output(h)
    }

    /// Value and gradients (of a weighted sum) with respect to z and every parameter.
    private func evaluate(_ d: GCNDecoder, _ z: Tensor, weights: Tensor, _ decode: (Tensor) throws -> Tensor) throws -> (Tensor, [Tensor]) {
        var value = Tensor.zeros([1])
        let (_, grads) = try valueAndGradient(wrt: [z] + d.parameters) {
            value = try decode(z)
            return try (value * weights).sum()
        }
        return (value.detached(), grads)
    }

    func testFusedDecodeEqualsTheOpChainOnEveryInstructionSet() throws {
        let graph = try ResidueGraph.build(try ToyProtein.make(residues: 60, seed: 4))
        var g = SeededGenerator(seed: 9)
        // The paper's width, an odd one, a batch that leaves a partial chunk and one of several chunks; the kernel
        // works on blocks of 5 features, and 7, 9, 3 and 1 leave remainders of 2, 4, 3 and 1.
        for (hidden, batch, firstResidual) in [(10, 32, true), (7, 19, false), (10, 5, false), (9, 17, true), (3, 3, false), (1, 2, true)] {
            let d = try GCNDecoder(graph: graph, latent: 4, hidden: hidden, layers: 6, firstLayerResidual: firstResidual, seed: 2)
            let z = Tensor.randn([batch, 4], using: &g).asParameter()
            let weights = Tensor.randn([batch, graph.nodes, 3], using: &g)
            let (chain, chainGrads) = try evaluate(d, z, weights: weights) { try unfusedDecode(d, $0) }
            for isa in InstructionSet.allCases where isa <= InstructionSet.supported {
                XCTAssertEqual(InstructionSet.limit(isa), isa)
                let (fused, fusedGrads) = try evaluate(d, z, weights: weights) { try d.decode($0) }
                let scale = chain.storage.map(abs).max() ?? 1
                let worst = zip(fused.storage, chain.storage).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-5 * scale, "\(isa.name) F\(hidden) B\(batch) forward")
                for (k, (a, b)) in zip(fusedGrads, chainGrads).enumerated() {
                    XCTAssertEqual(a.shape, b.shape)
                    let gradScale = b.storage.map(abs).max() ?? 1
                    let gradWorst = zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThan(gradWorst, 1e-4 * gradScale + 1e-7, "\(isa.name) F\(hidden) B\(batch) cotangent of input \(k)")
                }
            }
        }
    }

    func testTrainingWithTheFusedDecoderReproducesTheUnfusedLoss() throws {
        let s = try ToyProtein.make(residues: 40, seed: 1)
        let (weights, sigmas) = try XCTUnwrap(ResidueTable.lookup(s.atoms.map(\.residueName)))
        let (data, _, _) = try Simulator.simulate(conformations: [s.models[0]], sigma: sigmas, weight: weights,
                                                  settings: Simulator.Settings(images: 48, size: 32, pixel: 3, snr: 1, seed: 3))
        let geometry = try Projector.Geometry(size: 32, pixel: 3, sigma: sigmas, weight: weights)
        var settings = AutodecoderTrainer.Settings()
        (settings.epochs, settings.batch, settings.learningRate) = (3, 16, 3e-3)
        func history(fused: Bool) throws -> [Double] {
            let d = try GCNDecoder(graph: try ResidueGraph.build(s), latent: 4, hidden: 10, layers: 10, seed: 5)
            let decode: (Tensor) throws -> Tensor = { z in fused ? try d.decode(z) : try self.unfusedDecode(d, z) }
            return try AutodecoderTrainer(decode: decode, modelName: "gcn", parameters: d.parameters, latentDimension: 4, template: s.models[0],
                                          geometry: geometry, dataset: data, truth: nil, settings: settings)
                .run(report: { _ in }, shouldContinue: { true }).history
        }
        let (fused, unfused) = (try history(fused: true), try history(fused: false))
        XCTAssertEqual(fused.count, 3)
        for (a, b) in zip(fused, unfused) { XCTAssertEqual(a, b, accuracy: 1e-5 * abs(b), "loss history \(fused) vs \(unfused)") }
    }

    func testUnrecordedDecodeEqualsTheRecordedOne() throws {
        let graph = try ResidueGraph.build(try ToyProtein.make(residues: 60, seed: 4))
        var g = SeededGenerator(seed: 10)
        let d = try GCNDecoder(graph: graph, latent: 4, hidden: 10, layers: 6, seed: 3)
        for batch in [1, 16, 37] {   // one partial chunk, one full chunk, several chunks over the workers
            let z = Tensor.randn([batch, 4], using: &g)
            let (recorded, _) = try Tape.record { try d.decode(z.detached().asParameter()) }
            XCTAssertEqual(try d.decode(z).storage, recorded.storage, "B\(batch)")
        }
    }

    func testBadShapesAreErrors() throws {
        let stack = GraphConvolutionStack(adjacency: SparseMatrix(size: 3, entries: [(0, 1, 1), (1, 2, 1)]), firstResidual: true)
        let (h, w, b) = (Tensor.zeros([2, 3, 4]), Tensor.zeros([4, 4]), Tensor.zeros([4]))
        XCTAssertNoThrow(try stack.apply(h, weights: [w], biases: [b]))
        XCTAssertThrowsError(try stack.apply(Tensor.zeros([2, 4, 4]), weights: [w], biases: [b]))
        XCTAssertThrowsError(try stack.apply(Tensor.zeros([3, 4]), weights: [w], biases: [b]))
        XCTAssertThrowsError(try stack.apply(h, weights: [Tensor.zeros([4, 3])], biases: [b]))
        XCTAssertThrowsError(try stack.apply(h, weights: [w], biases: [Tensor.zeros([3])]))
        XCTAssertThrowsError(try stack.apply(h, weights: [w, w], biases: [b]))
        XCTAssertEqual(try stack.apply(Tensor.zeros([0, 3, 4]), weights: [w], biases: [b]).shape, [0, 3, 4])
    }
}
