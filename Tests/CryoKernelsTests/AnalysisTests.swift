import XCTest
@testable import CryoKernels

/// The latent-analysis kernels: k-means, t-SNE, the adjusted Rand index, the states' agreement with true frames
/// and its ground-truth reference, the DCD writer and the whole analysis on a small synthetic result.
final class AnalysisTests: XCTestCase {
    /// `count` points around each of `centres` (Gaussian, σ = `spread`), row-major, with their cluster labels.
    private func blobs(_ centres: [[Double]], count: Int, spread: Double, seed: UInt64) -> (rows: [Float], labels: [Int]) {
        var g = SeededGenerator(seed: seed)
        var rows: [Float] = [], labels: [Int] = []
        for i in 0..<(count * centres.count) {
            let c = i % centres.count
            rows += centres[c].map { Float($0 + spread * g.normal()) }
            labels.append(c)
        }
        return (rows, labels)
    }

    func testKMeansRecoversSeparatedClustersDeterministically() throws {
        let centres = [[0.0, 0, 0, 0], [10, 0, 0, 0], [0, 10, 0, 0], [0, 0, 10, 5]]
        let (rows, labels) = blobs(centres, count: 40, spread: 1, seed: 1)
        let fit = try KMeans.fit(rows, dimension: 4, k: 4, seed: 7)
        for seed in 0..<20 as Range<UInt64> {
            XCTAssertEqual(try AdjustedRandIndex.score(try KMeans.fit(rows, dimension: 4, k: 4, seed: seed).labels, labels), 1, accuracy: 1e-12, "seed \(seed)")
        }
        XCTAssertEqual(try AdjustedRandIndex.score(fit.labels, labels), 1, accuracy: 1e-12)
        for centre in fit.centres { XCTAssertLessThan(centres.map { KMeans.squaredDistance($0, centre) }.min() ?? 99, 0.25) }
        let again = try KMeans.fit(rows, dimension: 4, k: 4, seed: 7)
        XCTAssertEqual(again.labels, fit.labels)
        XCTAssertEqual(again.centres, fit.centres)
        XCTAssertEqual(Set(fit.labels.map { l in fit.labels.filter { $0 == l }.count }), [40])
        XCTAssertThrowsError(try KMeans.fit(rows, dimension: 4, k: 200, seed: 1)) { XCTAssertTrue("\($0)".contains("k = 200"), "\($0)") }
        XCTAssertThrowsError(try KMeans.fit([1, 2, 3], dimension: 2, k: 1, seed: 1))
    }

    func testTSNEKeepsSeparatedClustersApart() throws {
        let centres = [[0.0, 0, 0, 0, 0], [8, 0, 0, 0, 0], [0, 8, 0, 0, 0]]
        let (rows, labels) = blobs(centres, count: 30, spread: 1, seed: 2)
        let tsne = try TSNE.embed(rows, dimension: 5, iterations: 500)
        XCTAssertEqual(tsne.rows, Array(0..<90))
        let embedded = tsne.embedding.flatMap { $0.map(Float.init) }
        let clusters = try KMeans.fit(embedded, dimension: 2, k: 3, seed: 1)
        XCTAssertEqual(try AdjustedRandIndex.score(clusters.labels, labels), 1, accuracy: 1e-12, "the three blobs stay separate in 2-D")
        let again = try TSNE.embed(rows, dimension: 5, iterations: 500)
        XCTAssertEqual(again.embedding, tsne.embedding, "PCA initialisation makes t-SNE deterministic")
        let sub = try TSNE.embed(rows, dimension: 5, iterations: 50, maxPoints: 40)
        XCTAssertEqual(sub.rows, Array(stride(from: 0, to: 90, by: 3)), "above maxPoints every ⌈M/max⌉-th row is embedded")
    }

