import CryoKernels
import Foundation

/// After training: the latent-space analysis of a result (`analyze`) and the bare k-means states of its conformations (`states`).
enum AnalysisBuiltins {
    static let topic = "analysis"

    static var all: [Builtin] {
        [
            builtin("states", topic: topic, [required("conformations"), optional("k", .number(8)), optional("seed", .number(0))],
                    doc: "k-means states of conformations [M,N,3] (Å; squared Euclidean distance over all 3N coordinates, the clustering the re-search rounds of train_autodecoder use): {labels [M] (0-based, state 0 the most populated), centres [k,N,3] (each state's mean conformation; gather(centres, labels) gives each particle its state's), spread [N] (Å: each residue's root-mean-square deviation of the particles from their state's centre along one axis, pooled over the states; esl(blur: spread) renders the states with it), sizes (particles per state)}. esl(..., states: centres) searches poses against the states as a 3D classification does.",
                    example: "let s = states(result.conformations, k: 4); esl(data.images, like: ca, ctf: data, states: s.centres)") { a in
                let conformations = try a.tensor("conformations")
                guard conformations.rank == 3, conformations.shape[2] == 3, conformations.shape[0] > 0 else {
                    throw a.fail("conformations", "conformations [M,N,3]", a["conformations"])
                }
                let m = conformations.shape[0], per = conformations.count / m, k = try a.int("k")
                guard k >= 1, k <= m else { throw ScriptFailure(message: "states: k must be between 1 and the \(m) conformations given, got \(k)") }
                let clusters = try KMeans.fit(conformations.storage, dimension: per, k: k, seed: UInt64(bitPattern: Int64(try a.int("seed"))))
                let centres = clusters.centres.flatMap { $0.map(Float.init) }
                return .record(Record([
                    ("labels", .tensor(Tensor(clusters.labels.map(Float.init)))),
                    ("centres", .tensor(try Tensor(shape: [k, per / 3, 3], storage: centres))),
                    ("spread", .tensor(Tensor(clusters.spread(of: conformations.storage, groupSize: 3).map(Float.init)))),
                    ("sizes", .list((0..<k).map { c in .number(Double(clusters.labels.filter { $0 == c }.count)) })),
                ]))
            },
            builtin("analyze", topic: topic, [required("result"), required("dataset"), required("like"), optional("k", .number(8)),
                                              optional("out", .string("out/analysis")), optional("seed", .number(0)), optional("model", .null),
                                              optional("cluster", .string("latent")), optional("truth", .null), optional("map", .null),
                                              optional("sigma", .string("residue")), optional("weights", .string("residue"))],
                    doc: "Analyses a train_autodecoder result on its dataset (template like:): latent PCA (explained variance, PC1–PC2 scatter with the k-means centres), a t-SNE map when the latent dimension is above 2, k k-means states (k-means++ seeded by seed, Lloyd iterations; cluster: \"latent\" clusters the latents, \"conformation\" the 8 leading principal components of the decoded conformations) with their conformations in states.pdb and states.cif (B-factor: per-residue RMSF) and their particles in state_NN.star (datasets read with read_star: every original column kept), traversals of 10 steps along PC1 and PC2 between the 5th and 95th percentiles (.pdb, .dcd and a ChimeraX .cxc coloured by displacement), the RMSF plot, the Cα distance difference of the two most different states, each state's density map (state_NN.mrc, its atoms rendered as the forward model does, sigma/weights as in project: on the grid of map:, a read_mrc record of the consensus map the template was fitted into, else a box of the dataset's size and pixel centred on the template's centroid; with map: read with data: true, each map's FSC against it, the resolution at 0.5 in map_resolutions and state_fsc.png), and out/index.html. Conformations at latent points are decoded by model: when given, else those of the nearest particle. With true frames (dataset.conformation: a simulation's frames, or a STAR file's rlnClassNumber, which the log names and reads as frames) the states are scored against them: ari, the adjusted Rand index against the frames binned into k when they take more than k values (else against the labels as they are, as a classification's classes), and eta2, the share of the frame index's variance the states explain; both nil when every particle has the same label (a consensus refinement's class 1); with the true conformations too (truth: a multi-model structure or [K,N,3] indexed by the frames, or the dataset's truth) ari_truth and eta2_truth score the same k-means (k, seed, cluster rule; latent: in as many principal components of the true conformations as the latent has dimensions) run on the particles' true conformations, a ground-truth reference for what this clustering can reach. Returns {explained_variance, state_sizes, labels, state_rmsd [k,k] Å, rmsf, ari, eta2, ari_truth, eta2_truth (nil when not computable), report, files, state_stars, state_maps, map_resolutions (Å per state, nil beyond Nyquist; nil without a consensus map)}.",
                    example: "let a = analyze(r, data, like: s, k: 8, out: \"out/analysis\", model: gcn)") { a in
                try analyze(a)
            },
        ]
    }

    /// How analyze renders the states' maps: on the grid of map: (correlated with it when it holds data), else on a
    /// box of the dataset's size and pixel centred on the template's centroid.
    private static func stateMaps(_ a: Arguments, template: Structure, dataset: ParticleDataset) throws -> StateMaps {
        let sigma = try a.atomValues("sigma", count: template.count, template: template, residue: { $0.sigma }, unit: 1.5)
        let weight = try a.atomValues("weights", count: template.count, template: template, residue: { $0.electrons }, unit: 1)
        if a.isNull("map") {
            let pixel = dataset.pixel, size = dataset.size
            let centre = Superposition.centroid(template.models.first ?? []).map(Float.init)
            let spacing = [pixel, pixel, pixel]
            return try StateMaps(size: [size, size, size], spacing: spacing, origin: DensityMap.origin(centredAt: centre, size: [size, size, size], spacing: spacing),
                                 sigma: sigma, weight: weight, consensus: nil)
        }
        let grid = try MapValue.grid(a, "map")
        let consensus = MapValue.hasData(a, "map") ? try MapValue.map(a, "map") : nil
        return try StateMaps(size: grid.size, spacing: grid.spacing, origin: grid.origin, sigma: sigma, weight: weight, consensus: consensus)
    }

