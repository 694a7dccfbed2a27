import XCTest
@testable import CryoKernels

/// Finite-difference checks of every differentiable op (`DifferentiableOpRegistry`), including broadcasting and repeated inputs.
final class GradientCheckTests: XCTestCase {
    private var generator = SeededGenerator(seed: 42)

    private func rand(_ shape: [Int], low: Float = -1, high: Float = 1) -> Tensor {
        Tensor.uniform(shape, low: low, high: high, using: &generator)
    }

    /// Values bounded away from zero (for log, sqrt, division, pow).
    private func positive(_ shape: [Int]) -> Tensor { rand(shape, low: 0.5, high: 2) }

    /// Values at least 0.1 from zero (for ops with a kink at 0).
    private func awayFromZero(_ shape: [Int]) -> Tensor {
        let t = rand(shape)
        return t.mapUnary { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 }
    }

    /// Distinct values at least 0.1 apart in shuffled order (for max, where near-ties break finite differences).
    private func separated(_ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        var values = (0..<n).map { Float($0) * 0.1 - Float(n) * 0.05 }
        values.shuffle(using: &generator)
        return Tensor(values).reshapedUnchecked(shape)
    }

    /// A fused GCN stack over an asymmetric matrix (so a missing transpose in the backward pass shows): the
    /// leading `nodes` × `nodes` block of a fixed 5-node one.
    private func gcnStack(nodes: Int, firstResidual: Bool) -> GraphConvolutionStack {
        let entries: [(Int, Int, Float)] = [(0, 0, 0.7), (0, 1, 0.4), (1, 0, -0.3), (1, 2, 0.9), (2, 2, 0.5), (2, 3, -0.6),
                                            (3, 0, 0.8), (3, 3, 0.2), (4, 1, 0.6), (4, 4, 1.1), (2, 4, 0.3)]
        return GraphConvolutionStack(adjacency: SparseMatrix(size: nodes, entries: entries.filter { $0.0 < nodes && $0.1 < nodes }),
                                     firstResidual: firstResidual)
    }

    /// Inputs [h [B,N,F], W_0 ..., b_0 ...] of a GCN stack whose every pre-activation lies at least 0.05 from the
    /// ReLU's kink (a finite difference across the kink measures neither side), with both signs present.
    private func gcnInputs(_ stack: GraphConvolutionStack, batch: Int, features f: Int, layers: Int) throws -> [Tensor] {
        while true {
            let inputs = [rand([batch, stack.adjacency.size, f])] + (0..<layers).map { _ in rand([f, f]) } + (0..<layers).map { _ in rand([f]) }
            var h = inputs[0], pre: [Float] = []
            for l in 0..<layers {
                let a = try Tensor.matmul(try stack.adjacency.apply(h), inputs[1 + l]) + inputs[1 + layers + l]
                pre += a.storage
                h = l > 0 || stack.firstResidual ? try a.relu() + h : a.relu()
            }
            if pre.allSatisfy({ abs($0) >= 0.05 }), pre.contains(where: { $0 < 0 }) { return inputs }
        }
    }

    /// The fused candidate scores of 2 conformations of 5 atoms at 3 rotations each on 16² images with shifts and
    /// CTFs, scaled by 100 so the gradients are well above the finite differences' rounding.
    private func candidateScores() throws -> (Tensor, ([Tensor]) throws -> Tensor) {
        let geometry = try Projector.Geometry(size: 16, pixel: 2, sigma: [1.5, 1.8, 1.6, 2.0, 1.4], weight: [1, 2, 1, 1.5, 1])
        var g = SeededGenerator(seed: 5)
        let rotations = (0..<6).map { _ in Rotation.random(using: &g) }
        let images = rand([2, 16, 16])
        let ctf = [CTFParameters(defocusU: 8000), CTFParameters(defocusU: 12000, defocusV: 11000, astigmatismAngle: 30)]
        return (rand([2, 5, 3], low: -5, high: 5), { xs in
            try CandidateScoring.losses(coords: xs[0], images: images, rotations: rotations, shifts: [1, -2, 0.5, 0.7], ctf: ctf,
                                        geometry: geometry) * 100
        })
    }

