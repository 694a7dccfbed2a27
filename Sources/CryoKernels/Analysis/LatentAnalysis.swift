import Foundation

/// What a user does with a trained autodecoder: the latent space's principal components and (for latent
/// dimension > 2) a t-SNE map, k-means states with their conformations and particle subsets, traversals along
/// PC1 and PC2, per-residue RMSF, the Cα distance-matrix difference of the two most different states, and one
/// offline HTML report of it all (`index.html`).
///
/// The conformation at a latent point (a k-means centre, a traversal step) is the decoder's output at that
/// point when `decode` is given, otherwise the decoded conformation of the particle whose latent is nearest
/// (Euclidean) — never a mean of members, which could blur two conformations into an unphysical one.
public enum LatentAnalysis {
    /// Settings: the number of states, the k-means seed, the output folder, steps per traversal.
    public struct Options: Sendable {
        public var states: Int
        public var seed: UInt64
        public var directory: String
        public var traversalSteps = 10
        /// Cluster the decoded conformations (their 8 leading principal components) instead of the latents.
        public var clusterConformations = false
        /// Where and how to render each state's density map (nil: no maps).
        public var maps: StateMaps?
        public init(states: Int, seed: UInt64, directory: String, clusterConformations: Bool = false) {
            self.states = states; self.seed = seed; self.directory = directory; self.clusterConformations = clusterConformations
        }
    }

    /// Labels to score the states against: a simulation's frame of each particle along the path (0..<F) or a STAR
    /// file's class numbers (0-based), named by `source` in the log and report, and, when known, each particle's true
    /// conformation (3N Å, as the decoded ones).
    public struct Truth: Sendable {
        public var frames: [Int]
        public var conformations: [[Double]]?
        /// What the labels are, as the log and report name them ("the true frames", "the STAR file's rlnClassNumber").
        public var source: String
        /// A caveat logged once beside the scores (nil: none), e.g. that a STAR file's class numbers are read as frames.
        public var caveat: String?
        public init(frames: [Int], conformations: [[Double]]? = nil, source: String = "the true frames", caveat: String? = nil) {
            self.frames = frames; self.conformations = conformations; self.source = source; self.caveat = caveat
        }
    }

    /// The numbers and the files written (by role, e.g. "report", "states_pdb", "state_stars").
    public struct Outcome: Sendable {
        public var explainedVariance: [Double] = []
        public var stateSizes: [Int] = []
        public var labels: [Int] = []
        /// Kabsch RMSD (Å) between state conformations, K×K row-major.
        public var stateRMSD: [Double] = []
        public var mostDifferent = (0, 0)
        /// The states against the labels of `Truth` (nil without them, or when every particle has the same label).
        public var agreement: StateAgreement?
        /// What those labels are (`Truth.source`).
        public var agreementSource = ""
        /// A ground-truth reference for `agreement`: the same k-means (k, seed, clustering rule) on the particles' true
        /// conformations, scored against the same frames (nil without true conformations).
        public var truthAgreement: StateAgreement?
        public var rmsf: [Double] = []
        public var files: [(String, String)] = []
        public var stateFiles: [String] = []
        /// Each state's map file, and with a consensus map its resolution at FSC 0.5 against it (Å; nil: beyond Nyquist).
        public var stateMaps: [String] = []
        public var mapResolutions: [Float?]?
    }