    func testAdjustedRandIndexMatchesKnownValues() throws {
        // scikit-learn's adjusted_rand_score documentation examples, checked by hand from the contingency tables.
        XCTAssertEqual(try AdjustedRandIndex.score([0, 0, 1, 1], [0, 0, 1, 1]), 1, accuracy: 1e-12)
        XCTAssertEqual(try AdjustedRandIndex.score([0, 0, 1, 1], [1, 1, 0, 0]), 1, accuracy: 1e-12)
        XCTAssertEqual(try AdjustedRandIndex.score([0, 0, 1, 2], [0, 0, 1, 1]), 4.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(try AdjustedRandIndex.score([0, 0, 1, 1], [0, 0, 1, 2]), 4.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(try AdjustedRandIndex.score([0, 0, 0, 0], [0, 1, 2, 3]), 0, accuracy: 1e-12)
        XCTAssertEqual(try AdjustedRandIndex.score([0, 0, 1, 1], [0, 1, 0, 1]), -0.5, accuracy: 1e-12)
        XCTAssertEqual(try AdjustedRandIndex.score([3], [7]), 1)
        XCTAssertThrowsError(try AdjustedRandIndex.score([0, 1], [0]))
    }

    func testStateAgreementScoresKnownLabellings() throws {
        // Frames 0…3 (mean 1.5, Σ(f − mean)² = 5) in 2 bins {0, 1}, {2, 3}.
        let matched = try StateAgreement(states: [0, 0, 1, 1], frames: [0, 1, 2, 3], bins: 2)
        XCTAssertEqual(matched.ari, 1, accuracy: 1e-12)
        XCTAssertEqual(matched.frameVarianceExplained, 1 - 1.0 / 5, accuracy: 1e-12, "within-state Σ = 4 · 0.25")
        let crossed = try StateAgreement(states: [0, 1, 0, 1], frames: [0, 1, 2, 3], bins: 2)
        XCTAssertEqual(crossed.ari, -0.5, accuracy: 1e-12)
        XCTAssertEqual(crossed.frameVarianceExplained, 1 - 4.0 / 5, accuracy: 1e-12)
        // Contiguous but unequal segments of the path: the ARI against equal bins is at chance, η² is not.
        let uneven = try StateAgreement(states: [0, 1, 1, 1], frames: [0, 1, 2, 3], bins: 2)
        XCTAssertEqual(uneven.ari, 0, accuracy: 1e-12)
        XCTAssertEqual(uneven.frameVarianceExplained, 1 - 2.0 / 5, accuracy: 1e-12)
        XCTAssertTrue(matched.binned)
        // Three classes 0, 1 and 5 (F = 6) against 4 bins would merge 0 and 1 (⌊1·4/6⌋ = 0): the labels are taken as they are.
        let classes = try StateAgreement(states: [0, 0, 1, 1, 2, 2], frames: [0, 0, 1, 1, 5, 5], bins: 4)
        XCTAssertFalse(classes.binned)
        XCTAssertEqual(classes.ari, 1, accuracy: 1e-12)
        XCTAssertEqual(try StateAgreement(states: [0, 1], frames: [3, 3], bins: 2).frameVarianceExplained, 1)
        XCTAssertThrowsError(try StateAgreement(states: [0, 1], frames: [0], bins: 2)) { XCTAssertTrue("\($0)".contains("2 states but 1 frames"), "\($0)") }
    }

    /// The ground-truth reference is the analysis's own k-means (same k, seed and clustering rule) on the true
    /// conformations: recomputed here from its parts, equal to the states' score when the decoded conformations are
    /// the true ones, and below 1 for a path that k-means cuts unevenly.
    func testGroundTruthReferenceIsTheSameKMeansOnTheTrueConformations() throws {
        // A 12-atom chain stretched along x by 1 + 0.5 (f/15)² in frame f of 16 (so its frames crowd at the start);
        // 5 particles per frame, latents (L = 3) that ignore the frame.
        let n = 12, k = 4
        let atoms = (0..<n).map { Structure.Atom(name: "CA", residueName: "GLY", residueNumber: $0 + 1) }
        let base: [Double] = (0..<n).flatMap { [3.8 * Double($0), 0.0, 0.0] }
        let frames = (0..<80).map { $0 % 16 }
        let truth = frames.map { f in base.enumerated().map { $0.offset % 3 == 0 ? $0.element * (1 + 0.5 * Double(f * f) / 225) : $0.element } }
        var g = SeededGenerator(seed: 9)
        let latents = (0..<(80 * 3)).map { _ in Float(g.normal()) }
        let conformations = try Tensor(shape: [80, n, 3], storage: truth.flatMap { $0.map(Float.init) })
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-analysis-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func analyse(clusterConformations: Bool) throws -> LatentAnalysis.Outcome {
            try LatentAnalysis.run(latents: latents, dimension: 3, conformations: conformations, template: Structure(atoms: atoms, models: [base], origin: "test"),
                                   options: LatentAnalysis.Options(states: k, seed: 4, directory: directory, clusterConformations: clusterConformations),
                                   decode: nil, truth: LatentAnalysis.Truth(frames: frames, conformations: truth), writeSubset: nil, log: { _ in })
        }
        let latent = try analyse(clusterConformations: false)
        let rows = truth.flatMap { $0.map(Float.init) }
        let expected = try KMeans.fit(PrincipalComponents.project(rows, dimension: 3 * n, components: 3), dimension: 3, k: k, seed: 4).labels
        XCTAssertEqual(latent.truthAgreement, try StateAgreement(states: expected, frames: frames, bins: k), "k-means in the latent's 3 dimensions of PCs")
        let reference = try XCTUnwrap(latent.truthAgreement)
        XCTAssertLessThan(reference.ari, 0.9, "k-means does not cut the uneven path at equal frame bins")
        for members in Dictionary(grouping: frames.indices, by: { expected[$0] }).values {
            let run = Set(members.map { frames[$0] })
            XCTAssertEqual((run.max() ?? 0) - (run.min() ?? 0) + 1, run.count, "each state is a run of consecutive frames: \(run.sorted())")
        }
        XCTAssertGreaterThan(reference.frameVarianceExplained, 0.8, "so η² stays high")
        XCTAssertLessThan(abs(latent.agreement?.ari ?? 1), 0.2, "latents that ignore the frame give chance-level states")
        let conformation = try analyse(clusterConformations: true)
        XCTAssertEqual(conformation.truthAgreement, conformation.agreement, "decoded = true conformations: the reference is the states' own score")
    }

    func testDCDWriterRoundTripsAndHasCHARMMsLayout() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-\(UUID().uuidString).dcd").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let atoms = (1...3).map { Structure.Atom(name: "CA", residueName: "ALA", residueNumber: $0) }
        let models: [[Double]] = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [-1.5, 2.25, 3, 40, 5, 6, 7, 8, -9.125]]
        try DCDFile.write(path, models: models)
        let read = try DCDFile.read(path, like: Structure(atoms: atoms, models: [models[0]], origin: "test"))
        XCTAssertEqual(read.models, models)
        // The byte layout: 84-byte header record "CORD" with 2 frames and CHARMM version 24, an 84-byte title
        // record (1 line of 80), a 4-byte atom-count record, then per frame three 12-byte coordinate records.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func int32(_ at: Int) -> Int32 { bytes[at..<(at + 4)].enumerated().reduce(0) { $0 | Int32($1.element) << (8 * $1.offset) } }
        XCTAssertEqual(bytes.count, (4 + 84 + 4) + (4 + 84 + 4) + (4 + 4 + 4) + 2 * 3 * (4 + 12 + 4))
        XCTAssertEqual([int32(0), int32(88)], [84, 84])
        XCTAssertEqual(Array(bytes[4..<8]), Array("CORD".utf8))
        XCTAssertEqual(int32(8), 2, "frames")
        XCTAssertEqual(int32(8 + 4 * 19), 24, "CHARMM version")
        XCTAssertEqual([int32(92), int32(96), int32(180)], [84, 1, 84], "title record: one 80-character line")
        XCTAssertEqual([int32(184), int32(188), int32(192)], [4, 3, 4], "atom count record")
        XCTAssertEqual(int32(196), 12, "x record of frame 1")
        XCTAssertThrowsError(try DCDFile.write(path, models: [[1, 2, 3], [1, 2]])) { XCTAssertTrue("\($0)".contains("frame 2"), "\($0)") }
    }

