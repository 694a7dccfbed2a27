import XCTest
import CryoKernels
@testable import Interpreter

/// The forward-model and data builtins from scripts, including their errors on bad input.
final class ForwardModelBuiltinTests: XCTestCase {
    private func run(_ text: String, _ interpreter: Interpreter = Interpreter()) throws -> Value {
        try interpreter.run(text, name: "t.cryo") ?? .null
    }

    private func assertError(_ text: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try run(text), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "expected '\(fragment)' in:\n\(error)", file: file, line: line)
        }
    }

    func testProjectCTFAndGradientFromScript() throws {
        let value = try run("""
        let s = toy_protein(residues: 60, seed: 0)
        let R = random_rotations(3, seed: 1)
        let img = project(s.coords, R, size: 32, pixel: 2.5, sigma: "residue", weights: "residue", like: s)
        let filtered = apply_ctf(img, ctf({defocus: 15000}, size: 32, pixel: 2.5))
        let x = param(s.coords)
        let g = grad(|| sum(project(x, R, size: 32, pixel: 2.5) ** 2), x)
        [img.shape, filtered.shape, g.shape, item(sum(img[0]))]
        """)
        guard case .list(let items) = value, case .number(let total) = items[3] else { return XCTFail("\(value)") }
        XCTAssertEqual(ValueFormatter.repr(items[0]), "[3, 32, 32]")
        XCTAssertEqual(ValueFormatter.repr(items[1]), "[3, 32, 32]")
        XCTAssertEqual(ValueFormatter.repr(items[2]), "[60, 3]")
        XCTAssertGreaterThan(total, 60 * 30 * 0.9, "residue weights are electron counts (≥ 30 each)")
    }

    /// ctf(...) of a dataset takes the dataset's grid (size, pixel), which apply_ctf then uses; a parameter record has no
    /// grid, so leaving it out is an error rather than a guess.
    func testCTFGridComesFromTheDatasetOrIsGiven() throws {
        let value = try run("""
        let s = toy_protein(residues: 40, seed: 1)
        let data = simulate(s, images: 2, size: 24, pixel: 3, snr: 1, seed: 2)
        let c = ctf(data)
        [c.image.shape, item(sum(abs(apply_ctf(data.images, c) - apply_ctf(data.images, data))))]
        """)
        guard case .list(let items) = value, case .number(let difference) = items[1] else { return XCTFail("\(value)") }
        XCTAssertEqual(ValueFormatter.repr(items[0]), "[2, 24, 24]")
        XCTAssertEqual(difference, 0, "ctf(data) filters at the dataset's pixel")
        assertError("ctf({defocus: 15000}).image", "ctf: give size: (the grid of .image and the pixel apply_ctf uses)")
        assertError("ctf({defocus: 15000}, size: 32).image", "ctf: give pixel:")
        assertError("ctf({defocus: 15000}, size: 32, pixel: 0)", "pixel")
        assertError("ctf({defocus: 15000, pixel: 1, size: 1e30}).image", "an image size in 1...4096")
    }

    /// whiten() from a script: the filter travels in the dataset's ctf record through updated() into esl; the
    /// simulation's other fields stay; a second whitening, a stack written from whitened images, a radius past the
    /// box and an empty sample are clear errors.
    func testWhitenCarriesItsFilterThroughScripts() throws {
        let interpreter = Interpreter()
        var printed: [String] = []
        interpreter.output = { printed.append($0) }
        let plot = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-noise-\(UUID().uuidString).png").path
        defer { try? FileManager.default.removeItem(atPath: plot) }
        let value = try run("""
        let s = toy_protein(residues: 40, seed: 1)
        let data = simulate(s, images: 8, size: 32, pixel: 3, snr: 0.5, seed: 2)
        let w = whiten(data, radius: 30, plot: "\(plot)")
        let u = updated(w, {rotations: data.rotations})
        let est = esl(u.images, like: s, ctf: u, grid: 0)
        [len(u.ctf.whitening.gains), u.ctf.whitening.shell_width, est.rotations.shape, w.clean.shape, item(sum((w.images - data.images) ** 2)) > 0]
        """, interpreter)
        XCTAssertEqual(ValueFormatter.repr(value), "[17, 0.0104167, [8, 3, 3], [8, 32, 32], true]")
        XCTAssertTrue(printed.contains { $0.hasPrefix("whiten: noise power per shell from 8 images varies") }, printed.joined(separator: "\n"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: plot)).prefix(4), Data([0x89, 0x50, 0x4E, 0x47]), "the noise spectrum's PNG")
        let setup = "let s = toy_protein(residues: 40, seed: 1)\nlet data = simulate(s, images: 8, size: 32, pixel: 3, snr: 0.5, seed: 2)\n"
        assertError(setup + "whiten(whiten(data, quiet: true))", "already whitened")
        assertError(setup + "write_star(\"/tmp/never.star\", whiten(data, quiet: true))", "the dataset is whitened (whiten)")
        assertError(setup + "whiten(data, radius: 100)", "leaves no background")
        assertError(setup + "whiten(data, sample: 0)", "sample: must be at least 1")
    }

    func testGeometryBuiltins() throws {
        let value = try run("""
        let R = euler(30, 60, 90)
        let back = to_euler(R)
        [back, angular_error(R, euler(30, 60, 95)), kabsch_rmsd(tensor([[0, 0, 0], [1, 0, 0], [0, 2, 0]]), tensor([[5, 5, 5], [5, 6, 5], [5, 5, 7]]))]
        """)
        guard case .list(let items) = value, case .tensor(let angles) = items[0], case .number(let error) = items[1], case .number(let rmsd) = items[2] else {
            return XCTFail("\(value)")
        }
        XCTAssertEqual(angles.storage[0], 30, accuracy: 1e-3)
        XCTAssertEqual(angles.storage[1], 60, accuracy: 1e-3)
        XCTAssertEqual(angles.storage[2], 90, accuracy: 1e-3)
        XCTAssertEqual(error, 5, accuracy: 1e-3)
        XCTAssertEqual(rmsd, 0, accuracy: 1e-4)
    }

    /// kabsch_rotation recovers the rotation that turned a point set (moved too), singly and in batches, and
    /// composing a pose with it gives the pose of the turned set in the original's place.
    func testKabschRotationRecoversATurn() throws {
        let value = try run("""
        let x = randn([30, 3], std: 5, seed: 1)
        let R = euler(30, 60, 95)
        let y = x @ transpose(R) + 5
        let one = kabsch_rotation(x, y)
        let batch = kabsch_rotation(x, stack([y, x]))
        let pose = euler(10, 20, 30)
        [angular_error(one, R), shape(batch), angular_error(batch[1], euler(0, 0, 0)),
         item(max(abs((y - mean(y, axis: 0)) @ transpose(pose) - (x - mean(x, axis: 0)) @ transpose(pose @ one))))]
        """)
        guard case .list(let items) = value, case .number(let error) = items[0], case .number(let identity) = items[2],
              case .number(let composed) = items[3] else { return XCTFail("\(value)") }
        XCTAssertEqual(error, 0, accuracy: 1e-2)
        XCTAssertEqual(ValueFormatter.repr(items[1]), "[2, 3, 3]")
        XCTAssertEqual(identity, 0, accuracy: 1e-2)
        XCTAssertEqual(composed, 0, accuracy: 1e-3)
    }

    /// global_rotation recovers a turn common to every found pose (found = truth @ G), and names both counts when
    /// the two lists differ in length.
    func testGlobalRotationRecoversACommonTurn() throws {
        let value = try run("""
        let truth = random_rotations(50, seed: 2)
        let G = euler(1, 2, -1)
        let found = truth @ G
        [angular_error(global_rotation(found, truth), G), item(max(angular_error(found, truth @ global_rotation(found, truth))))]
        """)
        guard case .list(let items) = value, case .number(let error) = items[0], case .number(let residual) = items[1] else { return XCTFail("\(value)") }
        XCTAssertEqual(error, 0, accuracy: 1e-2)
        XCTAssertEqual(residual, 0, accuracy: 1e-2)
        assertError("global_rotation(random_rotations(3, seed: 1), random_rotations(4, seed: 1))", "3 found and 4 true")
    }

    /// `read_pdb` reads mmCIF by extension; `read_cif` reads mmCIF whatever the extension.
    func testReadPdbAndReadCifReadMMCIF() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-cif-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cif = "data_t\nloop_\n_atom_site.label_atom_id\n_atom_site.label_comp_id\n_atom_site.auth_seq_id\n_atom_site.Cartn_x\n"
            + "_atom_site.Cartn_y\n_atom_site.Cartn_z\nN ALA 1 9 9 9\nCA ALA 1 1 2 3\nCA GLY 2 4 5 6\n"
        let (cifPath, txtPath) = (directory.appendingPathComponent("t.CIF").path, directory.appendingPathComponent("t.txt").path)
        try cif.write(toFile: cifPath, atomically: true, encoding: .utf8)
        try cif.write(toFile: txtPath, atomically: true, encoding: .utf8)
        let value = try run("[read_pdb(\"\(cifPath)\").coords, read_cif(\"\(txtPath)\", atoms: \"all\").coords]")
        guard case .list(let items) = value, case .tensor(let ca) = items[0], case .tensor(let all) = items[1] else { return XCTFail("\(value)") }
        XCTAssertEqual(ca.storage, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(all.shape, [3, 3])
        assertError("read_pdb(\"\(txtPath)\")", "no CA atoms found in ATOM/HETATM records")
        assertError("read_cif(\"/no/such.cif\")", "read_cif: /no/such.cif: no such file")
        assertError("read_cif(\"\(cifPath)\", atoms: \"CB\")", "\"CA\", \"backbone\" or \"all\"")
    }

    func testBadInputsGiveClearErrors() {
        assertError("project(zeros([5, 2]), random_rotations(1))", "project: argument 'coords' must be coordinates [N,3] or [B,N,3]")
        assertError("project(zeros([5, 3]), zeros([1, 3, 2]))", "project: expected rotations [B,3,3], got [1,3,2]")
        assertError("project(zeros([5, 3]), random_rotations(1), sigma: zeros([4]))", "per-atom values")
        assertError("read_pdb(\"/no/such.pdb\")", "read_pdb: /no/such.pdb: no such file")
        assertError("read_pdb(\"/no/such.pdb\", atoms: \"CB\")", "\"CA\", \"backbone\" or \"all\"")
        assertError("read_mrcs(\"/no/such.mrcs\")", "no such file")
        assertError("apply_ctf(zeros([2, 8, 8]), {voltage: 300})", "CTF parameters need 'defocus'")
        assertError("apply_ctf(zeros([2, 8, 8]), {defocus: [1, 2, 3]})", "must be a number or tensor")
        assertError("apply_ctf(zeros([2, 8, 8]), {defocus: tensor([1, 2, 3])}, pixel: 1)", "got 3 CTFs for 2 images")
        assertError("simulate(toy_protein(residues: 40), images: 4, snr: -1)", "SNR must be positive")
        assertError("simulate(zeros([0, 3]), images: 4)", "no conformations (or no atoms)")
        assertError("write_star(\"/tmp/x.star\", {rotations: zeros([2, 3, 3])})", "dataset has no field 'shifts'")
        assertError("angular_error(random_rotations(2), random_rotations(3))", "2 rotations vs 3")
        assertError("downsample(zeros([1, 8, 8]), size: 5)", "target size must be even")
    }

    func testUnitWeightFallbackWarns() throws {
        let interpreter = Interpreter()
        let warnings = Lines()
        interpreter.warningOutput = { warnings.append($0) }
        _ = try run("project(zeros([4, 3]), random_rotations(1, seed: 0), size: 16, weights: \"residue\")", interpreter)
        XCTAssertTrue(warnings.all.first?.contains("no residue names") ?? false, "\(warnings.all)")
    }
}