    /// Every op: name, inputs, and the function of those inputs to check.
    private func cases() throws -> [(String, [Tensor], ([Tensor]) throws -> Tensor)] {
        let ids = Tensor([0, 2, 2, 1, 0])
        let permuteWeights = rand([4, 2, 3])
        // An unsymmetric Â with a repeated entry (duplicates add up) and an empty row (row 2).
        let adjacency = SparseMatrix(size: 4, entries: [(0, 1, 0.5), (1, 0, 0.5), (0, 1, 0.25), (1, 2, 0.7), (3, 2, -1.2), (3, 3, 2)])
        let lifting = try SupportLifting()
        let (candidateCoords, scores) = try candidateScores()
        var g = SeededGenerator(seed: 12)
        let rotations = Rotation.tensor([Rotation.random(using: &g), Rotation.random(using: &g)])
        let geometry = try Projector.Geometry(size: 16, pixel: 1.2, sigma: [1.5, 2.0, 1.7], weight: [1, 2, 0.5])
        let narrow = try Projector.Geometry(size: 16, pixel: 4, sigma: [1.5, 2.0, 1.7], weight: [1, 2, 0.5])
        let ctf = [CTFParameters(defocusU: 5000), CTFParameters(defocusU: 9000, defocusV: 8000, astigmatismAngle: 20, bFactor: 50)]
        // A whitened dataset's CTFs carry its radial filter (`NoiseWhitening`).
        let whitening = try! NoiseWhitening(shellWidth: 1 / 16, gains: [0.4, 0.6, 1.1, 1.3, 1.2])
        let whitened = ctf.map { var c = $0; c.whitening = whitening; return c }
        return [
            ("esl_candidate_scores", [candidateCoords], scores),
            ("project", [Tensor.randn([2, 3, 3], std: 3, using: &g), Tensor.randn([2, 2], std: 1, using: &g)],
             { try Projector.project(coords: $0[0], rotations: rotations, shifts: $0[1], geometry: geometry) }),
            ("project", [Tensor.randn([3, 3], std: 3, using: &g)], { try Projector.project(coords: $0[0], rotations: rotations, geometry: geometry) }),
            // Windows of 6–7 columns at 4 Å/px: the projector's half-block path.
            ("project", [Tensor.randn([3, 3], std: 6, using: &g)], { try Projector.project(coords: $0[0], rotations: rotations, geometry: narrow) }),
            ("ctf", [Tensor.randn([2, 8, 8], using: &g)], { try FourierFilter.applyCTF($0[0], parameters: ctf, pixel: 2) }),
            ("ctf", [Tensor.randn([2, 8, 8], using: &g)], { try FourierFilter.applyCTF($0[0], parameters: whitened, pixel: 2) }),
            ("low_pass", [Tensor.randn([2, 8, 8], using: &g)], { try FourierFilter.lowPass($0[0], pixel: 2, resolution: 8) }),
            ("add", [rand([3, 4]), rand([4])], { try $0[0] + $0[1] }),
            ("add", [rand([2, 1, 3]), rand([4, 1])], { try $0[0] + $0[1] }),
            ("sub", [rand([3, 4]), rand([3, 1])], { try $0[0] - $0[1] }),
            ("mul", [rand([3, 4]), rand([])], { try $0[0] * $0[1] }),
            ("mul", [rand([3, 4])], { try $0[0] * $0[0] }),
            ("div", [rand([2, 3]), positive([2, 3])], { try $0[0] / $0[1] }),
            ("div", [positive([4])], { try $0[0] / ($0[0] + 1) }),
            ("pow", [positive([2, 3]), rand([3], low: 0.5, high: 2)], { try Tensor.pow($0[0], $0[1]) }),
            ("maximum", [separated([3, 4]), separated([4]).mapUnary { $0 + 0.05 }], { try Tensor.maximum($0[0], $0[1]) }),
            ("minimum", [separated([3, 4]), separated([3, 1])], { try Tensor.minimum($0[0], $0[1]) }),
            ("neg", [rand([5])], { $0[0].negated() }),
            ("exp", [rand([2, 3])], { $0[0].exp() }),
            ("log", [positive([2, 3])], { $0[0].log() }),
            ("log10", [positive([2, 3])], { $0[0].log10() }),
            ("sqrt", [positive([2, 3])], { $0[0].sqrt() }),
            ("abs", [awayFromZero([2, 3])], { $0[0].abs() }),
            ("pow_scalar", [positive([2, 3])], { $0[0].pow(2.5) }),
            ("relu", [awayFromZero([3, 3])], { $0[0].relu() }),
            ("silu", [rand([3, 3])], { $0[0].silu() }),
            ("sigmoid", [rand([3, 3])], { $0[0].sigmoid() }),
            ("tanh", [rand([3, 3])], { $0[0].tanh() }),
            ("sin", [rand([3, 3], low: -3, high: 3)], { $0[0].sin() }),
            ("cos", [rand([3, 3], low: -3, high: 3)], { $0[0].cos() }),
            ("softplus", [rand([3, 3], low: -3, high: 3)], { $0[0].softplus() }),
            ("sum", [rand([2, 3])], { $0[0].sum() }),
            ("sum_axis", [rand([2, 3, 4])], { try $0[0].sum(axis: 1) }),
            ("sum_axis", [rand([2, 3, 4])], { try $0[0].sum(axis: -1, keepDims: true) }),
            ("mean", [rand([2, 3])], { try $0[0].mean() }),
            ("mean_axis", [rand([2, 3, 4])], { try $0[0].mean(axis: 0) }),
            ("max", [separated([2, 3])], { try $0[0].max() }),
            ("max_axis", [separated([3, 4])], { try $0[0].max(axis: 1) }),
            ("norm", [rand([2, 3])], { try $0[0].norm() }),
            ("norm_axis", [rand([4, 3])], { try $0[0].norm(axis: -1) }),
            ("reshape", [rand([2, 6])], { try $0[0].reshape([3, -1]) * Tensor([1, 2, 3, 4]) }),
            ("permute", [rand([2, 3, 4])], { try $0[0].permute([2, 0, 1]) * permuteWeights }),
            ("transpose", [rand([3, 4])], { try $0[0].transposed() * Tensor([1, 2, 3]) }),
            ("cat", [rand([2, 3]), rand([2, 2])], { try Tensor.concat([$0[0], $0[1], $0[0]], axis: 1) }),
            ("stack", [rand([3]), rand([3])], { try Tensor.stack([$0[0], $0[1]], axis: 1) * Tensor([1, 2]) }),
            ("slice", [rand([4, 3])], { try $0[0].slice(axis: 0, start: 1, end: 3) }),
            ("select", [rand([4, 3])], { try $0[0].select(-1) }),
            ("broadcast", [rand([3, 1])], { try $0[0].broadcast(to: [2, 3, 4]) }),
            ("sum_to_shape", [rand([2, 3, 4])], { try $0[0].sum(toShape: [3, 1]) }),
            ("gather", [rand([4, 3])], { try $0[0].gather(Tensor([3, 0, 3, 1])) }),
            ("segment_sum", [rand([5, 2])], { try $0[0].segmentSum(ids, segments: 4) }),
            ("message_aggregate", [rand([4, 2, 3], low: -2, high: 2), rand([4, 2, 3], low: -2, high: 2), rand([5, 1, 3])],
             { try Tensor.messageAggregate(source: $0[0], target: $0[1], edge: $0[2], src: Tensor([0, 1, 3, 3, 2]), dst: ids) }),
            ("message_aggregate", [rand([3, 2, 2]), rand([5, 2, 2])],
             { try Tensor.messageAggregate(source: $0[0], target: $0[0], edge: $0[1], src: Tensor([0, 1, 2, 2, 0]), dst: Tensor([1, 1, 0, 2, 2])) }),
            ("gcn_stack", try gcnInputs(gcnStack(nodes: 5, firstResidual: true), batch: 2, features: 3, layers: 3),
             { try self.gcnStack(nodes: 5, firstResidual: true).apply($0[0], weights: Array($0[1...3]), biases: Array($0[4...6])) }),
            ("gcn_stack", try gcnInputs(gcnStack(nodes: 4, firstResidual: false), batch: 17, features: 2, layers: 2),   // two chunks
             { try self.gcnStack(nodes: 4, firstResidual: false).apply($0[0], weights: Array($0[1...2]), biases: Array($0[3...4])) }),
            ("clash_loss", [rand([2, 7, 3], low: -3, high: 3)], { try $0[0].clashPenalty(minimum: 4, separation: 2) }),
            ("sparse_apply", [rand([4, 3])], { try adjacency.apply($0[0]) }),
            ("sparse_apply", [rand([2, 4, 3])], { try adjacency.apply($0[0]) }),
            // Losses at least 0.1 apart, so a step of 0.01 never reorders them (β and γ have kinks where it would).
            ("esl_expected_loss", [separated([3, 24])], { try lifting.expectedLoss($0[0]) }),
            ("esl_expected_loss", [separated([3, 24])], { try lifting.expectedLoss($0[0], gridSize: SO3Grid.sizes[1]) }),
            ("segment_mean", [rand([5, 2])], { try $0[0].segmentMean(ids, segments: 3) }),
            ("matmul", [rand([3, 4]), rand([4, 2])], { try Tensor.matmul($0[0], $0[1]) }),
            ("matmul", [rand([2, 3, 4]), rand([4, 5])], { try Tensor.matmul($0[0], $0[1]) }),
            ("matmul", [rand([2, 3, 4]), rand([2, 4, 2])], { try Tensor.matmul($0[0], $0[1]) }),
            ("matmul", [rand([3, 4]), rand([2, 4, 2])], { try Tensor.matmul($0[0], $0[1]) }),
            ("matmul", [rand([4]), rand([4, 3])], { try Tensor.matmul($0[0], $0[1]) }),
            ("matmul", [rand([3, 3])], { try Tensor.matmul($0[0], $0[0]) }),
            // Drawn last, so the inputs of the cases above stay those they were tuned on.
            ("pow_scalar", [rand([2, 3])], { $0[0].pow(2) }),
            ("pow_scalar", [rand([2, 3])], { try $0[0].pow(1) * $0[0] }),
            ("sum_to_shape", [rand([2, 3, 4])], { try $0[0].sum(toShape: [3, 4]) }),   // leading axes only: one pass
            ("image_mse", [rand([2, 3, 3]), rand([1]), rand([1])], {
                try $0[0].scaledSquaredError(scale: $0[1], offset: $0[2], target: Tensor(uncheckedShape: [2, 3, 3], storage: (0..<18).map { Float($0 % 5) * 0.3 - 0.6 }))
            }),
        ]
    }

