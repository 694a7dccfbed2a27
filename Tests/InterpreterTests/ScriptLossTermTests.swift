import XCTest
import CryoKernels
@testable import Interpreter

/// Loss terms written in the language for `train_autodecoder`: `reg: {name: {weight, term, count}}` and `data:`.
final class ScriptLossTermTests: XCTestCase {
    /// 48 images of a 40-residue protein, the paper's GCN, and the bond term written in the language exactly as the
    /// kernel computes it (consecutive distances against the template's, squared, averaged over bonds and batch).
    private let setup = """
    let s = toy_protein(residues: 40, seed: 1)
    let traj = anm_trajectory(s, frames: 6, modes: 2, amplitude: 3, seed: 2)
    let data = simulate(traj, images: 48, size: 32, pixel: 3, snr: 1, seed: 3)
    let g = residue_graph(s)
    fn consecutive(x) {
      let n = shape(x)[1]
      norm(slice(x, 1, n, axis: 1) - slice(x, 0, n - 1, axis: 1), axis: -1)
    }
    fn bond_term(x, ctx) = mean((consecutive(x) - consecutive(reshape(ctx.template, [1, 40, 3]))) ** 2)
    fn fit(reg, data_term = nil, normalize = "particle", poses = "known", refine = 3) {
      train_autodecoder(gnn(g, kind: "gcn", seed: 1), data, like: s, epochs: 2, batch: 16, quiet: true, seed: 5, reg: reg, data: data_term,
                        normalize: normalize, poses: poses, candidates: 8, refine: refine)
    }
    """

    /// The bond term written in the language trains exactly as the built-in one: the same values and gradients,
    /// weighted by the same count (N − 1 bonds) under both normalisations.
    func testAScriptTermTrainsAsTheSameBuiltInTerm() throws {
        for normalize in ["particle", "pixel"] {
            let runs = try histories(try run("""
            [fit({bond: 20}, nil, "\(normalize)"), fit({bond: 0, mine: {weight: 20, term: bond_term, count: 39}}, nil, "\(normalize)"),
             fit({bond: 0}, nil, "\(normalize)")]
            """))
            assertClose(runs[1], runs[0], relative: 1e-5, "script against built-in bond, \(normalize)")
            XCTAssertGreaterThan(zip(runs[2], runs[0]).map { abs($0 - $1) / abs($1) }.max() ?? 0, 1e-3, "the bond term must matter for the comparison to mean something")
        }
    }

    /// `count` is what the particle normalisation multiplies the term's mean by (weight w with count c is weight w·c
    /// with count 1), and the pixel normalisation ignores it; the default is N, the residues.
    func testTheCountScalesTheTermOnlyUnderTheParticleNormalisation() throws {
        let particle = try histories(try run("""
        [fit({bond: 0, mine: {weight: 1e-2, term: bond_term, count: 8}}), fit({bond: 0, mine: {weight: 8e-2, term: bond_term, count: 1}}),
         fit({bond: 0, mine: {weight: 1e-2, term: bond_term}}), fit({bond: 0, mine: {weight: 1e-2, term: bond_term, count: 40}})]
        """))
        assertClose(particle[1], particle[0], relative: 1e-5, "w = 0.01, c = 8 against w = 0.08, c = 1")
        XCTAssertEqual(particle[2], particle[3], "the default count is the template's 40 residues")
        let pixel = try histories(try run("""
        [fit({bond: 0, mine: {weight: 1e-2, term: bond_term, count: 8}}, nil, "pixel"), fit({bond: 0, mine: {weight: 1e-2, term: bond_term, count: 1}}, nil, "pixel")]
        """))
        XCTAssertEqual(pixel[0], pixel[1], "the pixel normalisation keeps the mean")
    }