    private static func analyze(_ a: Arguments) throws -> Value {
        let result = try a.record("result")
        guard case .tensor(let latents)? = result["latents"], latents.rank == 2, case .tensor(let conformations)? = result["conformations"] else {
            throw a.fail("result", "the record train_autodecoder returns (with latents [M,L] and conformations [M,N,3])", a["result"])
        }
        let template = try a.structure("like")
        let dataset = try DatasetValue.dataset(a["dataset"], op: "analyze")
        guard dataset.count == latents.shape[0] else {
            throw ScriptFailure(message: "analyze: the dataset has \(dataset.count) particles but the result \(latents.shape[0]) latents; pass the dataset the model was trained on")
        }
        var decode: (([[Double]]) throws -> [[Double]])?
        if !a.isNull("model") {
            let model = try a.object("model", as: ModelObject.self, described: "the model that was trained (gnn or mlp)")
            decode = try decoder(model, latents: latents, conformations: conformations)
        }
        let cluster = try a.string("cluster")
        guard cluster == "latent" || cluster == "conformation" else { throw a.fail("cluster", "\"latent\" or \"conformation\"", a["cluster"]) }
        var options = LatentAnalysis.Options(states: try a.int("k"), seed: UInt64(bitPattern: Int64(try a.int("seed"))), directory: try a.string("out"),
                                             clusterConformations: cluster == "conformation")
        options.maps = try stateMaps(a, template: template, dataset: dataset)
        let writeSubset: (([Int], String) throws -> Void)? = dataset.metadata == nil ? nil : { rows, path in
            try ParticleSTARWriter.write(path, dataset: try dataset.subset(rows, op: "analyze"), stack: nil)
        }
        // True conformations only for a template that fits the result (LatentAnalysis.run names a misfit).
        let fits = conformations.count == latents.shape[0] * 3 * template.count
        let truth = try dataset.conformation.map {
            LatentAnalysis.Truth(frames: $0, conformations: fits ? try DatasetValue.perImageTruth(a, dataset: dataset, nodes: template.count) : nil,
                                 source: dataset.metadata == nil ? "the true frames" : "the STAR file's rlnClassNumber",
                                 caveat: dataset.metadata == nil ? nil : "rlnClassNumber is read as each particle's frame along a path, as a simulated project's STAR file holds it; the class numbers of a RELION classification have no order, so for them only the ARI means anything")
        }
        let interpreter = a.interpreter
        let out = try LatentAnalysis.run(latents: latents.storage, dimension: latents.shape[1], conformations: conformations, template: template,
                                         options: options, decode: decode, truth: truth, writeSubset: writeSubset,
                                         log: { interpreter.output($0) })
        func numbers(_ xs: [Double]) -> Value { .list(xs.map { .number($0) }) }
        let k = options.states
        return .record(Record([
            ("explained_variance", numbers(out.explainedVariance)), ("state_sizes", numbers(out.stateSizes.map(Double.init))),
            ("labels", .tensor(Tensor(out.labels.map(Float.init)))),
            ("state_rmsd", .tensor(try Tensor(shape: [k, k], storage: out.stateRMSD.map(Float.init)))),
            ("rmsf", .tensor(Tensor(out.rmsf.map(Float.init)))),
            ("ari", out.agreement.map { .number($0.ari) } ?? .null), ("eta2", out.agreement.map { .number($0.frameVarianceExplained) } ?? .null),
            ("ari_truth", out.truthAgreement.map { .number($0.ari) } ?? .null),
            ("eta2_truth", out.truthAgreement.map { .number($0.frameVarianceExplained) } ?? .null),
            ("state_maps", .list(out.stateMaps.map { .string($0) })),
            ("map_resolutions", out.mapResolutions.map { .list($0.map { r in r.map { .number(Double($0)) } ?? .null }) } ?? .null),
            ("report", .string(out.files.first { $0.0 == "report" }?.1 ?? "")),
            ("files", .record(Record(out.files.map { ($0.0, .string($0.1)) }))), ("state_stars", .list(out.stateFiles.map { .string($0) })),
        ]))
    }

    /// Latent points → conformations by the model, in the frame of the result's conformations: the template
    /// offset is recovered from the first particle (its conformation minus the model's output at its latent).
    static func decoder(_ model: ModelObject, latents: Tensor, conformations: Tensor) throws -> ([[Double]]) throws -> [[Double]] {
        let dimension = latents.shape[1], per = conformations.count / Swift.max(latents.shape[0], 1)
        let first = try model.forward(try latents.slice(axis: 0, start: 0, end: 1).detached())
        guard first.count == per else {
            throw ScriptFailure(message: "analyze: the model maps a latent to \(first.count / 3) atoms but the result's conformations have \(per / 3); pass the model that was trained")
        }
        let offset = (0..<per).map { Double(conformations.storage[$0]) - Double(first.storage[$0]) }
        return { points in
            let z = try Tensor(shape: [points.count, dimension], storage: points.flatMap { $0.map(Float.init) })
            let displacement = try model.forward(z).storage
            return points.indices.map { p in (0..<per).map { Double(displacement[p * per + $0]) + offset[$0] } }
        }
    }
}