    func testAnalysisOfASyntheticResultWritesEveryFile() throws {
        // Two states of a 12-atom chain: latents in two blobs (L = 3); state 1 stretches the chain along x.
        let (latents, labels) = blobs([[-3, 0, 0], [3, 0, 0]], count: 30, spread: 0.3, seed: 5)
        let n = 12
        let atoms = (0..<n).map { Structure.Atom(name: "CA", residueName: "GLY", residueNumber: $0 + 1) }
        let base: [Double] = (0..<n).flatMap { [3.8 * Double($0), 0.0, 0.0] }
        let conformations: [Float] = labels.flatMap { l in base.enumerated().map { Float($0.offset % 3 == 0 && l == 1 ? $0.element * 1.2 : $0.element) } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-analysis-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var lines: [String] = []
        let out = try LatentAnalysis.run(latents: latents, dimension: 3, conformations: try Tensor(shape: [60, n, 3], storage: conformations),
                                         template: Structure(atoms: atoms, models: [base], origin: "test"),
                                         options: LatentAnalysis.Options(states: 2, seed: 1, directory: directory),
                                         decode: nil, truth: LatentAnalysis.Truth(frames: labels), writeSubset: nil, log: { lines.append($0) })
        XCTAssertEqual(out.stateSizes, [30, 30])
        XCTAssertEqual(out.agreement?.ari ?? 0, 1, accuracy: 1e-12)
        XCTAssertGreaterThan(out.explainedVariance[0], 0.9)
        XCTAssertEqual(out.stateRMSD[1], out.stateRMSD[2])
        XCTAssertGreaterThan(out.stateRMSD[1], 1)
        for (_, file) in out.files { XCTAssertTrue(FileManager.default.fileExists(atPath: file), file) }
        XCTAssertEqual(Set(out.files.map { $0.0 }), ["latent_pcs", "latent_tsne", "rmsf", "states_pdb", "states_cif", "distance_difference",
                                                 "traversal_pc1_pdb", "traversal_pc1_dcd", "traversal_pc1_cxc",
                                                 "traversal_pc2_pdb", "traversal_pc2_dcd", "traversal_pc2_cxc", "report"])
        let traversal = try PDBFile.read(directory + "/traversal_pc1.pdb")
        XCTAssertEqual(traversal.models.count, 10)
        let frames = try DCDFile.read(directory + "/traversal_pc1.dcd", like: traversal).models
        XCTAssertEqual(frames.count, 10)
        XCTAssertLessThan(zip(frames.joined(), traversal.models.joined()).map { abs($0 - $1) }.max() ?? 1, 6e-4, "the DCD holds the PDB's frames")
        let html = try String(contentsOfFile: directory + "/index.html", encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "data:image/png;base64,").count - 1, 4, "PCs, t-SNE, RMSF and distance difference embedded")
        XCTAssertTrue(lines.contains { $0.contains("no per-state STAR subsets") }, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("against the true frames (its labels as they are): 1.000") }, lines.joined(separator: "\n"))
        // A consensus refinement's STAR file gives every particle class 1: the states are not scored against it.
        var single: [String] = []
        let consensus = try LatentAnalysis.run(latents: latents, dimension: 3, conformations: try Tensor(shape: [60, n, 3], storage: conformations),
                                               template: Structure(atoms: atoms, models: [base], origin: "test"),
                                               options: LatentAnalysis.Options(states: 2, seed: 1, directory: directory + "/consensus"), decode: nil,
                                               truth: LatentAnalysis.Truth(frames: [Int](repeating: 0, count: 60), source: "the STAR file's rlnClassNumber"),
                                               writeSubset: nil, log: { single.append($0) })
        XCTAssertNil(consensus.agreement)
        XCTAssertTrue(single.contains { $0.contains("every particle has the same label in the STAR file's rlnClassNumber (1)") }, single.joined(separator: "\n"))
        let cxc = try String(contentsOfFile: directory + "/traversal_pc1.cxc", encoding: .utf8)
        XCTAssertTrue(cxc.contains("open traversal_pc1.pdb coordsets true") && cxc.contains("coordset #1 1,10"), cxc)
    }
}
