import CZlib
import XCTest
@testable import CryoKernels

/// Choosing the epoch without ground truth: the held-out split, the rules, resuming, and the plots of the histories.
final class EpochSelectionTests: XCTestCase {
    /// `TrainingTests.problem()` without its ground truth.
    private func problem() throws -> (Structure, ParticleDataset, Projector.Geometry) {
        let (s, data, _, geometry) = try TrainingTests.problem()
        return (s, data, geometry)
    }

    private func trainer(_ s: Structure, _ data: ParticleDataset, _ geometry: Projector.Geometry, epochs: Int, validate: Double,
                         select: EpochSelection = .last, checkpoint: String? = nil, resume: String? = nil, plots: String? = nil) throws -> AutodecoderTrainer {
        try TrainingTests.trainer(s, data, nil, geometry, epochs: epochs, checkpoint: checkpoint, resume: resume, validate: validate, select: select, plots: plots)
    }

    private func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cryo-select-\(UUID().uuidString)").path
    }

    func testTheSplitHoldsOutASeededFraction() throws {
        let split = try ValidationSplit(images: 2000, fraction: 0.1, seed: 4)
        XCTAssertEqual(split.heldOutCount, 200)
        XCTAssertEqual(split.isHeldOut.filter { $0 }.count, 200)
        XCTAssertEqual(try ValidationSplit(images: 2000, fraction: 0.1, seed: 4).isHeldOut, split.isHeldOut, "the same seed holds out the same images")
        XCTAssertNotEqual(try ValidationSplit(images: 2000, fraction: 0.1, seed: 5).isHeldOut, split.isHeldOut)
        XCTAssertEqual(try ValidationSplit(images: 5, fraction: 0.01, seed: 0).heldOutCount, 1, "a positive fraction holds out at least one")
        XCTAssertEqual(try ValidationSplit(images: 5, fraction: 0, seed: 0).heldOutCount, 0)
        let (training, heldOut) = split.partition(Array(0..<2000))
        XCTAssertEqual(training.count, 1800)
        XCTAssertTrue(heldOut.allSatisfy { split.isHeldOut[$0] })
        for bad in [-0.1, 1, .nan] { XCTAssertThrowsError(try ValidationSplit(images: 10, fraction: bad, seed: 0)) }
        XCTAssertThrowsError(try ValidationSplit(images: 1, fraction: 0.5, seed: 0), "nothing left to train the decoder")
    }

    func testHeldOutImagesGiveTheDecoderNoGradient() throws {
        let (s, data, geometry) = try problem()
        let split = try ValidationSplit(images: data.count, fraction: 0.1, seed: 0)
        // The same dataset with every held-out image replaced by noise.
        var other = data
        let images = try XCTUnwrap(data.images)
        var pixels = images.storage, generator = SeededGenerator(seed: 99)
        let per = data.size * data.size
        for i in 0..<data.count where split.isHeldOut[i] {
            for k in 0..<per { pixels[i * per + k] = Float(generator.normal()) }
        }
        other.images = Tensor(uncheckedShape: images.shape, storage: pixels)
        func train(_ dataset: ParticleDataset, validate: Double) throws -> (decoder: [[Float]], result: AutodecoderTrainer.Result) {
            let t = try trainer(s, dataset, geometry, epochs: 2, validate: validate)
            let result = try t.run(report: { _ in }, shouldContinue: { true })
            return (t.modelParameters.map(\.storage), result)
        }
        let a = try train(data, validate: 0.1), b = try train(other, validate: 0.1)
        XCTAssertEqual(a.decoder, b.decoder, "the decoder learnt from held-out images")
        XCTAssertEqual(a.result.scale, b.result.scale)
        XCTAssertEqual(a.result.offset, b.result.offset)
        for i in 0..<data.count where !split.isHeldOut[i] {
            XCTAssertEqual(a.result.latents.storage[(4 * i)..<(4 * i + 4)], b.result.latents.storage[(4 * i)..<(4 * i + 4)], "latent of training image \(i)")
        }
        XCTAssertEqual(a.result.validationHistory.count, 2)
        XCTAssertNotEqual(a.result.validationHistory, b.result.validationHistory, "the held-out images are measured")
        XCTAssertEqual(a.result.latentSpreadHistory.count, 2)
        // The held-out latents are fitted: they move from their initial values.
        let initial = try trainer(s, data, geometry, epochs: 2, validate: 0.1).start().latents.storage
        let held = (0..<data.count).filter { split.isHeldOut[$0] }
        XCTAssertTrue(held.contains { initial[(4 * $0)..<(4 * $0 + 4)] != a.result.latents.storage[(4 * $0)..<(4 * $0 + 4)] })
        // Without the split the noise images do change the decoder (the comparison above is not vacuous).
        XCTAssertNotEqual(try train(data, validate: 0).decoder, try train(other, validate: 0).decoder)
    }

    func testEachRulePicksTheEpochItsHistorySays() throws {
        var h = TrainingHistory()
        h.loss = [5, 4, 3, 3]
        h.bondRMS = [0.1, 0.3, 0.2, 0.4]
        h.validation = [9, 7, 8, 7]
        h.latentSpread = [0.1, 0.5, 0.5, 0.2]
        XCTAssertEqual(EpochSelection.last.pick(h), 4)
        XCTAssertEqual(EpochSelection.validation.pick(h), 2, "the earliest of equal scores")
        XCTAssertEqual(EpochSelection.loss.pick(h), 3)
        XCTAssertEqual(EpochSelection.bond.pick(h), 1)
        XCTAssertEqual(EpochSelection.spread.pick(h), 2)
        XCTAssertNil(EpochSelection.oracle.pick(h), "no ground truth")
        h.validation = [.nan, 7, 8, 6]
        XCTAssertEqual(EpochSelection.validation.pick(h), 4, "a NaN never wins")
        XCTAssertThrowsError(try EpochSelection(name: "best")) { XCTAssertTrue("\($0)".contains("\"validation\""), "\($0)") }

        // A run returns the state of the epoch its rule picks: the same as a run stopped there.
        let (s, data, geometry) = try problem()
        let chosen = try trainer(s, data, geometry, epochs: 4, validate: 0.1, select: .bond).run(report: { _ in }, shouldContinue: { true })
        var recorded = TrainingHistory()
        (recorded.loss, recorded.bondRMS, recorded.validation, recorded.latentSpread) =
            (chosen.history, chosen.bondDeviationHistory, chosen.validationHistory, chosen.latentSpreadHistory)
        XCTAssertEqual(chosen.epoch, EpochSelection.bond.pick(recorded))
        XCTAssertEqual(chosen.selectedEpoch, chosen.epoch)
        for rule in EpochSelection.blind { XCTAssertEqual(chosen.picks[rule], rule.pick(recorded), "\(rule)") }
        let stopped = try trainer(s, data, geometry, epochs: chosen.epoch, validate: 0.1).run(report: { _ in }, shouldContinue: { true })
        XCTAssertEqual(chosen.conformations.storage, stopped.conformations.storage)
        XCTAssertThrowsError(try trainer(s, data, geometry, epochs: 2, validate: 0, select: .validation), "validation without held-out images")
        XCTAssertThrowsError(try trainer(s, data, geometry, epochs: 2, validate: 0, select: .oracle), "the oracle without ground truth")
    }

    func testResumingReproducesTheSelection() throws {
        let (s, data, geometry) = try problem()
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let straight = try trainer(s, data, geometry, epochs: 4, validate: 0.1, select: .validation).run(report: { _ in }, shouldContinue: { true })
        var calls = 0
        XCTAssertThrowsError(try trainer(s, data, geometry, epochs: 4, validate: 0.1, select: .validation, checkpoint: folder + "/run.ckpt")
            .run(report: { _ in }, shouldContinue: { calls += 1; return calls < 27 }))
        let resumed = try trainer(s, data, geometry, epochs: 4, validate: 0.1, select: .validation, checkpoint: folder + "/run.ckpt", resume: folder + "/run.ckpt")
            .run(report: { _ in }, shouldContinue: { true })
        XCTAssertEqual(resumed.epoch, straight.epoch)
        XCTAssertEqual(resumed.validationHistory, straight.validationHistory)
        XCTAssertEqual(resumed.latentSpreadHistory, straight.latentSpreadHistory)
        XCTAssertEqual(resumed.conformations.storage, straight.conformations.storage, "the selected state differs after resuming")
        // A checkpoint resumed under another rule or split is refused rather than silently mixed.
        XCTAssertThrowsError(try trainer(s, data, geometry, epochs: 4, validate: 0.1, select: .bond, resume: folder + "/run.ckpt")
            .run(report: { _ in }, shouldContinue: { true })) { XCTAssertTrue("\($0)".contains("select"), "\($0)") }
        XCTAssertThrowsError(try trainer(s, data, geometry, epochs: 4, validate: 0.2, select: .validation, resume: folder + "/run.ckpt")
            .run(report: { _ in }, shouldContinue: { true })) { XCTAssertTrue("\($0)".contains("validate"), "\($0)") }
    }

    func testThePlotsAreWrittenAsPNGs() throws {
        let (s, data, geometry) = try problem()
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try trainer(s, data, geometry, epochs: 2, validate: 0.1, plots: folder + "/train").run(report: { _ in }, shouldContinue: { true })
        let names = try FileManager.default.contentsOfDirectory(atPath: folder + "/train").sorted()
        XCTAssertEqual(names, ["bond_rms.png", "latent_spread.png", "loss.png", "validation.png"], "no rmsd.png without ground truth")
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/train/" + name)))
            let parts = try PNGImageTests.chunks(bytes)
            XCTAssertEqual(parts.map(\.0), ["IHDR", "IDAT", "IEND"], name)
            let (width, height) = (640, 420)
            XCTAssertEqual(Array(parts[0].1.prefix(8)), [0, 0, UInt8(width >> 8), UInt8(width & 0xFF), 0, 0, UInt8(height >> 8), UInt8(height & 0xFF)], name)
            var raw = [UInt8](repeating: 0, count: (3 * width + 1) * height)
            var length = uLongf(raw.count)
            XCTAssertEqual(uncompress(&raw, &length, parts[1].1, uLong(parts[1].1.count)), Z_OK, name)
            XCTAssertEqual(Int(length), raw.count, name)
        }
        XCTAssertThrowsError(try TrainingPlots.write(TrainingHistory(), to: "/proc/no/such/folder"))
    }
}
