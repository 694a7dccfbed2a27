import XCTest

/// Every script in Scripts/ runs to completion in its quick mode (the arguments below), in one folder and in
/// name order, so `make_relion_project` lays out the RELION project that `relion_known_poses` and
/// `relion_unknown_poses` then train on, and prints its key figures within the ranges of `ScriptExpectations`.
final class ScriptsTests: XCTestCase {
    /// Quick-mode arguments per script; every script accepts `--quick` unless listed here.
    static let quickArguments: [String: [String]] = [
        "make_relion_project.cryo": ["project", "--quick"],
        "relion_known_poses.cryo": ["project", "Refine3D/job025/run_data.star", "project/template.pdb", "--quick", "--truth", "project/truth.pdb",
                                    "--map", "project/Refine3D/job025/run_class001.mrc"],
        "relion_unknown_poses.cryo": ["project", "Refine3D/job025/run_data.star", "project/template.pdb", "--quick", "--compare-poses", "--truth",
                                      "project/truth.pdb", "--noise-substitution", "12"],
    ]

    func testEveryScriptRunsAndPrintsItsFiguresInRange() throws {
        let root = BinaryLocator.packageRoot.appendingPathComponent("Scripts")
        let scripts = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".cryo") }.sorted()
        XCTAssertFalse(scripts.isEmpty)
        if try scripts.contains(where: { try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8).contains("fetch_adk") }) { try fetchAdK() }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-scripts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        try? FileManager.default.createSymbolicLink(at: work.appendingPathComponent("data"),
                                                    withDestinationURL: BinaryLocator.packageRoot.appendingPathComponent("data"))
        var outputs: [String: ScriptOutput] = [:], seconds: [String: Double] = [:]
        for name in scripts {
            let started = Date()
            let (status, output, errors) = try run(root.appendingPathComponent(name), Self.quickArguments[name] ?? ["--quick"], in: work)
            seconds[name] = Date().timeIntervalSince(started)
            XCTAssertEqual(status, 0, "\(name) failed:\n\(errors)\n\(output.suffix(2000))")
            print("ran Scripts/\(name) (\(output.utf8.count) bytes of output) in \(Int(seconds[name]!)) s")
            guard let check = ScriptExpectations.byScript[name] else {
                XCTFail("Scripts/\(name) has no figure checks: add its key printed figures to ScriptExpectations.byScript")
                continue
            }
            var checks = FigureChecks(ScriptOutput(text: output))
            check(&checks, outputs)
            for failure in checks.failures { XCTFail("Scripts/\(name) --quick: \(failure)") }
            if !checks.failures.isEmpty { print("Scripts/\(name) printed:\n\(output)") }
            outputs[name] = ScriptOutput(text: output)
        }
        if let uninterrupted = seconds["relion_unknown_poses.cryo"] { try checkContinue(in: work, uninterrupted: uninterrupted) }
    }

    /// `relion_unknown_poses.cryo --continue` after the quick run above, its last training's checkpoint deleted as if
    /// interrupted: the ESL training resumes from its finished checkpoint, round 1 takes its poses from
    /// round1_data.star and retrains, and the particles.star written is the uninterrupted run's (to the STAR's
    /// decimals: the round's poses went through the file).
    private func checkContinue(in work: URL, uninterrupted: Double) throws {
        let out = work.appendingPathComponent("out/relion_unknown")
        try FileManager.default.copyItem(at: out.appendingPathComponent("particles.star"), to: work.appendingPathComponent("uninterrupted.star"))
        try FileManager.default.removeItem(at: out.appendingPathComponent("round1.ckpt"))
        let arguments = try XCTUnwrap(Self.quickArguments["relion_unknown_poses.cryo"]) + ["--continue"]
        let started = Date()
        let (status, output, errors) = try run(BinaryLocator.packageRoot.appendingPathComponent("Scripts/relion_unknown_poses.cryo"), arguments, in: work)
        XCTAssertEqual(status, 0, "--continue failed:\n\(errors)\n\(output.suffix(2000))")
        XCTAssertTrue(output.contains("continuing esl from") && output.contains("continuing round1 with the poses and origins of"), output)
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.6 * uninterrupted,
                          "--continue must not train the ESL stage or search round 1 again (the whole run took \(Int(uninterrupted)) s)")
        try """
        let a = read_star("uninterrupted.star", project_dir: "project", stream: true)
        let b = read_star("out/relion_unknown/particles.star", project_dir: "project", stream: true)
        print("differ by", item(max(angular_error(a.rotations, b.rotations))), item(max(abs(a.shifts - b.shifts))))
        """.write(to: work.appendingPathComponent("compare.cryo"), atomically: true, encoding: .utf8)
        let compared = try run(work.appendingPathComponent("compare.cryo"), [], in: work)
        XCTAssertEqual(compared.0, 0, compared.2)
        let figures = ScriptOutput(text: compared.1).line(startingWith: "differ by")?.numbers ?? []
        XCTAssertEqual(figures.count, 2, compared.1)
        XCTAssertLessThan(figures.first ?? .nan, 1e-3, "poses (°) after --continue")
        XCTAssertLessThan(figures.last ?? .nan, 1e-4, "origins (Å) after --continue")
    }

    /// The two RELION workflows on real files from other projects' test suites (`../shared/real`), too small to train
    /// anything but with their quirks: cryoDRGN's relion31.star (5 particles of 256 px, one class, as a consensus
    /// refinement writes it) cropped to a box of 30 px, not divisible by 4; cryoJAX's starfile-written STAR (3
    /// particles of 16 px), fewer than the analysis needs. The first whitens its noise from the background beyond
    /// 150 Å (its box is 256 px at 2.806 Å). Each run ends normally and says what it left out. Skipped
    /// (visibly) without `../shared/real`; failing instead when CI=true.
    func testRELIONWorkflowsRunOnRealFiles() throws {
        let real = BinaryLocator.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/real")
        guard FileManager.default.fileExists(atPath: real.path) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("CI runs beside ../shared/real, which is missing") }
            throw XCTSkip("no ../shared/real: the real-file workflow runs need the shared fixtures beside the repository")
        }
        try fetchAdK()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-real-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let template = BinaryLocator.packageRoot.appendingPathComponent("data/adk/adk_open.pdb").path
        let scripts = BinaryLocator.packageRoot.appendingPathComponent("Scripts")

        let unknown = try run(scripts.appendingPathComponent("relion_unknown_poses.cryo"),
                              [real.appendingPathComponent("cryodrgn").path, "relion31.star", template, "--quick", "--size", "30", "--out", "unknown",
                               "--whiten", "150"], in: work)
        XCTAssertEqual(unknown.0, 0, "relion_unknown_poses.cryo on relion31.star failed:\n\(unknown.2)\n\(unknown.1.suffix(2000))")
        XCTAssertTrue(unknown.1.contains("the box of 30 px is not divisible by 4, so the ESL training's global phase runs at full size"), unknown.1)
        XCTAssertTrue(unknown.1.contains("particles.star read back: 5 particles"), unknown.1)
        XCTAssertTrue(unknown.1.contains("whiten: noise power per shell from 5 images"), unknown.1)
        XCTAssertTrue(unknown.1.contains("every particle has the same label in the STAR file's rlnClassNumber (1)"), unknown.1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("unknown/analysis/index.html").path))

        let known = try run(scripts.appendingPathComponent("relion_known_poses.cryo"),
                            [real.appendingPathComponent("cryojax").path, "test_starfile.star", template, "--quick", "--size", "16"], in: work)
        XCTAssertEqual(known.0, 0, "relion_known_poses.cryo on cryoJAX's test_starfile.star failed:\n\(known.2)\n\(known.1.suffix(2000))")
        XCTAssertTrue(known.1.contains("analysis: skipped: 3 particles are too few for 4 states"), known.1)
        let pdb = try String(contentsOf: work.appendingPathComponent("out/relion/conformations.pdb"), encoding: .utf8)
        XCTAssertEqual(pdb.split(separator: "\n").filter { $0.hasPrefix("MODEL") }.count, 3, "one model per particle")
    }

    /// The checks fail on a broken run: a NaN RMSD, an RMSD above the template's, a wrong count, a missing line.
    func testFigureChecksCatchABrokenRun() throws {
        let good = """
        data: 256 images of 120 residues at SNR 0.01 (D = 64, 2 Å/px, CTF 1–2.5 µm)
        graph: <graph: 120 nodes, 594 directed edges (119 peptide, 178 hydrogen-bond pairs; hbonds: ca-proxy)>

        template (no training)  mean RMSD 2.41219 Å
        paper GCN   params 12005  mean RMSD 2.42286 Å  median 2.51218  p90 4.24779  within 3 Å 73%  |corr(PC1, frame)| 0.113518  1 s
        matched MLP  params 12185  mean RMSD 2.4359 Å  median 2.53348  p90 4.25096  within 3 Å 73%  |corr(PC1, frame)| 0.11277  0 s
        → the GCN is ahead at this SNR
        with normalize: "pixel" (stronger chain prior): GCN 2.43045 Å, MLP 2.43581 Å → the GCN is ahead
        """
        func failures(_ text: String) throws -> [String] {
            var checks = FigureChecks(ScriptOutput(text: text))
            try XCTUnwrap(ScriptExpectations.byScript["quickstart.cryo"])(&checks, [:])
            return checks.failures
        }
        XCTAssertEqual(try failures(good), [])
        for (broken, reason) in [("mean RMSD 2.42286", "mean RMSD nan"), ("mean RMSD 2.4359", "mean RMSD 3.9"),
                                 ("120 nodes", "121 nodes"), ("→ the GCN is ahead at this SNR", "→ the MLP is ahead at this SNR"),
                                 ("median 2.51218", "median 4.5"), ("with normalize", "without")] {
            XCTAssertFalse(try failures(good.replacingOccurrences(of: broken, with: reason)).isEmpty, "\(broken) → \(reason) passed the checks")
        }
        XCTAssertEqual(ScriptOutput.numbers(in: "4.62 (2) | 1.89 / 3.31 | PC1 w^3 1e-05 -0.5"), [4.62, 2, 1.89, 3.31, 3, 1e-05, -0.5])
        XCTAssertEqual(ScriptOutput.numbers(in: "mean RMSD nan Å").map(\.isNaN), [true])
    }

    /// Runs `script` with `arguments` in `folder`; returns the exit status, standard output and standard error.
    private func run(_ script: URL, _ arguments: [String], in folder: URL) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = BinaryLocator.cryorepl
        process.arguments = [script.path] + arguments
        process.currentDirectoryURL = folder
        let errors = folder.appendingPathComponent(".stderr")
        guard FileManager.default.createFile(atPath: errors.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let out = Pipe()
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardOutput = out
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
    }

    /// Runs Scripts/fetch_adk.sh (a pip install into a private venv; a no-op once data/adk exists).
    private func fetchAdK() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [BinaryLocator.packageRoot.appendingPathComponent("Scripts/fetch_adk.sh").path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "Scripts/fetch_adk.sh failed")
    }
}
