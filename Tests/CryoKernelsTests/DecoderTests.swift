import XCTest
@testable import CryoKernels

/// The paper's decoder and baseline: sizes, gradients, equivariance, regularisers, and a real training run.
final class DecoderTests: XCTestCase {
    private func chainGraph(_ n: Int) -> ResidueGraph {
        ResidueGraph(nodes: n, pairs: (0..<(n - 1)).map { ($0, $0 + 1, 0) } + [(0, 4, 1), (2, 6, 1)].filter { $0.1 < n }, hydrogenBondMethod: "test")
    }

    func testPaperParameterCounts() throws {
        let gcn = try GCNDecoder(graph: chainGraph(214))
        XCTAssertEqual(gcn.parameterCount, 20_465)
        let width = MLPDecoder.width(matching: gcn.parameterCount, latent: 8, nodes: 214)
        XCTAssertEqual(width, 26)
        XCTAssertEqual(try MLPDecoder(latent: 8, nodes: 214, width: width).parameterCount, 20_376)
    }

    /// As the reference implementation: no residual on the first convolution; `.glorot` starts the convolutions as
    /// its GCNConv (Glorot-uniform weights ±√(6/(F+F)), zero bias), the default `.linear` as PyTorch's Linear
    /// (±1/√F, bias too).
    func testGCNStartsAsDocumented() throws {
        let reference = try GCNDecoder(graph: chainGraph(50), hidden: 10, initialisation: .glorot, seed: 4)
        XCTAssertFalse(reference.convolutionStack.firstResidual)
        let glorot = (6.0 / 20.0).squareRoot(), linear = 1 / 10.0.squareRoot()
        let weights = reference.convolutions.flatMap { $0.weight.storage.map(Double.init) }
        XCTAssertTrue(reference.convolutions.allSatisfy { $0.bias.storage.allSatisfy { $0 == 0 } })
        XCTAssertLessThanOrEqual(weights.map(abs).max()!, glorot)
        XCTAssertGreaterThan(weights.map(abs).max()!, linear * 1.2, "the weights span Glorot's wider range")
        let variance = weights.map { $0 * $0 }.reduce(0, +) / Double(weights.count)
        XCTAssertEqual(variance, glorot * glorot / 3, accuracy: 0.1 * glorot * glorot / 3)
        let calibration = try GCNDecoder(graph: chainGraph(50), hidden: 10, seed: 4)
        XCTAssertFalse(calibration.convolutionStack.firstResidual)
        XCTAssertTrue(try GCNDecoder(graph: chainGraph(50), firstLayerResidual: true).convolutionStack.firstResidual)
        XCTAssertLessThanOrEqual(calibration.convolutions.flatMap { $0.weight.storage.map { abs(Double($0)) } }.max()!, linear)
        XCTAssertTrue(calibration.convolutions.contains { $0.bias.storage.contains { $0 != 0 } })
    }

    func testDecoderGradients() throws {
        var g = SeededGenerator(seed: 1)
        let graph = chainGraph(7)
        let template = (0..<21).map { _ in g.normal() * 4 }
        let decoders: [Decoder] = [try GCNDecoder(graph: graph, latent: 3, hidden: 4, layers: 2, seed: 2),
                                   try MLPDecoder(latent: 3, nodes: 7, width: 5, depth: 2, seed: 2),
                                   try MessagePassingDecoder(kind: "mpnn", graph: graph, template: template, latent: 3, hidden: 5, layers: 2, seed: 2),
                                   try MessagePassingDecoder(kind: "egnn", graph: graph, template: template, latent: 3, hidden: 5, layers: 2, seed: 2)]
        for d in decoders {
            let z = Tensor.randn([2, 3], using: &g)
            let latentReport = try GradientCheck.check([z], epsilon: 1e-2, tolerance: 2e-2) { try d.decode($0[0]) }
            XCTAssertTrue(latentReport.passed, "\(d.kind) latents: \(latentReport)")
            // Parameters: central differences on a few entries of every parameter tensor, loss Σ decode(z)·w. A step of
            // 1e-3 (not the latents' 1e-2) keeps the GCN's first ReLU, which has no residual to smooth it, off its kinks.
            let weights = Tensor.uniform([2, 7, 3], low: 0.5, high: 1.5, using: &g)
            func loss() throws -> Double { try (d.decode(z) * weights).sum().storage.map(Double.init)[0] }
            let (_, grads) = try valueAndGradient(wrt: d.parameters) { try (d.decode(z) * weights).sum() }
            for (p, grad) in zip(d.parameters, grads) {
                for k in Set((0..<3).map { _ in Int(g.next() % UInt64(p.count)) }) {
                    let saved = p.storage[k]
                    p.storage[k] = saved + 1e-3
                    let plus = try loss()
                    p.storage[k] = saved - 1e-3
                    let minus = try loss()
                    p.storage[k] = saved
                    let numeric = (plus - minus) / 2e-3
                    XCTAssertEqual(Double(grad.storage[k]), numeric, accuracy: 2e-2 * max(1, abs(numeric)), "\(d.kind) parameter \(p.shape) entry \(k)")
                }
            }
        }
    }

