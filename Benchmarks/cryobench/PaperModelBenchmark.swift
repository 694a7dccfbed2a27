import CryoKernels
import Foundation

/// The paper's own models in one training step each, through `AutodecoderTrainer.step` (what `train_autodecoder`
/// runs): the GCN (latent 8, 10 layers of 10 features) and the matched MLP (4 hidden layers of width 26) on the
/// 214-residue toy protein's residue graph, batch 32, D = 64 at 2 Å/px; decoder → template + displacement →
/// projector → CTF → learnable scale and offset → per-image summed squared error + bond and centroid terms → Adam.
enum PaperModelBenchmark {
    /// The 214-residue toy protein, its residue graph, the D = 64 forward model at 2 Å/px and the paper's GCN and
    /// matched MLP on that graph: what every paper row trains.
    struct Setup {
        let structure: Structure
        let graph: ResidueGraph
        let geometry: Projector.Geometry
        let gcn: GCNDecoder, mlp: MLPDecoder
        let mlpWidth: Int

        init() throws {
            structure = try ToyProtein.make(residues: 214, seed: 1)
            graph = try ResidueGraph.build(structure)
            guard let (weights, sigmas) = ResidueTable.lookup(structure.atoms.map(\.residueName)) else {
                throw KernelError("cryobench", "the toy protein has residues outside the residue table")
            }
            geometry = try Projector.Geometry(size: 64, pixel: 2, sigma: sigmas, weight: weights)
            gcn = try GCNDecoder(graph: graph, latent: 8, hidden: 10, layers: 10, seed: 1)
            mlpWidth = MLPDecoder.width(matching: gcn.parameterCount, latent: 8, nodes: graph.nodes)
            mlp = try MLPDecoder(latent: 8, nodes: graph.nodes, width: mlpWidth, depth: 4, seed: 1)
        }

        /// `images` simulated images of the first model (SNR 0.1, CTF, no shifts), with their true rotations.
        func simulate(images: Int) throws -> ParticleDataset {
            try Simulator.simulate(conformations: [structure.models[0]], sigma: geometry.sigma, weight: geometry.weight,
                                   settings: Simulator.Settings(images: images, size: 64, pixel: 2, snr: 0.1, seed: 3)).dataset
        }

        /// A trainer of `decoder` on `dataset` with `settings` (batch 32 unless set otherwise).
        func trainer(_ decoder: Decoder, dataset: ParticleDataset, settings: AutodecoderTrainer.Settings) throws -> AutodecoderTrainer {
            try AutodecoderTrainer(decode: decoder.decode, modelName: decoder.kind, parameters: decoder.parameters, latentDimension: 8,
                                   template: structure.models[0], geometry: geometry, dataset: dataset, truth: nil, settings: settings)
        }
    }

    static func run() throws -> [(String, Double)] {
        let setup = try Setup()
        let (graph, gcn, mlp, width) = (setup.graph, setup.gcn, setup.mlp, setup.mlpWidth)
        let dataset = try setup.simulate(images: 32)
        print("paper models: N = \(graph.nodes), \(graph.src.count) directed edges (peptide + hydrogen bonds, \(graph.hydrogenBondMethod))")
        var figures: [(String, Double)] = []
        var g = SeededGenerator(seed: 4)
        let z = Tensor.randn([32, 8], std: 0.1, using: &g)
        let cotangent = Tensor.randn([32, graph.nodes, 3], using: &g)
        let decoderMs = try medianMilliseconds(repeats: 21, warmup: 3) {
            _ = try valueAndGradient(wrt: gcn.parameters) { try (gcn.decode(z) * cotangent).sum() }
        }
        figures.append(("paper_gcn_L10_F10_decoder_fwd_bwd_B32_N214_ms", decoderMs))
        let rate = try sgemmRate()
        let floors = floorMilliseconds(nodes: graph.nodes, entries: graph.src.count + graph.nodes, rate: rate)
        print(String(format: "GCN decoder forward+backward: %.2f ms (%.0f%% of its floor at the best matmul rate, %.1f GFLOP/s)",
                     decoderMs, 100 * floors.decoder / decoderMs, rate / 1e9))
        for (name, decoder) in [("gcn_L10_F10", gcn as Decoder), ("mlp_W\(width)", mlp as Decoder)] {
            var settings = AutodecoderTrainer.Settings()
            settings.batch = 32
            let trainer = try setup.trainer(decoder, dataset: dataset, settings: settings)
            let state = try trainer.start()
            let batch = Array(0..<32)
            let ms = try medianMilliseconds(repeats: 21, warmup: 3) { _ = try trainer.step(state, images: batch) }
            figures.append(("paper_\(name)_train_step_B32_N214_D64_ms", ms))
            let floor = decoder.kind == "gcn" ? floors.gcnStep : floors.mlpStep
            print(String(format: "paper %@ (%d parameters): %.2f ms per step; FLOP floor %.2f ms at the best matmul rate (%.0f%% reached)",
                         decoder.kind, decoder.parameterCount, ms, floor, 100 * floor / ms))
            figures.append(("paper_\(name)_train_step_roofline_fraction", floor / ms))
        }
        return figures
    }

    /// Milliseconds the floating-point work of the GCN decoder (forward+backward) and of each training step takes at
    /// `rate` FLOP/s. Counted: every product forward and twice backward (the convolutions' dense h·W and sparse Â
    /// products over `entries` stored entries), the projector's 15×15-pixel windows, the CTF's real FFTs (forward
    /// and backward, 2.5·D²·log₂D² each) and the loss.
    static func floorMilliseconds(nodes: Int, entries: Int, rate: Double) -> (decoder: Double, gcnStep: Double, mlpStep: Double) {
        let (b, n, l, f, d) = (32.0, Double(nodes), 8.0, 10.0, 64.0)
        let dense = { (inputs: Double, outputs: Double) in 3 * 2 * b * inputs * outputs }
        let gcn = dense(l, l) + dense(l, n * f) + 10 * (dense(n * f, f) + 3 * 2 * b * Double(entries) * f) + dense(n * f, 3)
        let mlp = dense(l, 26) + 4 * dense(26, 26) + dense(26, 3 * n)
        let rest = 3 * b * n * 15 * 15 * 2 + 2 * 2 * b * 2.5 * d * d * log2(d * d) + 4 * b * d * d
        let ms = { (flops: Double) in flops / rate * 1000 }
        return (ms(gcn), ms(gcn + rest), ms(mlp + rest))
    }
}
