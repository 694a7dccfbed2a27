import XCTest
import CryoKernels
@testable import Interpreter

/// The paper's experiment from scripts: parameter counts, a short run, and clear errors on bad input.
final class TrainingBuiltinTests: XCTestCase {
    private let setup = """
    let s = toy_protein(residues: 40, seed: 1)
    let traj = anm_trajectory(s, frames: 6, modes: 2, amplitude: 3, seed: 2)
    let data = simulate(traj, images: 48, size: 32, pixel: 3, snr: 1, seed: 3)
    let g = residue_graph(s)
    let model = gnn(g, kind: "gcn", seed: 1)
    """

    private func run(_ text: String, _ interpreter: Interpreter = Interpreter()) throws -> Value {
        try interpreter.run(setup + "\n" + text, name: "t.cryo") ?? .null
    }

    private func assertError(_ text: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try run(text), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "expected '\(fragment)' in:\n\(error)", file: file, line: line)
        }
    }

    /// A template fitted into a consensus map rotates about the map's box centre: the same template moved so that
    /// its centroid sits at the centre of a 32-voxel, 3 Å map trains exactly as the centred template does.
    func testTemplateFittedIntoAMapRotatesAboutTheBoxCentre() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-map-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let value = try run("""
        let placed = s.models[0] - mean(s.models[0], axis: 0) + 48
        write_pdb("\(folder)/fitted.pdb", placed, like: s)
        let fitted = read_pdb("\(folder)/fitted.pdb")
        let a = train_autodecoder(model, data, like: s, epochs: 2, batch: 16, quiet: true, seed: 5)
        let b = train_autodecoder(gnn(g, kind: "gcn", seed: 1), data, like: fitted, epochs: 2, batch: 16, quiet: true, seed: 5, centre: "map", map: {box: 32, pixel: 3})
        [a.history, b.history, a.rmsd_mean, b.rmsd_mean]
        """)
        guard case .list(let v) = value, case .list(let a) = v[0], case .list(let b) = v[1], case .number(let ra) = v[2], case .number(let rb) = v[3] else {
            return XCTFail("\(value)")
        }
        for (x, y) in zip(a, b) {
            guard case .number(let x) = x, case .number(let y) = y else { return XCTFail() }
            XCTAssertEqual(x, y, accuracy: 1e-3 * abs(x))
        }
        XCTAssertEqual(ra, rb, accuracy: 1e-3)
        assertError("train_autodecoder(model, data, like: s, epochs: 1, centre: \"map\")", "argument 'map' must be read_mrc(path) of the consensus map")
        var warnings: [String] = []
        let interpreter = Interpreter()
        interpreter.warningOutput = { warnings.append($0) }
        _ = try run("train_autodecoder(model, data, like: s, epochs: 1, quiet: true, centre: \"map\", map: {box: 64, pixel: 3})", interpreter)
        XCTAssertTrue(warnings.contains { $0.contains("parts of it leave the image for some poses") }, "\(warnings)")
    }

    /// The conformations a training returns lie where its template lies, not about the rotation centre: written as a
    /// PDB they overlay the template (and, with centre: "map", the map it was fitted into).
    func testConformationsComeBackInTheTemplatesCoordinates() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-frame-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let value = try run("""
        write_pdb("\(folder)/fitted.pdb", s.models[0] - mean(s.models[0], axis: 0) + tensor([40, 52, 47]), like: s)
        let fitted = read_pdb("\(folder)/fitted.pdb")
        let a = train_autodecoder(model, data, like: s, epochs: 1, batch: 16, quiet: true, seed: 5)
        let b = train_autodecoder(gnn(g, kind: "gcn", seed: 1), data, like: fitted, epochs: 1, batch: 16, quiet: true, seed: 5, centre: "map", map: {box: 32, pixel: 3})
        fn offset(r, structure) = item(max(abs(mean(mean(r.conformations, axis: 0), axis: 0) - mean(structure.models[0], axis: 0))))
        [offset(a, s), offset(b, fitted), item(max(abs(mean(fitted.models[0], axis: 0) - mean(s.models[0], axis: 0))))]
        """)
        guard case .list(let v) = value, v.count == 3, case .number(let a) = v[0], case .number(let b) = v[1], case .number(let apart) = v[2] else {
            return XCTFail("\(value)")
        }
        XCTAssertGreaterThan(apart, 30, "the fitted template must lie far from the original for the test to tell the frames apart")
        // An untrained decoder moves a conformation by about 1 Å; the wrong frame would put it 40–50 Å away.
        XCTAssertLessThan(a, 3, "the conformations' mean centroid lies \(a) Å from the template's")
        XCTAssertLessThan(b, 3, "with centre: \"map\" the conformations' mean centroid lies \(b) Å from the fitted template's")
    }

    func testShortRunReportsEveryMetric() throws {
        let value = try run("train_autodecoder(model, data, like: s, epochs: 2, batch: 16, quiet: true)")
        guard case .record(let r) = value else { return XCTFail("\(value)") }
        for key in ["latents", "conformations", "history", "rmsd_history", "bond_rms_history", "rmsd_mean", "rmsd_median", "rmsd_p90", "rmsd_template",
                    "frac_within_3A", "latent_pc1_corr", "seconds", "best_epoch"] {
            XCTAssertNotNil(r[key], "missing \(key)")
        }
        guard case .tensor(let c)? = r["conformations"] else { return XCTFail() }
        XCTAssertEqual(c.shape, [48, 40, 3])
    }

    func testWithGroundTruthTheRuleIsReportedBesideTheOracle() throws {
        let value = try run("train_autodecoder(model, data, like: s, epochs: 3, batch: 16, quiet: true, validate: 0.25, select: \"bond\")")
        func number(_ v: Value?) -> Double? { if case .number(let x)? = v { x } else { nil } }
        guard case .record(let r) = value, case .list(let rmsd)? = r["rmsd_history"], case .list(let validation)? = r["validation_history"],
              case .list(let spread)? = r["latent_spread_history"], let selected = number(r["selected_epoch"]),
              let best = number(r["best_epoch"]), case .record(let picks)? = r["picks"], case .tensor(let heldOut)? = r["held_out"] else { return XCTFail("\(value)") }
        XCTAssertEqual(heldOut.shape, [48])
        XCTAssertEqual(heldOut.storage.filter { $0 == 1 }.count, 12, "validate: 0.25 holds out a quarter of the 48 images")
        XCTAssertEqual(heldOut.storage.filter { $0 == 0 }.count, 36)
        XCTAssertEqual(validation.count, 3)
        XCTAssertEqual(spread.count, 3)
        XCTAssertEqual(number(picks["bond"]), selected)
        XCTAssertEqual(number(picks["oracle"]), best, "with ground truth the oracle's epoch is returned")
        XCTAssertEqual(number(r["rmsd_selected"]), number(rmsd[Int(selected) - 1]))
        XCTAssertEqual(try XCTUnwrap(number(r["rmsd_mean"])), try XCTUnwrap(number(rmsd[Int(best) - 1])), accuracy: 1e-6)
    }

    func testUnknownPosesReportPoseErrorsEveryEpoch() throws {
        let value = try run("train_autodecoder(model, data, like: s, epochs: 2, batch: 16, quiet: true, poses: \"esl\", candidates: 16, schedule: \"one_cycle\")")
        guard case .record(let r) = value, case .list(let medians)? = r["pose_error_median"], case .tensor(let poses)? = r["poses"],
              case .number(let initial)? = r["pose_error_initial_median"] else { return XCTFail("\(value)") }
        XCTAssertEqual(medians.count, 2)
        XCTAssertEqual(poses.shape, [48, 3, 3])
        // A 40-residue chain in 32-pixel images says little about its orientation (full-grid ESL: median 23°), but
        // far more than chance (a uniformly random rotation is a median 126° away).
        XCTAssertLessThan(initial, 60)
        guard case .number(let last) = medians[1] else { return XCTFail() }
        XCTAssertLessThan(last, 60)
    }

    func testUnknownShiftsAreSearchedAndGivenShiftsRefined() throws {
        let value = try run("""
        let shifted = simulate(traj, images: 48, size: 32, pixel: 3, snr: 1, shift: 3, seed: 3)
        let unknown = train_autodecoder(model, shifted, like: s, epochs: 2, batch: 16, quiet: true, poses: "esl", candidates: 12, max_shift: 9,
                                        research: 1, centroids: 2, refine: 2)
        let known = train_autodecoder(gnn(g, kind: "gcn", seed: 1), shifted, like: s, epochs: 1, batch: 16, quiet: true, refine_shifts: true)
        let est = esl(shifted.images, like: s, ctf: shifted, grid: 1, max_shift: 9)
        [unknown.shift_error_median, unknown.shift_error_initial_median, shape(unknown.shifts), shape(known.shifts),
         median(norm(known.shifts - shifted.shifts, axis: 1)), median(norm(est.shifts - shifted.shifts, axis: 1)), unknown.pose_error_median]
        """)
        guard case .list(let parts) = value, case .list(let shiftErrors) = parts[0], case .number(let initial) = parts[1],
              case .list(let unknownShape) = parts[2], case .list(let knownShape) = parts[3], case .number(let refined) = parts[4],
              case .number(let searched) = parts[5], case .list(let poseErrors) = parts[6] else { return XCTFail("\(value)") }
        print("train_autodecoder with unknown shifts: initial shift error \(initial) Å, per epoch \(shiftErrors); refined given shifts \(refined) Å; esl \(searched) Å")
        XCTAssertEqual(shiftErrors.count, 2)
        XCTAssertEqual(poseErrors.count, 2)
        func numbers(_ list: [Value]) -> [Double] { list.compactMap { if case .number(let x) = $0 { x } else { nil } } }
        XCTAssertEqual(numbers(unknownShape), [48, 2])
        XCTAssertEqual(numbers(knownShape), [48, 2])
        // Shifts of std 3 Å in 3 Å pixels: found to a fraction of a pixel by the search; given exactly, refining them
        // against the decoder's first conformations (not yet the truth) keeps them within half a pixel.
        XCTAssertLessThan(initial, 1.5)
        XCTAssertLessThan(searched, 1.5)
        XCTAssertLessThan(refined, 1.5)
    }

    func testStreamedImagesTrainLikeImagesInMemory() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-stream-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let value = try run("""
        write_mrcs("\(folder)/p.mrcs", data.images, pixel: 3)
        write_star("\(folder)/p.star", data, stack: "p.mrcs")
        let streamed = read_star("\(folder)/p.star", stream: true)
        let loaded = read_star("\(folder)/p.star")
        fn fit(d) = train_autodecoder(gnn(g, kind: "gcn", seed: 1), d, like: s, epochs: 2, batch: 16, quiet: true, seed: 5).history
        [fit(streamed), fit(loaded), type(streamed.images), streamed.images.count, sum(streamed.images.load([3, 4]) - loaded.images[3..5])]
        """)
        guard case .list(let parts) = value, case .list(let a) = parts[0], case .list(let b) = parts[1] else { return XCTFail("\(value)") }
        XCTAssertEqual(a.count, 2)
        for (x, y) in zip(a, b) {
            guard case .number(let u) = x, case .number(let v) = y else { return XCTFail() }
            XCTAssertEqual(u, v, "streamed and in-memory training differ")
        }
        guard case .string(let kind) = parts[2], case .number(let count) = parts[3], case .tensor(let difference) = parts[4] else { return XCTFail() }
        XCTAssertEqual(kind, "image_stack")
        XCTAssertEqual(count, 48)
        XCTAssertEqual(difference.storage[0], 0)
    }

    /// Particles whose contrast is the opposite of RELION's (black on white) correlate negatively with the model's
    /// renderings: read as they are, the learnt image scale goes negative and train_autodecoder says so, naming
    /// read_star(..., invert: true); read with it, the scale is positive and nothing is said.
    func testInvertedContrastIsNamedAndRead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-invert-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var warnings: [String] = []
        let interpreter = Interpreter()
        interpreter.warningOutput = { warnings.append($0) }
        let value = try run("""
        write_mrcs("\(folder)/black.mrcs", -data.images, pixel: 3)
        write_star("\(folder)/black.star", data, stack: "black.mrcs")
        fn scale(d) = train_autodecoder(gnn(g, kind: "gcn", seed: 1), d, like: s, epochs: 1, batch: 16, quiet: true, seed: 5).scale
        [scale(read_star("\(folder)/black.star")), scale(read_star("\(folder)/black.star", invert: true)), scale(data)]
        """, interpreter)
        guard case .list(let v) = value, case .number(let asRead) = v[0], case .number(let inverted) = v[1], case .number(let original) = v[2] else {
            return XCTFail("\(value)")
        }
        XCTAssertLessThan(asRead, 0)
        XCTAssertGreaterThan(inverted, 0)
        XCTAssertEqual(inverted, original, accuracy: 1e-3 * abs(original), "inverting the CTF undoes the inverted images")
        XCTAssertEqual(warnings.filter { $0.contains("learnt image scale is negative") && $0.contains("read_star(..., invert: true)") }.count, 1, "\(warnings)")
    }

    func testMatchedBaselineAndParameterCount() throws {
        guard case .list(let counts) = try run("[model.parameter_count, mlp(like: model).parameter_count]"),
              case .number(let gcn) = counts[0], case .number(let baseline) = counts[1] else { return XCTFail() }
        XCTAssertEqual(gcn, Double(72 + 8 * 400 + 400 + 1100 + 33))
        XCTAssertLessThan(abs(baseline - gcn) / gcn, 0.05)
    }

    func testBadInputs() {
        assertError("train_autodecoder(gnn(residue_graph(toy_protein(residues: 50)), seed: 1), data, like: s, epochs: 1)",
                    "the model has 50 nodes but the template has 40 residues")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, latents: zeros([10, 8]))",
                    "the latent table has shape [10,8] but the dataset needs one 8-dimensional latent for each of its 48 images")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, reg: {bonds: 1})", "unknown regulariser 'bonds'")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"guess\")", "poses must be \"known\" or \"esl\", got \"guess\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, schedule: \"cosine\")", "schedule must be \"warmup\" or \"one_cycle\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"esl\", grid: 0)", "coarse-to-fine needs grid level 1 or 2")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"esl\", candidates: 1)", "candidates must be at least 2")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, max_shift: 6)", "max_shift: applies to poses: \"esl\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, research: 2)", "research: applies to poses: \"esl\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, centroid_choices: 2)", "centroid_choices: applies to poses: \"esl\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"esl\", centroids: 2, centroid_choices: 3)",
                    "centroid_choices must be between 1 and centroids (2), got 3")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, gauge: \"translation\")", "gauge: applies to poses: \"esl\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, half_size: true)", "half_size: applies to poses: \"esl\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"esl\", half_size: true)", "needs a local phase at full size")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, research_shifts: true)", "research_shifts: applies to poses: \"esl\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"esl\", research_shifts: true)", "needs max_shift: > 0")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"esl\", research: 0, research_shifts: true)", "research: 0 has none")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, local_poses: \"fixed\")", "local_poses: applies to poses: \"esl\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"esl\", local_poses: \"fixed\")", "local: 0 has none")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"esl\", local: 1, local_poses: \"frozen\")", "\"esl\", \"refine\" or \"fixed\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"esl\", gauge: \"none\")", "gauge: must be \"rigid\" or \"translation\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"esl\", max_shift: -1)", "must not be negative")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, poses: \"esl\", max_shift: 60)", "more than the 32-pixel box allows")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, refine_shifts: true, refine: 0)", "needs refine: ≥ 1 steps")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, normalize: \"mean\")", "\"particle\" or \"pixel\"")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, select: \"best\")", "select must be one of")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, validate: 1)", "validate must be a fraction in [0, 1)")
        assertError("train_autodecoder(model, data, like: s, epochs: 1, select: \"validation\")", "needs held-out images")
        assertError("gnn(g, kind: \"mpnn\")", "needs like: the template structure")
        assertError("gnn(g, kind: \"transformer\")", "\"gcn\", \"mpnn\" or \"egnn\"")
        assertError("train_autodecoder(model, {images: zeros([2, 8, 8])}, like: s)", "dataset has no field 'rotations'")
    }

    func testTemplateWithoutResidueNamesFallsBackWithAWarning() throws {
        let interpreter = Interpreter()
        let warnings = Lines()
        interpreter.warningOutput = { warnings.append($0) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-unk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pdb = (1...12).map { i in
            "ATOM  \(String(format: "%5d", i))  CA  UNK A\(String(format: "%4d", i))    \(String(format: "%8.3f%8.3f%8.3f", Double(i) * 3.8, 0.0, 0.0))  1.00  0.00           C"
        }.joined(separator: "\n")
        try pdb.write(to: dir.appendingPathComponent("unk.pdb"), atomically: true, encoding: .utf8)
        _ = try interpreter.run("""
        let u = read_pdb("\(dir.path)/unk.pdb")
        let d = simulate(u, images: 8, size: 32, pixel: 3, snr: 1)
        train_autodecoder(gnn(residue_graph(u)), d, like: u, epochs: 1, quiet: true)
        """)
        XCTAssertTrue(warnings.all.contains { $0.contains("no residue names for all 12 atoms; using weights 1") }, "\(warnings.all)")
    }
}
