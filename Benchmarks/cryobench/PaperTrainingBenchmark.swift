import CryoKernels
import Foundation

/// The paper's GCN trained as `train_autodecoder` trains it, beyond one known-pose step: one pose-marginalised (ESL)
/// step over 32 candidate rotations per image, B = 32 (`AutodecoderTrainer.step` with `settings.unknownPoses`), and
/// one whole epoch on 2,000 images with known poses (`AutodecoderTrainer.run`: 63 steps, then the epoch's
/// conformations and bond check), D = 64 at 2 Å/px with the CTF. Benchmarks/reference/paper_models.py does the same.
enum PaperTrainingBenchmark {
    /// The ESL step (`cryobench esltrain`).
    static func eslStep() throws -> [(String, Double)] {
        let setup = try PaperModelBenchmark.Setup()
        let dataset = try setup.simulate(images: 32)
        var settings = AutodecoderTrainer.Settings()
        settings.unknownPoses = try candidates(around: dataset.rotations, perImage: 32)
        let esl = try setup.trainer(setup.gcn, dataset: dataset, settings: settings)
        let state = try esl.start()
        let batch = Array(0..<32)
        let eslMs = try medianMilliseconds(repeats: 11, warmup: 2) { _ = try esl.step(state, images: batch) }
        print(String(format: "ESL training step, paper GCN, B32, 32 candidates, N214 D64: %.2f ms", eslMs))
        return [("esl_train_step_B32_K32_N214_D64_ms", eslMs)]
    }

    /// The epoch (`cryobench epoch`).
    static func epoch() throws -> [(String, Double)] {
        let setup = try PaperModelBenchmark.Setup()
        let images = try setup.simulate(images: 2000)
        var epochSettings = AutodecoderTrainer.Settings()
        epochSettings.epochs = 1
        let epoch = try setup.trainer(setup.gcn, dataset: images, settings: epochSettings)
        let epochMs = try medianMilliseconds(repeats: 3, warmup: 1) {
            _ = try epoch.run(report: { _ in }, shouldContinue: { true })
        }
        print(String(format: "one epoch of train_autodecoder, paper GCN, 2,000 images, known poses, D64, CTF: %.0f ms", epochMs))
        return [("paper_gcn_L10_F10_epoch_M2000_D64_ms", epochMs)]
    }

    /// `perImage` candidate rotations per image, scattered up to about 10° around each true rotation (as the
    /// template search would leave them), on the 14,761-rotation grid's J, γ and Q^η.
    static func candidates(around truth: [Rotation], perImage k: Int) throws -> UnknownPoses {
        var g = SeededGenerator(seed: 8)
        let spread = 10.0 * .pi / 180 / 3.0.squareRoot()
        let candidates = truth.flatMap { r in
            (0..<k).map { _ in r * Rotation.exp(((2 * g.uniform() - 1) * spread, (2 * g.uniform() - 1) * spread, (2 * g.uniform() - 1) * spread)) }
        }
        return try UnknownPoses(candidates: candidates, perImage: k, images: truth.count, lifting: try SupportLifting(),
                                gridSize: SO3Grid.sizes[1], truth: truth)
    }
}