    /// Every case passes, and together the passing cases record every op of the registry (`DifferentiableOpRegistry`:
    /// each place in the source where an op records itself), so an op added without a check fails here.
    func testEveryDifferentiableOpMatchesFiniteDifferences() throws {
        var covered = Set<RecordingSite>()
        // The fused ESL scores lie near 2 (random images), so Float rounding of the losses alone puts about 3e-3
        // into their central differences; the composed-ops comparison in ESLTests checks them to 1e-3.
        let tolerance: [String: Double] = ["esl_candidate_scores": 1e-2, "project": 1e-2, "ctf": 1e-2, "low_pass": 1e-2]
        for (name, inputs, f) in try cases() {
            let report = try GradientCheck.check(inputs, epsilon: 1e-2, tolerance: tolerance[name] ?? 2e-3, f)
            XCTAssertTrue(report.passed, "\(name): \(report)")
            XCTAssertFalse(report.sites.isEmpty, "\(name) recorded nothing")
            if report.passed { covered.formUnion(report.sites) }
        }
        let registry = try DifferentiableOpRegistry.sites()
        XCTAssertGreaterThan(registry.count, 40, "the registry must find the ops in \(DifferentiableOpRegistry.folder.path)")
        print("gradient-checked recording sites: \(covered.intersection(registry).count) of \(registry.count)")
        let missing = registry.subtracting(covered), unknown = covered.subtracting(registry)
        XCTAssertTrue(missing.isEmpty, "ops without a passing gradient check: \(missing.map(\.description).sorted())")
        XCTAssertTrue(unknown.isEmpty, "recorded at sites the registry does not know: \(unknown.map(\.description).sorted())")
    }