    /// ctx carries the batch's latents and indices, the centred template and its residue graph; the gradient of a
    /// term that reads only the latents reaches them (a pull of every latent towards zero makes the spread fall).
    func testContextAndGradientsThroughTheLatents() throws {
        let value = try run("""
        fn shrink(x, ctx) {
          assert(shape(ctx.latents) == [16, 8], "latents " + str(shape(ctx.latents)))
          assert(shape(ctx.indices) == [16] and item(max(ctx.indices)) < 48, "indices")
          assert(shape(ctx.template) == [40, 3] and abs(item(sum(ctx.template))) < 1e-2, "the template is centred")
          assert(ctx.graph.nodes == 40, "graph")
          mean(ctx.latents ** 2)
        }
        [fit({}).latent_spread_history, fit({shrink: {weight: 1e2, term: shrink, count: 8}}).latent_spread_history]
        """)
        guard case .list(let runs) = value else { return XCTFail("\(value)") }
        let free = try numbers(runs[0]), pulled = try numbers(runs[1])
        // Adam moves each latent by about the learning rate per step (1e-4 to 2e-4 in this warm-up), so two epochs of a
        // pull that dominates every latent's gradient shrink the spread by a few 1e-4, against ~1e-5 without it.
        XCTAssertLessThan(pulled[1], free[1] - 1e-4, "a strong pull towards zero must shrink the latents (\(pulled) against \(free))")
        XCTAssertLessThan(pulled[1], pulled[0] - 1e-4)
    }

    /// A script data term `(r - y) ** 2` per pixel is the image MSE: known poses give the built-in's histories, and
    /// with poses: "esl" the per-candidate losses inside the ESL expectation equal the fused scores. The ESL runs do
    /// not refine poses: refinement descends from each barycentre, and in these unconverged 2-epoch runs (median pose
    /// error near 40° over 48 images) the last-digit differences of the two scores send a few images to other
    /// minima, which moved the median by 2.4° when the projector's backward changed its order of summation.
    func testScriptDataTermsReproduceTheBuiltInDataTerms() throws {
        let known = try histories(try run("[fit({}), fit({}, |r, y, ctx| (r - y) ** 2), fit({}, {term: |r, y, ctx| mean((r - y) ** 2, axis: -1) |> mean(axis: -1), count: 1024})]"))
        assertClose(known[1], known[0], relative: 1e-5, "per-pixel script data term against the image MSE")
        assertClose(known[2], known[0], relative: 1e-5, "per-rendering script data term with count D² against the image MSE")
        let value = try run("""
        fn seen(r, y, ctx) {
          assert(ctx.candidates == 8 and shape(r) == [128, 32, 32] and shape(y) == [128, 32, 32], "ESL renderings " + str(shape(r)))
          (r - y) ** 2
        }
        let a = fit({}, nil, "particle", "esl", 0)
        let b = fit({}, seen, "particle", "esl", 0)
        [a, b]
        """)
        guard case .list(let runs) = value, case .record(let a) = runs[0], case .record(let b) = runs[1] else { return XCTFail("\(value)") }
        assertClose(try numbers(b["history"]), try numbers(a["history"]), relative: 2e-3, "ESL with the script's scores against the fused op")
        let (poseA, poseB) = (try numbers(a["pose_error_median"]), try numbers(b["pose_error_median"]))
        XCTAssertEqual(poseA.count, 2)
        for (x, y) in zip(poseA, poseB) { XCTAssertEqual(x, y, accuracy: 1, "median pose errors (degrees)") }
    }