/// ESL from scripts: results, and clear errors on bad input.
final class PoseBuiltinTests: XCTestCase {
    private func assertError(_ text: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Interpreter().run(text, name: "t.cryo"), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "expected '\(fragment)' in:\n\(error)", file: file, line: line)
        }
    }

    func testESLReturnsPosesAndConfidence() throws {
        let value = try Interpreter().run("""
        let s = toy_protein(residues: 40, seed: 1)
        let data = simulate(s, images: 4, size: 32, pixel: 3, snr: 10, seed: 2)
        let est = esl(data.images, like: s, ctf: data, grid: 0)
        [est.rotations.shape, len(est.confidence), len(so3_grid(level: 0)), grid_coverage(level: 0, samples: 200).radius < 21]
        """)
        XCTAssertEqual(ValueFormatter.repr(value ?? .null), "[[4, 3, 3], 4, 1821, true]")
    }

    /// refine: moves each pose off the grid's mesh (8.4° at level 1) and its origin off the search's subpixel fit.
    func testESLRefinementGoesBeyondTheGrid() throws {
        let value = try Interpreter().run("""
        let s = toy_protein(residues: 120, seed: 1)
        let data = simulate(s, images: 8, size: 48, pixel: 2, snr: 10, shift: 2, seed: 2)
        let grid = esl(data.images, like: s, ctf: data, grid: 1, max_shift: 6)
        let fine = esl(data.images, like: s, ctf: data, grid: 1, max_shift: 6, refine: 20)
        fn shift_error(e) = median(sqrt(sum((e.shifts - data.shifts) * (e.shifts - data.shifts), axis: 1)))
        let g = median(angular_error(grid.rotations, data.rotations))
        let f = median(angular_error(fine.rotations, data.rotations))
        [g > 3, f < g / 2, shift_error(fine) < shift_error(grid) / 2, fine.support == grid.support, fine.argmin == grid.argmin]
        """)
        XCTAssertEqual(ValueFormatter.repr(value ?? .null), "[true, true, true, true, true]")
    }

    /// centre: "map" rotates the structure about the map's box centre, as RELION's poses do: images rendered about a
    /// point 7.8 Å from the model's centroid are found at their poses with origins near 0, where the centroid
    /// convention needs origins of several Å to make up the difference.
    func testESLRotatesAboutTheMapCentre() throws {
        let value = try Interpreter().run("""
        let s = toy_protein(residues: 60, seed: 1)
        let c = mean(s.coords, axis: 0)
        let R = random_rotations(6, seed: 3)
        let images = project(s.coords - (c + tensor([6, -4, 3])), R, size: 40, pixel: 2)
        let map = {centre: [item(c[0]) + 6, item(c[1]) - 4, item(c[2]) + 3]}
        let about_map = esl(images, like: s, pixel: 2, grid: 1, max_shift: 12, refine: 10, centre: "map", map: map)
        let about_centroid = esl(images, like: s, pixel: 2, grid: 1, max_shift: 12, refine: 10)
        fn lengths(o) = sqrt(sum(o * o, axis: 1))
        [median(angular_error(about_map.rotations, R)) < 5, median(lengths(about_map.shifts)) < 0.5, median(lengths(about_centroid.shifts)) > 3]
        """)
        XCTAssertEqual(ValueFormatter.repr(value ?? .null), "[true, true, true]")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, centre: \"middle\")", "esl: centre must be \"centroid\" or \"map\"")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, centre: \"map\")", "read_mrc(path) of the consensus map")
    }

    /// states: shared structures; without labels each image keeps the state whose search scores lowest, so images of
    /// two different conformations are sorted by conformation, and each keeps the search against its own.
    func testESLStatesSortImagesAndFindTheirPoses() throws {
        let value = try Interpreter().run("""
        let a = toy_protein(residues: 60, seed: 1)
        let both = stack([a.coords, a.coords + randn([60, 3], std: 3, seed: 5)])
        let data = simulate(both, like: a, images: 12, size: 32, pixel: 3, snr: 10, seed: 2)
        let sorted = esl(data.images, like: a, ctf: data, states: both, grid: 1)
        let told = esl(data.images, like: a, ctf: data, states: both, labels: data.conformation, grid: 1)
        let wrong = esl(data.images, like: a, ctf: data, states: both, labels: 1 - data.conformation, grid: 1)
        [item(sum(abs(sorted.state - data.conformation))), median(angular_error(sorted.rotations, data.rotations)) < 10,
         item(max(abs(sorted.loss - told.loss))) < 1e-6, item(min(wrong.loss - told.loss)) > 0]
        """)
        XCTAssertEqual(ValueFormatter.repr(value ?? .null), "[0, true, true, true]")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, states: zeros([2, 41, 3]))", "states [K,40,3]")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, states: zeros([2, 40, 3]), labels: tensor([0, 2]))",
                    "[2] state numbers from 0 to 1")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, labels: tensor([0, 0]))", "labels: numbers each image's state")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, states: zeros([1, 40, 3]), conformations: zeros([2, 40, 3]))",
                    "not both")
    }

    /// classify: "soft" averages the states' poses with their posterior weights: two identical states share each
    /// image evenly and give the hard search's poses; a wrong state gets no weight. With refine:, states are compared
    /// at their refined poses (pose_loss), which mostly score below the grid's best; without refine:, pose_loss is loss.
    func testESLSoftClassificationWeighsTheStates() throws {
        let value = try Interpreter().run("""
        let a = toy_protein(residues: 60, seed: 1)
        let other = a.coords + randn([60, 3], std: 3, seed: 5)
        let data = simulate(a, images: 8, size: 32, pixel: 3, snr: 10, seed: 2)
        let hard = esl(data.images, like: a, ctf: data, states: stack([a.coords, a.coords]), grid: 1, refine: 5)
        let twins = esl(data.images, like: a, ctf: data, states: stack([a.coords, a.coords]), grid: 1, refine: 5, classify: "soft")
        let apart = esl(data.images, like: a, ctf: data, states: stack([other, a.coords]), grid: 1, refine: 5, classify: "soft")
        let plain = esl(data.images, like: a, ctf: data, grid: 1)
        [item(max(abs(twins.state_weights - 0.5))) < 1e-6, item(max(angular_error(twins.rotations, hard.rotations))) < 1e-3,
         item(max(apart.state_weights * tensor([1, 0]))) < 1e-6, item(sum(apart.state)) == 8, shape(apart.state_weights) == [8, 2],
         item(max(abs(plain.pose_loss - plain.loss))) == 0, item(mean(hard.pose_loss < hard.loss)) > 0.5, hard.state_weights == nil]
        """)
        XCTAssertEqual(ValueFormatter.repr(value ?? .null), "[true, true, true, true, true, true, true, true]")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, classify: \"soft\")", "give states: without labels:")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, states: zeros([2, 40, 3]), labels: tensor([0, 1]), classify: \"soft\")",
                    "give states: without labels:")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, classify: \"fuzzy\")", "\"hard\" or \"soft\"")
    }

    /// `blur: b` renders every atom with width √(σ² + b²): the same search as giving that width as sigma:, per atom
    /// or for all; a blurred search scores differently; a negative blur is an error.
    func testESLBlurWidensEveryAtomsGaussian() throws {
        let value = try Interpreter().run("""
        let a = toy_protein(residues: 40, seed: 1)
        let data = simulate(a, images: 6, size: 32, pixel: 3, snr: 10, sigma: 1.5, seed: 2)
        let blurred = esl(data.images, like: a, ctf: data, grid: 0, sigma: 1.5, blur: 2)
        let wide = esl(data.images, like: a, ctf: data, grid: 0, sigma: 2.5)
        let per_atom = esl(data.images, like: a, ctf: data, grid: 0, sigma: 1.5, blur: full([40], 2))
        let sharp = esl(data.images, like: a, ctf: data, grid: 0, sigma: 1.5)
        let unblurred = esl(data.images, like: a, ctf: data, grid: 0, sigma: 1.5, blur: 0)
        [item(max(abs(blurred.loss - wide.loss))) < 1e-6, item(max(abs(per_atom.loss - wide.loss))) < 1e-6,
         item(max(abs(blurred.rotations - wide.rotations))) < 1e-6, item(max(abs(unblurred.loss - sharp.loss))) < 1e-6,
         item(max(abs(blurred.loss - sharp.loss))) > 1e-3]
        """)
        XCTAssertEqual(ValueFormatter.repr(value ?? .null), "[true, true, true, true, true]")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, blur: -1)", "widths ≥ 0 (Å)")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, blur: zeros([39]))", "per-atom values")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, blur: \"residue\")", "widths ≥ 0 (Å)")
    }

    func testESLBadInputs() {
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, refine: -1)", "refine: must be a number of steps ≥ 0")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, eta: 0.9)", "eta must lie in [1/4, 2/3]")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), pixel: 2, grid: 5)", "level must be 0, 1 or 2")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40), ctf: {defocus: tensor([1, 2, 3])}, pixel: 2, grid: 0)", "got 3 CTFs for 2 images")
        assertError("esl(zeros([2, 8, 8]), like: toy_protein(residues: 40))", "give pixel:")
        assertError("esl(zeros([8, 8]), like: toy_protein(residues: 40), pixel: 2)", "images [B,D,D]")
        assertError("esl_loss(zeros([3]))", "losses [B,Q] with Q ≥ 2")
    }

    func testESLLossIsDifferentiable() throws {
        let value = try Interpreter().run("""
        let L = param(uniform([2, 50], low: 1, high: 2, seed: 3))
        let r = gradcheck(|l| esl_loss(l), [L], eps: 1e-3, tol: 5e-2)
        r.passed
        """)
        guard case .bool(true)? = value else { return XCTFail("\(String(describing: value))") }
    }
}