    func testEGNNIsEquivariant() throws {
        var g = SeededGenerator(seed: 3)
        let graph = chainGraph(8)
        let template = (0..<24).map { _ in g.normal() * 5 }
        let r = Rotation.random(using: &g)
        var rotated: [Double] = []
        for i in 0..<8 { let p = r.apply((template[3 * i], template[3 * i + 1], template[3 * i + 2])); rotated += [p.0, p.1, p.2] }
        let a = try MessagePassingDecoder(kind: "egnn", graph: graph, template: template, latent: 4, hidden: 8, layers: 3, seed: 4)
        let b = try MessagePassingDecoder(kind: "egnn", graph: graph, template: rotated, latent: 4, hidden: 8, layers: 3, seed: 4)
        for p in a.coordinate { for k in 0..<p.count { p.storage[k] *= 100 } }
        for (p, q) in zip(a.parameters, b.parameters) { q.storage = p.storage }
        let z = Tensor.randn([2, 4], using: &g)
        let da = try a.decode(z), db = try b.decode(z)
        XCTAssertGreaterThan(da.storage.map(abs).max() ?? 0, 1e-3, "the test needs non-trivial displacements")
        for batch in 0..<2 { for i in 0..<8 {
            let base = (batch * 8 + i) * 3
            let turned = r.apply((Double(da.storage[base]), Double(da.storage[base + 1]), Double(da.storage[base + 2])))
            XCTAssertEqual(Double(db.storage[base]), turned.0, accuracy: 1e-3)
            XCTAssertEqual(Double(db.storage[base + 1]), turned.1, accuracy: 1e-3)
            XCTAssertEqual(Double(db.storage[base + 2]), turned.2, accuracy: 1e-3)
            XCTAssertLessThan(abs(turned.0) + abs(turned.1) + abs(turned.2), 100, "stable updates")
        } }
    }

    func testClashPenaltyMatchesBruteForce() throws {
        var g = SeededGenerator(seed: 8)
        let (batch, atoms, minimum) = (3, 300, Float(4))
        var values = (0..<(batch * atoms * 3)).map { _ in Float(g.normal() * 9) }
        values[5] = .nan                                            // a non-finite atom pairs with nothing
        let x = try Tensor(shape: [batch, atoms, 3], storage: values)
        var expected = 0.0
        for b in 0..<batch { for i in 0..<atoms { for j in (i + 3)..<max(atoms, i + 3) {
            let d = (0..<3).map { Double(values[(b * atoms + i) * 3 + $0] - values[(b * atoms + j) * 3 + $0]) }
            let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).squareRoot()
            if r < Double(minimum) { expected += (Double(minimum) - r) * (Double(minimum) - r) }
        } } }
        expected /= Double(batch)
        XCTAssertGreaterThan(expected, 10, "the cloud must have clashes for the comparison to mean something")
        XCTAssertEqual(Double(try x.clashPenalty(minimum: minimum).item()), expected, accuracy: 1e-3 * expected)
        XCTAssertThrowsError(try Tensor.zeros([4, 3]).clashPenalty(minimum: minimum))
        XCTAssertThrowsError(try x.clashPenalty(minimum: 0))
    }
}