    /// Interrupted inside a script term (which checks the interrupt flag as every script call does), training writes
    /// its checkpoint; resuming from it gives the uninterrupted run bit for bit.
    func testScriptTermsCheckpointAndResume() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-script-term-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let call = "train_autodecoder(gnn(g, kind: \"gcn\", seed: 1), data, like: s, epochs: 2, batch: 16, quiet: true, seed: 5, checkpoint: \"\(folder)/c.ckpt\", reg: {mine: {weight: 1e-2, term: bond_term}}, data: |r, y, ctx| (r - y) ** 2"
        guard case .record(let straight) = try run(call + ")") else { return XCTFail() }
        let interrupted = Interpreter(), checks = Counter()
        try interrupted.run(setup, name: "t.cryo")
        interrupted.shouldInterrupt = { checks.increment() > 60 }
        XCTAssertThrowsError(try interrupted.run(call + ")", name: "t.cryo")) { error in
            XCTAssertTrue("\(error)".contains("training interrupted at epoch"), "\(error)")
        }
        guard case .record(let resumed) = try run(call + ", resume: \"\(folder)/c.ckpt\")") else { return XCTFail() }
        XCTAssertEqual(try numbers(resumed["history"]), try numbers(straight["history"]))
        guard case .tensor(let a)? = resumed["latents"], case .tensor(let b)? = straight["latents"] else { return XCTFail() }
        XCTAssertEqual(a.storage, b.storage, "latents differ after resuming")
    }

    func testBadScriptTermsAreClearErrors() {
        func assertError(_ text: String, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try run(text), line: line) { error in
                XCTAssertTrue("\(error)".contains(fragment), "expected '\(fragment)' in:\n\(error)", line: line)
            }
        }
        assertError("fit({bonds: 1})", "unknown regulariser 'bonds' (built in: bond, centroid, angle, log_distance, all_pairs, clash, latent, window, decay, clash_min")
        assertError("fit({bond: {weight: 1, term: bond_term}})", "reg.bond is built in and takes a number")
        assertError("fit({mine: {weight: 1}})", "reg.mine.term is missing")
        assertError("fit({mine: {weight: 1, term: 3}})", "reg.mine.term must be a function")
        assertError("fit({mine: {weight: 1, term: bond_term, count: 0}})", "reg.mine.count must be above 0")
        assertError("fit({mine: {weight: 1, term: bond_term, scale: 2}})", "reg.mine has an unknown field 'scale'")
        assertError("fit({mine: \"big\"})", "reg.mine must be a number")
        assertError("fit({window: 0, log_distance: 1})", "reg.window must be a whole number ≥ 1")
        assertError("fit({mine: {weight: 1, term: |x, ctx| x}})", "reg.mine's term must return a one-element tensor")
        assertError("fit({mine: {weight: 1, term: |x, ctx| sum(x) / 0}})", "the reg.mine term became")
        assertError("fit({}, |r, y, ctx| mean(r))", "it must give one loss per rendering, [16], or one per pixel, [16,32,32]")
        assertError("fit({}, |r, y, ctx| \"loss\")", "the data term must return a tensor of losses")
        assertError("fit({}, {term: |r, y, ctx| r, count: -1})", "data.count must be above 0")
    }

    /// `log_distance_loss(all_pairs: true)` is the unweighted mean over every pair; the windowed form with a
    /// window past the chain still weighs pairs by their separation, so the two differ.
    func testLogDistanceBuiltinAllPairs() throws {
        guard case .list(let v) = try run("""
        let x = traj.models[3]
        [log_distance_loss(x, like: s, all_pairs: true), log_distance_loss(x, like: s, window: 100), log_distance_loss(x, like: s)]
        """), case .tensor(let all) = v[0], case .tensor(let wide) = v[1] else { return XCTFail() }
        XCTAssertGreaterThan(all.storage[0], 0)
        XCTAssertNotEqual(all.storage[0], wide.storage[0])
    }

    private func run(_ text: String, _ interpreter: Interpreter = Interpreter()) throws -> Value {
        try interpreter.run(setup + "\n" + text, name: "t.cryo") ?? .null
    }

    private func numbers(_ value: Value?) throws -> [Double] {
        guard case .list(let items)? = value else { throw ScriptFailure(message: "not a list: \(String(describing: value))") }
        return try items.map { v in
            guard case .number(let x) = v else { throw ScriptFailure(message: "not a number: \(v)") }
            return x
        }
    }

    private func histories(_ value: Value) throws -> [[Double]] {
        guard case .list(let runs) = value else { throw ScriptFailure(message: "\(value)") }
        return try runs.map { run in
            guard case .record(let r) = run else { throw ScriptFailure(message: "\(run)") }
            return try numbers(r["history"]) + numbers(r["rmsd_history"])
        }
    }

    private func assertClose(_ a: [Double], _ b: [Double], relative: Double, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: relative * Swift.max(abs(x), abs(y)), message, file: file, line: line) }
    }
}
