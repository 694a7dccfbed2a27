import XCTest
@testable import CryoKernels

/// The autodecoder trainer: it really learns, resumes bit-identically, and refuses bad input clearly.
final class TrainingTests: XCTestCase {
    /// A small problem: 40-residue toy protein, ANM motion of 4 Å, 160 images of 32 px at 3 Å/px, SNR 1.
    static func problem() throws -> (Structure, ParticleDataset, [[Double]], Projector.Geometry) {
        let s = try ToyProtein.make(residues: 40, seed: 1)
        let frames = try ANM.trajectory(s.models[0], frames: 8, modes: 2, amplitude: 4, seed: 2)
        let (weights, sigmas) = try XCTUnwrap(ResidueTable.lookup(s.atoms.map(\.residueName)))
        let (data, _, _) = try Simulator.simulate(conformations: frames, sigma: sigmas, weight: weights,
                                                  settings: Simulator.Settings(images: 160, size: 32, pixel: 3, snr: 1, seed: 3))
        let truth = (data.conformation ?? []).map { k -> [Double] in
            let c = Superposition.centroid(frames[k])
            return frames[k].indices.map { frames[k][$0] - c[$0 % 3] }
        }
        return (s, data, truth, try Projector.Geometry(size: 32, pixel: 3, sigma: sigmas, weight: weights))
    }

    private func problem() throws -> (Structure, ParticleDataset, [[Double]], Projector.Geometry) { try Self.problem() }

    /// A GCN trainer for `problem()`'s data (batch 16, lr 3e-3, one warm-up epoch).
    static func trainer(_ s: Structure, _ data: ParticleDataset, _ truth: [[Double]]?, _ geometry: Projector.Geometry,
                        epochs: Int, checkpoint: String? = nil, resume: String? = nil, keepBest: Bool = true,
                        validate: Double = 0, select: EpochSelection = .last, plots: String? = nil) throws -> AutodecoderTrainer {
        let decoder = try GCNDecoder(graph: try ResidueGraph.build(s), latent: 4, hidden: 8, layers: 3, seed: 5)
        var settings = AutodecoderTrainer.Settings()
        settings.epochs = epochs
        settings.batch = 16
        settings.learningRate = 3e-3
        settings.schedule = .warmup(epochs: 1)
        settings.checkpoint = checkpoint
        settings.resume = resume
        settings.keepBest = keepBest
        settings.validate = validate
        settings.select = select
        settings.plots = plots
        return try AutodecoderTrainer(decode: decoder.decode, modelName: "gcn", parameters: decoder.parameters, latentDimension: 4,
                                      template: s.models[0], geometry: geometry, dataset: data, truth: truth, settings: settings)
    }

    private func trainer(_ s: Structure, _ data: ParticleDataset, _ truth: [[Double]]?, _ geometry: Projector.Geometry,
                         epochs: Int, checkpoint: String? = nil, resume: String? = nil, keepBest: Bool = true) throws -> AutodecoderTrainer {
        try Self.trainer(s, data, truth, geometry, epochs: epochs, checkpoint: checkpoint, resume: resume, keepBest: keepBest)
    }

    func testTrainingLowersRMSDWellBelowTheTemplate() throws {
        let (s, data, truth, geometry) = try problem()
        let result = try trainer(s, data, truth, geometry, epochs: 12).run(report: { _ in }, shouldContinue: { true })
        let template = ReconstructionMetrics(predicted: [[Double]](repeating: s.models[0], count: truth.count), truth: truth).mean
        let per = s.count * 3
        let learned = ReconstructionMetrics(predicted: (0..<truth.count).map { i in result.conformations.storage[(i * per)..<((i + 1) * per)].map(Double.init) },
                                            truth: truth).mean
        print("training test: template \(template) Å → GCN \(learned) Å (epoch \(result.epoch))")
        XCTAssertLessThan(learned, 0.75 * template, "template \(template) Å, trained \(learned) Å")
        XCTAssertLessThan(result.history.last ?? 9, result.history.first ?? 0, "the loss went down")
        // The bond check of the returned epoch, recomputed by hand from its conformations.
        XCTAssertEqual(result.bondDeviationHistory.count, 12)
        let reference = s.models[0], conformation = result.conformations.storage
        func distance(_ c: (Int) -> Double, _ i: Int) -> Double {
            var sum = 0.0
            for k in 0..<3 { sum += (c(3 * (i + 1) + k) - c(3 * i + k)) * (c(3 * (i + 1) + k) - c(3 * i + k)) }
            return sum.squareRoot()
        }
        var squares = 0.0
        for image in 0..<truth.count {
            for i in 0..<(s.count - 1) {
                let d = distance({ Double(conformation[image * per + $0]) }, i) - distance({ reference[$0] }, i)
                squares += d * d
            }
        }
        let expected = (squares / Double(truth.count * (s.count - 1))).squareRoot()
        XCTAssertEqual(result.bondDeviationHistory[result.epoch - 1], expected, accuracy: 1e-3 * expected + 1e-6)
        XCTAssertGreaterThan(expected, 0.01)
    }