    /// Runs the analysis. `latents` are M·L values, `conformations` [M, N, 3] Å in one frame (the decoder's),
    /// `template` gives the atoms; `decode` maps latent points to conformations (3N Å each) in the same frame;
    /// `truth` holds the particles' ground truth (their states are scored against its frames; with its conformations
    /// the same clustering of those gives a reference);
    /// `writeSubset(rows, path)` writes the STAR subset of a state (nil: none written); `log` gets printed lines.
    public static func run(latents: [Float], dimension: Int, conformations: Tensor, template: Structure, options: Options,
                           decode: (([[Double]]) throws -> [[Double]])?, truth: Truth?,
                           writeSubset: (([Int], String) throws -> Void)?, log: (String) -> Void) throws -> Outcome {
        let m = dimension > 0 ? latents.count / dimension : 0
        let n = template.count
        guard dimension > 0, m * dimension == latents.count else {
            throw KernelError("analyze", "the latents must be [M, L], got \(latents.count) values for dimension \(dimension)")
        }
        guard m >= 4 else { throw KernelError("analyze", "needs at least 4 particles (for the latent maps and the states), got \(m)") }
        guard conformations.shape == [m, n, 3] else {
            throw KernelError("analyze", "the conformations are \(formatShape(conformations.shape)) but \(m) latents and a template of \(n) atoms need [\(m), \(n), 3]; pass the training result and the template it was trained with")
        }
        guard options.states >= 2, options.states <= m else { throw KernelError("analyze", "k = \(options.states) states need 2 ≤ k ≤ \(m) (the particles)") }
        if let truth, truth.frames.count != m || (truth.conformations.map { $0.count != m || $0.contains { $0.count != 3 * n } } ?? false) {
            throw KernelError("analyze", "the ground truth holds \(truth.frames.count) frames and \(truth.conformations?.count ?? 0) conformations but the result \(m) latents of \(n) atoms; analyse the dataset the model was trained on")
        }
        let directory = options.directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        func conformation(_ i: Int) -> [Double] { conformations.storage[(i * 3 * n)..<((i + 1) * 3 * n)].map(Double.init) }
        func latent(_ i: Int) -> [Double] { (0..<dimension).map { Double(latents[i * dimension + $0]) } }
        let points = (0..<m).map(latent)
        func conformationsAt(_ targets: [[Double]]) throws -> [[Double]] {
            if let decode { return try decode(targets) }
            return targets.map { t in conformation((0..<m).min { KMeans.squaredDistance(points[$0], t) < KMeans.squaredDistance(points[$1], t) } ?? 0) }
        }
        var out = Outcome()

        // Principal components and k-means in the latent space.
        let pca = PrincipalComponents.fit(latents, dimension: dimension, components: dimension)
        out.explainedVariance = pca.explainedVarianceRatio
        log("analyze: explained variance of the latent PCs: " + out.explainedVariance.map { String(format: "%.3f", $0) }.joined(separator: " "))
        let scores = points.map(pca.scores)
        // k-means in the latent space, or in the 8 leading principal components of the decoded conformations; each
        // state's centre is then the mean latent of its particles, so states decode in the latent space either way.
        let kmeans: (labels: [Int], centres: [[Double]])
        if options.clusterConformations {
            let fit = try conformationStates(conformations.storage, atoms: n, components: 8, options: options)
            kmeans = (fit.labels, (0..<options.states).map { s -> [Double] in
                let members = (0..<m).filter { fit.labels[$0] == s }
                return (0..<dimension).map { a in members.reduce(0.0) { $0 + points[$1][a] } / Double(Swift.max(members.count, 1)) }
            })
        } else {
            let fit = try KMeans.fit(latents, dimension: dimension, k: options.states, seed: options.seed)
            kmeans = (fit.labels, fit.centres)
        }
        out.labels = kmeans.labels
        out.stateSizes = (0..<options.states).map { s in kmeans.labels.filter { $0 == s }.count }
        log("analyze: \(options.states) k-means states of " + out.stateSizes.map(String.init).joined(separator: ", ") + " particles")
        if let truth, Set(truth.frames).count < 2 {
            // A consensus refinement's STAR gives every particle class 1: nothing to score the states against.
            log("analyze: every particle has the same label in \(truth.source) (\(truth.frames[0] + 1)), so the states are not scored against it")
        } else if let truth {
            let agreement = try StateAgreement(states: kmeans.labels, frames: truth.frames, bins: options.states)
            out.agreement = agreement
            out.agreementSource = truth.source
            // The reference clusters the true conformations as the states were clustered: in 8 principal components as
            // the decoded ones, or in as many as the latent has dimensions (an ideal latent's linear coordinates).
            if let exact = truth.conformations {
                let fit = try conformationStates(exact.flatMap { $0.map(Float.init) }, atoms: n,
                                                 components: options.clusterConformations ? 8 : dimension, options: options)
                out.truthAgreement = try StateAgreement(states: fit.labels, frames: truth.frames, bins: options.states)
            }
            let reference = out.truthAgreement.map { String(format: " (ground truth, the same k-means on the true conformations: %.3f)", $0.ari) } ?? ""
            let binned = agreement.binned ? " in \(options.states) bins" : " (its labels as they are)"
            log("analyze: adjusted Rand index of the states against \(truth.source)\(binned): " + String(format: "%.3f", agreement.ari) + reference)
            let eta = out.truthAgreement.map { String(format: " (ground truth: %.3f)", $0.frameVarianceExplained) } ?? ""
            log("analyze: share of the variance of \(truth.source) explained by the states, eta2: " + String(format: "%.3f", agreement.frameVarianceExplained) + eta)
            if let caveat = truth.caveat { log("analyze: " + caveat) }
        }

        // Figures of the latent space.
        let hasPC2 = dimension >= 2
        func statesScatter(_ file: String, x: [Double], y: [Double], centres: [[Double]]?, title: String, xLabel: String, yLabel: String) throws {
            var series = (0..<options.states).map { s in
                let rows = (0..<x.count).filter { kmeans.labels[$0] == s }
                return LinePlot.Series(name: "state \(s + 1)", x: rows.map { x[$0] }, y: rows.map { y[$0] })
            }
            if let centres { series.append(LinePlot.Series(name: "centres", x: centres.map { $0[0] }, y: centres.map { $0[1] }, marker: 4)) }
            try LinePlot.write(path(file), series: series, title: title, xLabel: xLabel, yLabel: yLabel, lines: false)
        }
        let centreScores = kmeans.centres.map(pca.scores)
        try statesScatter("latent_pcs.png", x: scores.map { $0[0] }, y: hasPC2 ? scores.map { $0[1] } : (0..<m).map(Double.init),
                          centres: centreScores.map { [$0[0], hasPC2 ? $0[1] : 0] }, title: "latent PC1-PC2 with k-means centres",
                          xLabel: String(format: "PC1 (%.0f%%)", 100 * out.explainedVariance[0]),
                          yLabel: hasPC2 ? String(format: "PC2 (%.0f%%)", 100 * out.explainedVariance[1]) : "particle")
        out.files.append(("latent_pcs", path("latent_pcs.png")))
        var tsneNote = ""
        if dimension > 2 {
            let tsne = try TSNE.embed(latents, dimension: dimension)
            let labels = tsne.rows.map { kmeans.labels[$0] }
            let series = (0..<options.states).map { s in
                let rows = labels.indices.filter { labels[$0] == s }
                return LinePlot.Series(name: "state \(s + 1)", x: rows.map { tsne.embedding[$0][0] }, y: rows.map { tsne.embedding[$0][1] })
            }
            try LinePlot.write(path("latent_tsne.png"), series: series, title: "t-SNE of the latents (perplexity 30)", xLabel: "t-SNE 1", yLabel: "t-SNE 2", lines: false)
            out.files.append(("latent_tsne", path("latent_tsne.png")))
            tsneNote = tsne.rows.count < m ? " (every \(m / tsne.rows.count)th particle, \(tsne.rows.count) of \(m))" : ""
        }

        // Per-residue RMSF across the dataset, the states' conformations and their particle subsets.
        out.rmsf = try ConformationStatistics.rmsf((0..<m).map(conformation))
        let residues = template.atoms.map { Double($0.residueNumber) }
        try LinePlot.write(path("rmsf.png"), series: [LinePlot.Series(name: "", x: residues, y: out.rmsf)], title: "RMSF of the decoded conformations",
                           xLabel: "residue", yLabel: "RMSF (A)", lines: true)
        out.files.append(("rmsf", path("rmsf.png")))
        let states = try conformationsAt(kmeans.centres)
        try PDBFile.write(path("states.pdb"), models: states, like: template, bFactors: out.rmsf)
        try MMCIFFile.write(path("states.cif"), models: states, like: template, bFactors: out.rmsf, name: "cryoscript_states")
        out.files += [("states_pdb", path("states.pdb")), ("states_cif", path("states.cif"))]
        if let maps = options.maps {
            let written = try maps.write(states: states, directory: directory)
            (out.stateMaps, out.mapResolutions) = (written.files, written.resolutions)
            if let plot = written.plot { out.files.append(("state_fsc", plot)) }
            if let resolutions = written.resolutions {
                log("analyze: each state's map against the consensus map, resolution at FSC 0.5: "
                    + resolutions.map { $0.map { String(format: "%.1f Å", $0) } ?? "beyond Nyquist" }.joined(separator: ", "))
            }
        }
        if let writeSubset {
            for s in 0..<options.states {
                let file = path(String(format: "state_%02d.star", s + 1))
                try writeSubset((0..<m).filter { kmeans.labels[$0] == s }, file)
                out.stateFiles.append(file)
            }
        } else {
            log("analyze: the dataset was not read from a STAR file, so no per-state STAR subsets were written (write it with write_mrcs and write_star, read it back with read_star, and analyse that)")
        }

        // RMSD between states; the distance-matrix difference of the two most different.
        out.stateRMSD = ConformationStatistics.rmsdMatrix(states)
        let k = options.states
        let pair = (0..<(k * k)).max { out.stateRMSD[$0] < out.stateRMSD[$1] } ?? 1
        out.mostDifferent = (Swift.min(pair / k, pair % k), Swift.max(pair / k, pair % k))
        let ca = template.atoms.indices.filter { template.atoms[$0].name == "CA" }
        let atoms = ca.isEmpty ? Array(template.atoms.indices) : ca
        let (a, b) = out.mostDifferent
        let difference = zip(ConformationStatistics.distanceMatrix(states[b], atoms: atoms), ConformationStatistics.distanceMatrix(states[a], atoms: atoms)).map { $0 - $1 }
        try Heatmap.write(path("distance_difference.png"), values: difference, rows: atoms.count, columns: atoms.count,
                          title: "CA distances: state \(b + 1) minus state \(a + 1) (A)", xLabel: "residue index", yLabel: "residue index")
        out.files.append(("distance_difference", path("distance_difference.png")))

        // Traversals along PC1 and PC2 from the 5th to the 95th percentile of the scores.
        for c in 0..<Swift.min(2, dimension) {
            let column = scores.map { $0[c] }
            let lo = ReconstructionMetrics.percentile(column, 5), hi = ReconstructionMetrics.percentile(column, 95)
            let steps = Swift.max(2, options.traversalSteps)
            let targets = (0..<steps).map { j -> [Double] in
                let t = lo + (hi - lo) * Double(j) / Double(steps - 1)
                return zip(pca.mean, pca.axes[c]).map { $0 + t * $1 }
            }
            let frames = try conformationsAt(targets)
            let moved = Superposition.align(frames[steps - 1], onto: frames[0])
            let displacement = (0..<n).map { i in (0..<3).reduce(0.0) { $0 + Foundation.pow(moved[3 * i + $1] - frames[0][3 * i + $1], 2) }.squareRoot() }
            let name = "traversal_pc\(c + 1)"
            try PDBFile.write(path(name + ".pdb"), models: frames, like: template, bFactors: displacement)
            try DCDFile.write(path(name + ".dcd"), models: frames, title: "CryoScript PC\(c + 1) traversal")
            try ChimeraXScript.traversal(path(name + ".cxc"), pdb: name + ".pdb", frames: steps,
                                         title: "PC\(c + 1) traversal, \(steps) steps from the 5th to the 95th percentile (\(decode == nil ? "nearest particles" : "decoded"))",
                                         maxBFactor: displacement.max() ?? 0)
            out.files += [(name + "_pdb", path(name + ".pdb")), (name + "_dcd", path(name + ".dcd")), (name + "_cxc", path(name + ".cxc"))]
        }

        // The report embeds the PNGs written above, so only a rank that writes files (under MPI, rank 0) builds it.
        if World.isRoot || AtomicFile.everyRankWrites {
            try report(out, options: options, m: m, dimension: dimension, decoded: decode != nil, tsneNote: tsneNote, path: path("index.html"))
        }
        out.files.append(("report", path("index.html")))
        log("analyze: wrote \(path("index.html"))")
        return out
    }

