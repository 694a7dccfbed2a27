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

    /// A GCN trainer for `problem()`'s data (batch 16, lr 3e-3, one warm-up epoch), with known poses unless
    /// `unknownPoses` is given.
    static func trainer(_ s: Structure, _ data: ParticleDataset, _ truth: [[Double]]?, _ geometry: Projector.Geometry,
                        epochs: Int, checkpoint: String? = nil, resume: String? = nil, keepBest: Bool = true,
                        validate: Double = 0, select: EpochSelection = .last, plots: String? = nil,
                        unknownPoses: UnknownPoses? = nil) throws -> AutodecoderTrainer {
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
        settings.unknownPoses = unknownPoses
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
        let rmsd = saved.header.progress.history.rmsd
        XCTAssertEqual(saved.header.progress.keptEpoch, rmsd.indices.min { rmsd[$0] < rmsd[$1] }.map { $0 + 1 })
        XCTAssertEqual(saved.bestValues?.map(\.count), shapes.map { $0.reduce(1, *) }, "the best epoch's values travel with the checkpoint")
        let resumed = try trainer(s, data, truth, geometry, epochs: 3, checkpoint: folder + "/run.ckpt", resume: folder + "/run.ckpt")
            .run(report: { _ in }, shouldContinue: { true })
        XCTAssertEqual(resumed.epoch, straight.epoch)
        XCTAssertEqual(resumed.conformations.storage, straight.conformations.storage, "the returned state differs after resuming")
        XCTAssertEqual(resumed.rmsdHistory, straight.rmsdHistory)
    }

    /// The header is the run's `TrainingProgress` flat beside the model and shapes, with the keys checkpoints had before
    /// that value existed, so older checkpoints (without the keys added since) still resume.
    func testCheckpointHeaderIsTheProgressUnderTheOlderKeys() throws {
        var progress = TrainingProgress(heldOut: 3)
        (progress.epoch, progress.step, progress.lossSum) = (2, 5, 1.5)
        progress.history.loss = [4, 3]
        progress.history.rmsd = [2.5, 2]
        progress.history.poseErrorMedian = [30, 20]
        (progress.keptEpoch, progress.keptBy, progress.keptRMSD) = (2, "oracle", 2)
        let header = Checkpoint.Header(model: "gcn", progress: progress, adamStep: 7, shapes: [[2, 3]])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: try JSONEncoder().encode(header)) as? [String: Any])
        XCTAssertEqual(Set(json.keys), ["version", "model", "adamStep", "shapes", "epoch", "step", "lossSum", "history", "rmsdHistory",
                                        "bondDeviationHistory", "validationHistory", "latentSpreadHistory", "poseErrorMedianHistory",
                                        "poseErrorP90History", "shiftErrorMedianHistory", "shiftErrorP90History", "heldOut", "bestEpoch",
                                        "keptBy", "bestRMSD"])
        XCTAssertEqual(try JSONDecoder().decode(Checkpoint.Header.self, from: try JSONEncoder().encode(header)).progress, progress)
        let older = #"{"version":1,"model":"mlp","epoch":1,"step":0,"lossSum":0,"history":[9],"rmsdHistory":[3],"bestEpoch":1,"adamStep":4,"shapes":[[1]]}"#
        let read = try JSONDecoder().decode(Checkpoint.Header.self, from: Data(older.utf8))
        XCTAssertEqual(read.progress.keptBy, "oracle", "before the selection rules only the oracle kept an epoch")
        XCTAssertEqual(read.progress.heldOut, 0)
        XCTAssertEqual(read.progress.history.loss, [9])
        XCTAssertEqual(read.progress.history.bondRMS, [])
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
        // A checkpoint of the same model trained on other images (read at another size: here, another pixel).
        var resampled = data
        resampled.pixel = 4
        XCTAssertThrowsError(try trainer(s, resampled, nil, geometry, epochs: 2, resume: folder + "/a.ckpt").run(report: { _ in }, shouldContinue: { true })) { error in
            XCTAssertTrue("\(error)".contains("was trained on images of 32 px at 3.0 Å/px but this run's are 32 px at 4.0 Å/px"), "\(error)")
        }
        // The same images whitened (`whiten`) are not the images it was trained on either.
        let whitened = try data.whitened(try NoiseWhitening(shellWidth: 1 / 96, gains: [Double](repeating: 1, count: 17)))
        XCTAssertThrowsError(try trainer(s, whitened, nil, geometry, epochs: 2, resume: folder + "/a.ckpt").run(report: { _ in }, shouldContinue: { true })) { error in
            XCTAssertTrue("\(error)".contains("was trained on unwhitened images but this run's are whitened"), "\(error)")
        }
        // A checkpoint written before the CTF took RELION's sign (version 1): its image scale or offset has the other sign.
        let written = try XCTUnwrap(String(data: try Data(contentsOf: URL(fileURLWithPath: folder + "/a.ckpt")), encoding: .isoLatin1))
        XCTAssertTrue(written.contains(#""version":2"#))
        try XCTUnwrap(written.replacingOccurrences(of: #""version":2"#, with: #""version":1"#).data(using: .isoLatin1)).write(to: URL(fileURLWithPath: folder + "/old.ckpt"))
        XCTAssertThrowsError(try trainer(s, data, nil, geometry, epochs: 2, resume: folder + "/old.ckpt").run(report: { _ in }, shouldContinue: { true })) { error in
            XCTAssertTrue("\(error)".contains("was written before CryoScript's CTF took RELION's sign (checkpoint version 1"), "\(error)")
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
    /// `.particle` weighs the data term by D² (summed squared error per image) and every `LossTerm` by its count of
    /// terms per particle; `.pixel` leaves the means as they are. Each built-in term's count is pinned here.
    func testNormalizationsWeighTheTermsAsDocumented() throws {
        let (s, dataset, _, geometry) = try problem()
        let decoder = try GCNDecoder(graph: try ResidueGraph.build(s), latent: 4, hidden: 8, layers: 3, seed: 5)
        var generator = SeededGenerator(seed: 9)
        let latents = Tensor.randn([dataset.count, 4], std: 1, using: &generator)
        func loss(_ normalization: AutodecoderTrainer.Normalization, _ weights: [String: Double] = [:]) throws -> Double {
            var settings = AutodecoderTrainer.Settings()
            settings.normalization = normalization
            for (key, value) in ["bond": 0, "centroid": 0, "window": 5, "clash_min": 7].merging(weights, uniquingKeysWith: { $1 }) {
                try settings.regularization.set(key, value)
            }
            let trainer = try AutodecoderTrainer(decode: decoder.decode, modelName: "gcn", parameters: decoder.parameters, latentDimension: 4,
                                                 template: s.models[0], geometry: geometry, dataset: dataset, truth: nil, settings: settings)
            var poses = TrainingPoses(rotations: dataset.rotations, origins: dataset.shifts)
            return Double(try trainer.loss(indices: Tensor((0..<8).map(Float.init)), latents: latents, scale: Tensor([0.1]), offset: Tensor([0]),
                                           rotations: Rotation.tensor(dataset.rotations), poses: &poses).storage[0])
        }
        let pixels = Double(geometry.size * geometry.size), n = Double(s.count)
        let imageMSE = try loss(.pixel)
        XCTAssertEqual(try loss(.particle), pixels * imageMSE, accuracy: 1e-4 * pixels * imageMSE)
        let windowPairs = Double((1...5).reduce(0) { $0 + s.count - $1 })   // pairs at most 5 apart
        let counts = ["bond": n - 1, "centroid": 1, "angle": n - 2, "log_distance": windowPairs, "all_pairs": n * (n - 1) / 2, "clash": 1, "latent": 4]
        XCTAssertEqual(Set(counts.keys), Set(LossTerm.builtins.map(\.key)), "every built-in term has its count checked")
        // A large weight makes each term dominate the data term, so the difference is well above Float rounding.
        let weight = 100.0
        for term in LossTerm.builtins {
            let count = try XCTUnwrap(counts[term.key])
            let mean = (try loss(.pixel, [term.key: weight]) - imageMSE) / weight
            XCTAssertGreaterThan(mean, 1e-4, "\(term.key): the decoded conformations must give the term something to measure")
            let particle = (try loss(.particle, [term.key: weight]) - pixels * imageMSE) / weight
            XCTAssertEqual(particle, count * mean, accuracy: 1e-3 * count * mean, term.key)
        }
    }
}