    func testCheckCatchesAWrongGradient() throws {
        // A function whose recorded VJP is deliberately inconsistent: detaching one factor drops a term.
        let x = rand([3])
        let report = try GradientCheck.check([x]) { xs in try xs[0] * xs[0].detached() }
        XCTAssertFalse(report.passed, "the check must notice a missing product-rule term")
    }

    func testRepeatedUseAccumulatesGradient() throws {
        let x = Tensor([1, 2, 3])
        let (value, grads) = try valueAndGradient(wrt: [x]) { try (x * x + x * 3).sum() }
        XCTAssertEqual(try value.item(), 1 + 4 + 9 + 18)
        XCTAssertEqual(grads[0].storage, [5, 7, 9])
    }

    func testNothingRecordedWithoutGradients() throws {
        let (_, tape) = try Tape.record { try Tensor([1, 2]) * Tensor([3, 4]) }
        XCTAssertEqual(tape.nodeCount, 0)
        let p = Tensor([1, 2]).asParameter()
        let (_, tape2) = try Tape.record { try p * Tensor([3, 4]) }
        XCTAssertEqual(tape2.nodeCount, 2, "one leaf and one op")
    }

    func testBackwardAccumulatesIntoLeafGrad() throws {
        let w = Tensor([2, -1]).asParameter()
        for _ in 0..<2 {
            let (loss, tape) = try Tape.record { try (w * w).sum() }
            try tape.backward(loss)
        }
        XCTAssertEqual(w.grad?.storage, [8, -4])
    }
}

private extension Tensor {
    func reshapedUnchecked(_ shape: [Int]) -> Tensor { (try? reshape(shape)) ?? self }
}