    /// k-means (k and seed from `options`) of conformations (rows of 3·`atoms` Å, row-major) in their `components`
    /// leading principal components.
    static func conformationStates(_ rows: [Float], atoms: Int, components: Int, options: Options) throws -> KMeans.Result {
        let width = 3 * atoms, kept = Swift.min(components, width)
        return try KMeans.fit(PrincipalComponents.project(rows, dimension: width, components: kept), dimension: kept, k: options.states, seed: options.seed)
    }

    /// The HTML report of an outcome.
    static func report(_ out: Outcome, options: Options, m: Int, dimension: Int, decoded: Bool, tsneNote: String, path: String) throws {
        let figures = Dictionary(out.files, uniquingKeysWith: { $1 })
        var page = HTMLReport(title: "CryoScript latent analysis")
        page.paragraph("\(m) particles, latent dimension \(dimension), \(options.states) k-means states (greedy k-means++ seeding, seed \(options.seed)). "
                       + "Conformations at latent points are \(decoded ? "decoded by the model" : "those of the nearest particle").")
        page.heading("Latent space")
        page.table(header: ["component"] + out.explainedVariance.indices.map { "PC\($0 + 1)" },
                   rows: [["explained variance"] + out.explainedVariance.map { String(format: "%.3f", $0) }])
        for (key, caption) in [("latent_pcs", "PC1 against PC2, coloured by state; numbered discs are the k-means centres"),
                               ("latent_tsne", "t-SNE of the latents" + tsneNote)] {
            if let file = figures[key] { try page.figure(file, caption: caption) }
        }
        page.heading("States")
        page.paragraph("Particles per state: " + out.stateSizes.map(String.init).joined(separator: ", ") + ".")
        if let agreement = out.agreement {
            let against = agreement.binned ? "the labels binned into \(options.states) equal ranges" : "the labels as they are"
            page.paragraph("Agreement with \(out.agreementSource): the adjusted Rand index (ARI) against \(against), and η², "
                           + "the share of the label's variance the states explain (no bins; it reads the labels as positions along a path). "
                           + "The ground-truth row, when there is one, runs the same k-means "
                           + "(k, seed, clustering rule) on the particles' true conformations: what this clustering reaches with perfect conformations.")
            let rows = [("states", agreement)] + (out.truthAgreement.map { [("ground truth: the same k-means on the true conformations", $0)] } ?? [])
            page.table(header: ["", "ARI", "η²"], rows: rows.map { [$0.0, String(format: "%.3f", $0.1.ari), String(format: "%.3f", $0.1.frameVarianceExplained)] })
        }
        let k = options.states
        page.table(header: ["RMSD (Å)"] + (1...k).map { "state \($0)" },
                   rows: (0..<k).map { a in ["state \(a + 1) (\(out.stateSizes[a]))"] + (0..<k).map { String(format: "%.2f", out.stateRMSD[a * k + $0]) } })
        if !out.stateMaps.isEmpty {
            page.heading("Maps")
            if let resolutions = out.mapResolutions {
                page.paragraph("Each state's density map (its residues' Gaussians as the forward model renders them) on the consensus map's grid, "
                               + "and the resolution where its Fourier shell correlation with the consensus map falls below 0.5: the map-model FSC. "
                               + "A state that sits where the particles' reconstruction does agrees to the resolution its coarse residue model allows; "
                               + "one misplaced or misfitted in the map agrees only at low resolution.")
                page.table(header: ["state", "particles", "FSC 0.5 (Å)"], rows: resolutions.enumerated().map { s, r in
                    ["state \(s + 1)", "\(out.stateSizes[s])", r.map { String(format: "%.1f", $0) } ?? "beyond Nyquist"]
                })
            }
            if let file = figures["state_fsc"] { try page.figure(file, caption: "FSC of each state's map against the consensus map") }
        }
        page.heading("Structure")
        if let file = figures["rmsf"] { try page.figure(file, caption: "Per-residue RMSF of the decoded conformations (also the B-factors of states.pdb)") }
        if let file = figures["distance_difference"] {
            try page.figure(file, caption: "Cα distance difference between the two most different states, \(out.mostDifferent.1 + 1) − \(out.mostDifferent.0 + 1)")
        }
        page.heading("Files")
        var links: [(href: String, text: String)] = [("states.pdb", "one model per state, B-factor = RMSF (Å)"), ("states.cif", "the same as mmCIF")]
        links += out.stateFiles.enumerated().map { (($1 as NSString).lastPathComponent, "RELION STAR subset of state \($0 + 1), every original column") }
        links += out.stateMaps.enumerated().map { (($1 as NSString).lastPathComponent, "density map of state \($0 + 1) (MRC; it overlays the consensus map and states.pdb)") }
        for c in 1...Swift.min(2, dimension) {
            links += [("traversal_pc\(c).cxc", "open in ChimeraX: the PC\(c) traversal as a movie coloured by displacement"),
                      ("traversal_pc\(c).pdb", "the traversal's frames, B-factor = displacement (Å)"), ("traversal_pc\(c).dcd", "the same frames as a CHARMM DCD")]
        }
        page.links(links)
        try page.write(path)
    }
}