    func testResumeFromAnInterruptIsBitIdentical() throws {
        let (s, data, _, geometry) = try problem()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-ckpt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let straight = try trainer(s, data, nil, geometry, epochs: 3).run(report: { _ in }, shouldContinue: { true })
        var calls = 0
        XCTAssertThrowsError(try trainer(s, data, nil, geometry, epochs: 3, checkpoint: folder + "/run.ckpt")
            .run(report: { _ in }, shouldContinue: { calls += 1; return calls < 17 })) { error in
            XCTAssertTrue(error is TrainingInterrupted, "\(error)")
        }
        let resumed = try trainer(s, data, nil, geometry, epochs: 3, checkpoint: folder + "/run.ckpt", resume: folder + "/run.ckpt")
            .run(report: { _ in }, shouldContinue: { true })
        XCTAssertEqual(resumed.latents.storage, straight.latents.storage, "latents differ after resuming")
        XCTAssertEqual(resumed.conformations.storage, straight.conformations.storage)
        XCTAssertEqual(resumed.history, straight.history)
        XCTAssertEqual(resumed.bondDeviationHistory, straight.bondDeviationHistory)
    }

    func testResumeKeepsTheBestEpochSeenBeforeTheInterrupt() throws {
        let (s, data, truth, geometry) = try problem()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-ckpt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let straight = try trainer(s, data, truth, geometry, epochs: 3).run(report: { _ in }, shouldContinue: { true })
        var calls = 0
        XCTAssertThrowsError(try trainer(s, data, truth, geometry, epochs: 3, checkpoint: folder + "/run.ckpt")
            .run(report: { _ in }, shouldContinue: { calls += 1; return calls < 25 }))
        let shapes = try trainer(s, data, truth, geometry, epochs: 3).modelParameters.map(\.shape) + [[160, 4], [1], [1]]
        let saved = try Checkpoint.read(folder + "/run.ckpt", expecting: shapes, model: "gcn")
        XCTAssertEqual(saved.header.bestEpoch, saved.header.rmsdHistory.indices.min { saved.header.rmsdHistory[$0] < saved.header.rmsdHistory[$1] }.map { $0 + 1 })
        XCTAssertEqual(saved.bestValues?.map(\.count), shapes.map { $0.reduce(1, *) }, "the best epoch's values travel with the checkpoint")
        let resumed = try trainer(s, data, truth, geometry, epochs: 3, checkpoint: folder + "/run.ckpt", resume: folder + "/run.ckpt")
            .run(report: { _ in }, shouldContinue: { true })
        XCTAssertEqual(resumed.epoch, straight.epoch)
        XCTAssertEqual(resumed.conformations.storage, straight.conformations.storage, "the returned state differs after resuming")
        XCTAssertEqual(resumed.rmsdHistory, straight.rmsdHistory)
    }

    func testBadInputsAreClearErrors() throws {
        let (s, data, truth, geometry) = try problem()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-ckpt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try trainer(s, data, nil, geometry, epochs: 1, checkpoint: folder + "/a.ckpt").run(report: { _ in }, shouldContinue: { true })
        // A checkpoint from a different model.
        let other = try MLPDecoder(latent: 4, nodes: s.count, width: 7, seed: 1)
        var settings = AutodecoderTrainer.Settings()
        settings.resume = folder + "/a.ckpt"
        let mismatched = try AutodecoderTrainer(decode: other.decode, modelName: "mlp", parameters: other.parameters, latentDimension: 4,
                                                template: s.models[0], geometry: geometry, dataset: data, truth: nil, settings: settings)
        XCTAssertThrowsError(try mismatched.run(report: { _ in }, shouldContinue: { true })) { error in
            XCTAssertTrue("\(error)".contains("written by a different model"), "\(error)")
        }
        // Ground truth of the wrong size, and a forward model for another protein.
        XCTAssertThrowsError(try trainer(s, data, Array(truth.prefix(3)), geometry, epochs: 1)) { error in
            XCTAssertTrue("\(error)".contains("one 40-residue conformation per image"), "\(error)")
        }
        let wrongGeometry = try Projector.Geometry(size: 32, pixel: 3, sigma: [1, 1], weight: [1, 1])
        XCTAssertThrowsError(try trainer(s, data, nil, wrongGeometry, epochs: 1)) { error in
            XCTAssertTrue("\(error)".contains("the forward model has 2 atoms, the template 40"), "\(error)")
        }
        // A loss that blows up names the term.
        var hot = AutodecoderTrainer.Settings()
        hot.learningRate = 1e30
        hot.schedule = .warmup(epochs: 0)
        let decoder = try GCNDecoder(graph: try ResidueGraph.build(s), latent: 4, hidden: 8, layers: 3, seed: 5)
        let exploding = try AutodecoderTrainer(decode: decoder.decode, modelName: "gcn", parameters: decoder.parameters, latentDimension: 4,
                                               template: s.models[0], geometry: geometry, dataset: data, truth: nil, settings: hot)
        XCTAssertThrowsError(try exploding.run(report: { _ in }, shouldContinue: { true })) { error in
            XCTAssertTrue("\(error)".contains("became NaN") || "\(error)".contains("became infinite"), "\(error)")
        }
    }

