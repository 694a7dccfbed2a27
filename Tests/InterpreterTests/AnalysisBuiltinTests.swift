import XCTest
import CryoKernels
@testable import Interpreter

/// `analyze` from scripts: the returned numbers, decoding at latent points, and clear errors on bad input.
final class AnalysisBuiltinTests: XCTestCase {
    private let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-analyze-\(UUID().uuidString)").path

    /// One interpreter holding a toy dataset, a GCN and its 1-epoch training result, shared by the tests so the
    /// model is trained once.
    nonisolated(unsafe) private static let session: Interpreter = {
        let interpreter = Interpreter()
        _ = try? interpreter.run("""
        let s = toy_protein(residues: 40, seed: 1)
        let traj = anm_trajectory(s, frames: 6, modes: 2, amplitude: 3, seed: 2)
        let data = simulate(traj, images: 48, size: 32, pixel: 3, snr: 1, seed: 3)
        let model = gnn(residue_graph(s), kind: "gcn", seed: 1)
        let r = train_autodecoder(model, data, like: s, epochs: 1, batch: 16, quiet: true, seed: 5)
        """, name: "setup.cryo")
        return interpreter
    }()

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func evaluate(_ text: String) throws -> Value { try Self.session.run(text, name: "t.cryo") ?? .null }

