import CryoKernels
import Foundation

/// The paper's own models in one training step each, through `AutodecoderTrainer.step` (what `train_autodecoder`
/// runs): the GCN (latent 8, 10 layers of 10 features) and the matched MLP (4 hidden layers of width 26) on the
/// 214-residue toy protein's residue graph, batch 32, D = 64 at 2 Å/px; decoder → template + displacement →
/// projector → CTF → learnable scale and offset → per-image summed squared error + bond and centroid terms → Adam.
enum PaperModelBenchmark {
    static func run() throws -> [(String, Double)] {
        let structure = try ToyProtein.make(residues: 214, seed: 1)
        let graph = try ResidueGraph.build(structure)
        guard let (weights, sigmas) = ResidueTable.lookup(structure.atoms.map(\.residueName)) else {
            throw KernelError("cryobench", "the toy protein has residues outside the residue table")
        }
        let geometry = try Projector.Geometry(size: 64, pixel: 2, sigma: sigmas, weight: weights)
        let (dataset, _, _) = try Simulator.simulate(conformations: [structure.models[0]], sigma: sigmas, weight: weights,
                                                     settings: Simulator.Settings(images: 32, size: 64, pixel: 2, snr: 0.1, seed: 3))
        print("paper models: N = \(graph.nodes), \(graph.src.count) directed edges (peptide + hydrogen bonds, \(graph.hydrogenBondMethod))")
        let gcn = try GCNDecoder(graph: graph, latent: 8, hidden: 10, layers: 10, seed: 1)
        let width = MLPDecoder.width(matching: gcn.parameterCount, latent: 8, nodes: graph.nodes)
        let mlp = try MLPDecoder(latent: 8, nodes: graph.nodes, width: width, depth: 4, seed: 1)
        var figures: [(String, Double)] = []
        for (name, decoder) in [("gcn_L10_F10", gcn as Decoder), ("mlp_W\(width)", mlp as Decoder)] {
            var settings = AutodecoderTrainer.Settings()
            settings.batch = 32
            let trainer = try AutodecoderTrainer(decode: decoder.decode, modelName: decoder.kind, parameters: decoder.parameters,
                                                 latentDimension: 8, template: structure.models[0], geometry: geometry,
                                                 dataset: dataset, truth: nil, settings: settings)
            let state = try trainer.start()
            let batch = Array(0..<32)
            let ms = try medianMilliseconds(repeats: 21, warmup: 3) { _ = try trainer.step(state, images: batch) }
            figures.append(("paper_\(name)_train_step_B32_N214_D64_ms", ms))
            print("paper \(decoder.kind) (\(decoder.parameterCount) parameters): \(String(format: "%.2f", ms)) ms per step")
        }
        return figures
    }
}