    func testLearningRateSchedules() throws {
        let warmup = LearningRateSchedule.warmup(epochs: 10)
        XCTAssertEqual(warmup.factor(epoch: 0, totalEpochs: 60), 0.1, accuracy: 1e-12)
        XCTAssertEqual(warmup.factor(epoch: 5, totalEpochs: 60), 0.55, accuracy: 1e-12)
        XCTAssertEqual(warmup.factor(epoch: 30, totalEpochs: 60), 1, accuracy: 1e-12)
        let cycle = LearningRateSchedule.oneCycle
        XCTAssertEqual(cycle.factor(epoch: 0, totalEpochs: 100), 1.0 / 25, accuracy: 1e-12)
        XCTAssertEqual(cycle.factor(epoch: 30, totalEpochs: 100), 1, accuracy: 1e-12)
        XCTAssertEqual(cycle.factor(epoch: 15, totalEpochs: 100), (1 + 1.0 / 25) / 2, accuracy: 1e-12)
        XCTAssertEqual(cycle.factor(epoch: 100, totalEpochs: 100), 1.0 / 25 / 1e4, accuracy: 1e-12)
        XCTAssertThrowsError(try LearningRateSchedule(name: "cosine", warmupEpochs: 1))
    }
    /// `.particle` weighs the data term by D² (summed squared error per image) and each mean-type regulariser by its
    /// number of terms; `.pixel` leaves the means as they are.
    func testNormalizationsWeighTheTermsAsDocumented() throws {
        let (s, dataset, _, geometry) = try problem()
        let decoder = try GCNDecoder(graph: try ResidueGraph.build(s), latent: 4, hidden: 8, layers: 3, seed: 5)
        var generator = SeededGenerator(seed: 9)
        let latents = Tensor.randn([dataset.count, 4], std: 1, using: &generator)
        func loss(_ normalization: AutodecoderTrainer.Normalization, bond: Float = 0, logDistance: Float = 0) throws -> Double {
            var settings = AutodecoderTrainer.Settings()
            settings.normalization = normalization
            settings.weights.bond = bond
            settings.weights.centroid = 0
            settings.weights.logDistance = logDistance
            settings.weights.window = 5
            let trainer = try AutodecoderTrainer(decode: decoder.decode, modelName: "gcn", parameters: decoder.parameters, latentDimension: 4,
                                                 template: s.models[0], geometry: geometry, dataset: dataset, truth: nil, settings: settings)
            var poses = TrainingPoses(rotations: dataset.rotations, origins: dataset.shifts)
            return Double(try trainer.loss(indices: Tensor((0..<8).map(Float.init)), latents: latents, scale: Tensor([0.1]), offset: Tensor([0]),
                                           rotations: Rotation.tensor(dataset.rotations), poses: &poses).storage[0])
        }
        let pixels = Double(geometry.size * geometry.size)
        let imageMSE = try loss(.pixel)
        let bond = try loss(.pixel, bond: 1) - imageMSE
        let logDistance = try loss(.pixel, logDistance: 1) - imageMSE
        XCTAssertGreaterThan(bond, 1e-3, "the decoded conformations should stretch some bonds")
        XCTAssertGreaterThan(logDistance, 1e-4)
        XCTAssertEqual(try loss(.particle), pixels * imageMSE, accuracy: 1e-4 * pixels * imageMSE)
        XCTAssertEqual(try loss(.particle, bond: 1) - pixels * imageMSE, Double(s.count - 1) * bond, accuracy: 1e-2 * Double(s.count) * bond)
        var pairWeight = 0.0
        for i in 0..<s.count {
            for j in (i + 1)..<min(s.count, i + 6) { pairWeight += exp(1 - Double(j - i) / 4) }
        }
        XCTAssertEqual(try Regularizers(template: s.models[0]).logDistancePairWeight(window: 5, decay: 4), pairWeight, accuracy: 1e-9 * pairWeight)
        XCTAssertEqual(try loss(.particle, logDistance: 1) - pixels * imageMSE, pairWeight * logDistance, accuracy: 1e-2 * pairWeight * logDistance)
    }
}