    func testAnalyzeReturnsItsNumbersAndFiles() throws {
        var printed: [String] = []
        let output = Self.session.output
        Self.session.output = { printed.append($0) }
        defer { Self.session.output = output }
        guard case .record(let a) = try evaluate("analyze(r, data, like: s, k: 3, out: \"\(folder)\", model: model)") else { return XCTFail("not a record") }
        guard case .list(let variance)? = a["explained_variance"], case .list(let sizes)? = a["state_sizes"], case .number(let ari)? = a["ari"],
              case .string(let report)? = a["report"], case .list(let stars)? = a["state_stars"],
              case .number(let eta2)? = a["eta2"], case .number(let ariTruth)? = a["ari_truth"], case .number(let eta2Truth)? = a["eta2_truth"]
        else { return XCTFail("\(a.keys)") }
        let fractions = variance.compactMap { if case .number(let x) = $0 { return x } else { return nil } }
        XCTAssertEqual(fractions.count, 8, "one explained-variance fraction per latent dimension")
        XCTAssertEqual(fractions.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertEqual(sizes.compactMap { if case .number(let x) = $0 { return Int(x) } else { return nil } }.reduce(0, +), 48)
        XCTAssertTrue(ari.isFinite)
        XCTAssertTrue([eta2, eta2Truth].allSatisfy { (0...1).contains($0) } && ariTruth.isFinite, "the simulation's truth gives the ground-truth reference")
        XCTAssertTrue(printed.contains { $0.contains("ground truth, the same k-means on the true conformations") }, "\(printed)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: report))
        XCTAssertTrue(stars.isEmpty, "a simulated dataset has no STAR rows to subset")
        XCTAssertTrue(printed.contains { $0.contains("explained variance") } && printed.contains { $0.contains("no per-state STAR subsets") }, "\(printed)")
        guard case .list(let maps)? = a["state_maps"], case .null? = a["map_resolutions"] else { return XCTFail("state_maps, map_resolutions") }
        XCTAssertEqual(maps.count, 3, "one map per state")
        if case .string(let first)? = maps.first {
            let header = try MRCMapHeader(path: first)
            XCTAssertEqual(header.size, [32, 32, 32], "without map: the dataset's box")
            XCTAssertEqual(header.spacing, [3, 3, 3], "and pixel")
        }
    }

    /// With map: a consensus map read with its data, each state's map lies on its grid and is correlated with it: one
    /// resolution per state, state_fsc.png written and the report's Maps section filled; a map record without data
    /// gives the grid only.
    func testStateMapsOnAConsensusGridAreCorrelatedWithIt() throws {
        guard case .record(let a) = try evaluate("""
        let consensus = density_map(s, size: 24, pixel: 3.5)
        analyze(r, data, like: s, k: 3, out: "\(folder)", map: consensus)
        """), case .list(let maps)? = a["state_maps"], case .list(let resolutions)? = a["map_resolutions"] else { return XCTFail("no state maps") }
        XCTAssertEqual(maps.count, 3)
        XCTAssertEqual(resolutions.count, 3)
        for r in resolutions { if case .number(let x) = r { XCTAssertGreaterThan(x, 7, "no better than Nyquist, 2·3.5 Å") } }
        if case .string(let first)? = maps.first { XCTAssertEqual(try MRCMapHeader(path: first).size, [24, 24, 24]) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/state_fsc.png"))
        XCTAssertTrue(try String(contentsOfFile: folder + "/index.html", encoding: .utf8).contains("FSC 0.5 (Å)"))
        guard case .record(let b) = try evaluate("""
        analyze(r, data, like: s, k: 3, out: "\(folder)", map: {size: [20, 20, 20], pixel: [4, 4, 4], origin: [0, 0, 0]})
        """), case .null? = b["map_resolutions"], case .list(let gridOnly)? = b["state_maps"], case .string(let path)? = gridOnly.first else { return XCTFail("grid only") }
        XCTAssertEqual(try MRCMapHeader(path: path).origin, [0, 0, 0])
    }

    /// cluster: "conformation" runs k-means on the decoded conformations' leading principal components: k non-empty
    /// states covering every particle; any other value is a clear error.
    func testStatesCanClusterTheDecodedConformations() throws {
        guard case .record(let a) = try evaluate("analyze(r, data, like: s, k: 3, out: \"\(folder)\", cluster: \"conformation\")"),
              case .list(let sizes)? = a["state_sizes"], case .tensor(let labels)? = a["labels"] else { return XCTFail("no states") }
        XCTAssertEqual(sizes.compactMap { if case .number(let x) = $0 { return Int(x) } else { return nil } }.reduce(0, +), 48)
        XCTAssertEqual(Set(labels.storage.map { Int($0) }).count, 3)
        XCTAssertThrowsError(try evaluate("analyze(r, data, like: s, out: \"\(folder)\", cluster: \"frames\")")) { error in
            XCTAssertTrue("\(error)".contains("argument 'cluster' must be \"latent\" or \"conformation\""), "\(error)")
        }
    }

    /// `states`: each centre the mean of its members, the spread each residue's RMS deviation (per axis) of the particles
    /// from their centres, states numbered by decreasing size; bad k is a clear error.
    func testStatesAreTheMeanConformationsOfTheirMembers() throws {
        guard case .record(let a) = try evaluate("states(r.conformations, k: 3, seed: 2)"), case .tensor(let labels)? = a["labels"],
              case .tensor(let centres)? = a["centres"], case .tensor(let spread)? = a["spread"], case .list(let sizes)? = a["sizes"],
              case .tensor(let conformations) = try evaluate("r.conformations") else { return XCTFail("not the states record") }
        let m = conformations.shape[0], per = conformations.count / m
        XCTAssertEqual(centres.shape, [3, per / 3, 3])
        XCTAssertEqual(spread.shape, [per / 3])
        for residue in stride(from: 0, to: per / 3, by: 7) {
            var squares = 0.0
            for i in 0..<m {
                let state = Int(labels.storage[i])
                for axis in 0..<3 {
                    let d = Double(conformations.storage[i * per + 3 * residue + axis]) - Double(centres.storage[state * per + 3 * residue + axis])
                    squares += d * d
                }
            }
            XCTAssertEqual(Double(spread.storage[residue]), (squares / Double(3 * m)).squareRoot(), accuracy: 1e-3, "residue \(residue)")
        }
        let counts = sizes.compactMap { if case .number(let x) = $0 { return Int(x) } else { return nil } }
        XCTAssertEqual(counts.reduce(0, +), m)
        XCTAssertEqual(counts, counts.sorted(by: >), "state 0 is the most populated")
        for state in 0..<3 {
            let members = (0..<m).filter { Int(labels.storage[$0]) == state }
            XCTAssertEqual(members.count, counts[state])
            for a in stride(from: 0, to: per, by: 17) {
                let mean = members.map { Double(conformations.storage[$0 * per + a]) }.reduce(0, +) / Double(members.count)
                XCTAssertEqual(Double(centres.storage[state * per + a]), mean, accuracy: 1e-3)
            }
        }
        XCTAssertThrowsError(try evaluate("states(r.conformations, k: 49)")) { XCTAssertTrue("\($0)".contains("k must be between 1 and the 48 conformations"), "\($0)") }
        XCTAssertThrowsError(try evaluate("states(r.latents)")) { XCTAssertTrue("\($0)".contains("conformations [M,N,3]"), "\($0)") }
    }

    /// With model:, the conformation at a particle's own latent is that particle's decoded conformation.
    func testDecodingAtAParticlesLatentGivesItsConformation() throws {
        guard case .list(let v) = try evaluate("[model, r.latents, r.conformations]"), case .object(let object) = v[0], let model = object as? ModelObject,
              case .tensor(let latents) = v[1], case .tensor(let conformations) = v[2] else { return XCTFail("setup") }
        let decode = try AnalysisBuiltins.decoder(model, latents: latents, conformations: conformations)
        let per = conformations.count / latents.shape[0]
        let decoded = try decode([7, 30].map { i in (0..<latents.shape[1]).map { Double(latents.storage[i * latents.shape[1] + $0]) } })
        for (k, i) in [7, 30].enumerated() {
            let expected = conformations.storage[(i * per)..<((i + 1) * per)].map(Double.init)
            XCTAssertLessThan(zip(decoded[k], expected).map { abs($0 - $1) }.max() ?? 1, 1e-4)
        }
    }

    func testBadInputIsAClearError() {
        let cases = [
            ("analyze({latents: 1}, data, like: s, out: \"\(folder)\")", "argument 'result' must be the record train_autodecoder returns"),
            ("analyze(r, subset(data, range(0, 10)), like: s, out: \"\(folder)\")", "the dataset has 10 particles but the result 48 latents"),
            ("analyze(r, data, like: s, k: 100, out: \"\(folder)\")", "k = 100 states need 2 ≤ k ≤ 48"),
            ("analyze(r, data, like: toy_protein(residues: 50, seed: 1), out: \"\(folder)\")", "need [48, 50, 3]"),
            ("analyze(r, data, like: s, out: \"\(folder)\", model: gnn(residue_graph(toy_protein(residues: 50, seed: 1))))", "pass the model that was trained"),
        ]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try evaluate(text)) { XCTAssertTrue("\($0)".contains(fragment), "expected '\(fragment)' in:\n\($0)") }
        }
    }
}
