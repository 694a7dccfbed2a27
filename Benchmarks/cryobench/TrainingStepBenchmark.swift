import CryoKernels
import Foundation
import Interpreter

/// One GNN message layer forward+backward (batch 32, hidden 64, k = 8 neighbours; N = 214 and 2,000), and one
/// full autodecoder training step (4 such layers, latent 8, batch 32, D = 64; projector, CTF, MSE, bond and clash
/// regularisers, Adam) with the native decoder and with the same decoder written in the language.
enum TrainingStepBenchmark {
    static func run() throws -> [(String, Double)] {
        var figures: [(String, Double)] = []
        var g = SeededGenerator(seed: 13)
        for nodes in [214, 2000] {
            let coords = (0..<(3 * nodes)).map { _ in g.normal() * (nodes > 500 ? 25 : 12) }
            let graph = try NeighbourGraphs.knn(coords, k: 8)
            let decoder = try MessagePassingDecoder(kind: "mpnn", graph: graph, template: coords, latent: 8, hidden: 64, layers: 1, seed: 1)
            let z = Tensor.randn([32, 8], using: &g)
            let ms = try medianMilliseconds {
                _ = try valueAndGradient(wrt: decoder.parameters) { try decoder.decode(z).pow(2).sum() }
            }
            figures.append(("gnn_layer_fwd_bwd_B32_N\(nodes)_H64_K8_ms", ms))
        }
        // The training step.
        let nodes = 214
        let coords = (0..<(3 * nodes)).map { _ in g.normal() * 12 }
        let graph = try NeighbourGraphs.knn(coords, k: 8)
        let decoder = try MessagePassingDecoder(kind: "mpnn", graph: graph, template: coords, latent: 8, hidden: 64, layers: 4, seed: 1)
        let geometry = try Projector.Geometry(size: 64, pixel: 2, sigma: [Float](repeating: 1.5, count: nodes), weight: [Float](repeating: 1, count: nodes))
        let regularizers = try Regularizers(template: coords)
        let template = Tensor(coords.map(Float.init))
        let latents = Tensor.randn([32, 8], std: 0.1, using: &g).asParameter()
        let targets = Tensor.randn([32, 64, 64], using: &g)
        let rotations = Rotation.tensor((0..<32).map { _ in Rotation.random(using: &g) })
        let ctf = (0..<32).map { _ in CTFParameters(defocusU: 10000 + 15000 * g.uniform()) }
        let parameters = decoder.parameters + [latents]
        let adam = Adam(parameters)
        let shaped = try template.reshape([1, nodes, 3])
        // The same step with the decoder written in the language (node-major message layers, as custom_layer.cryo).
        let interpreter = Interpreter()
        interpreter.output = { _ in }
        try interpreter.run("""
        let x0 = randn([214, 3], std: 12, seed: 2)
        let g = knn_graph(x0, k: 8)
        let H = 64
        let d = norm(x0[g.src] - x0[g.dst], axis: -1, keepdims: true)
        let rbf = reshape(exp(-((d - (arange(0, 16) * 1.2 + 2)) ** 2) / 4.5), [g.edges, 1, 16])
        fn layer(seed) = {a: param(uniform([H, H], low: -0.1, high: 0.1, seed: seed)), b: param(uniform([H, H], low: -0.1, high: 0.1, seed: seed + 1)),
                          e: linear(16, H, seed: seed + 2), u: linear(H, H, seed: seed + 3)}
        let p = {input: linear(8, H, seed: 1), embed: param(randn([214, 1, H], std: 0.1, seed: 2)),
                 layers: [layer(10), layer(20), layer(30), layer(40)], out: linear(H, 3, seed: 3), z: param(randn([32, 8], std: 0.1, seed: 4))}
        fn decode(z) {
          var h = silu(p.input(z) + p.embed)
          for l in p.layers { h = h + l.u(message_aggregate(h @ l.a, h @ l.b, l.e(rbf), g.src, g.dst)) }
          permute(p.out(h), [1, 0, 2])
        }
        let R = random_rotations(32, seed: 5)
        let targets = randn([32, 64, 64], seed: 6)
        let optics = {defocus: uniform([32], low: 10000, high: 25000, seed: 7), pixel: 2}
        let opt = adam(p, lr: 1e-3)
        fn loss() {
          let x = decode(p.z) + x0
          let images = apply_ctf(project(x, R, size: 64, pixel: 2, sigma: 1.5, weights: 1), optics)
          mean((images - targets) ** 2) + 5e-4 * bond_loss(x, target: 3.8) + 1e-2 * clash_loss(x, min: 4)
        }
        fn step() = opt.step(grad(loss, p))
        """)
        func nativeStep() throws {
            let (_, grads) = try valueAndGradient(wrt: parameters) {
                let x = try decoder.decode(latents) + shaped
                let images = try FourierFilter.applyCTF(try Projector.project(coords: x, rotations: rotations, geometry: geometry), parameters: ctf, pixel: 2)
                let residual = try images - targets
                return try (residual * residual).mean() + regularizers.bond(x) * 5e-4 + regularizers.clash(x, minimum: 4) * 1e-2
            }
            try adam.step(grads)
        }
        // Timed in alternation, so the language's ratio to native is taken over the same seconds.
        let (step, scripted) = try interleavedMedianMilliseconds(nativeStep, { try interpreter.run("step()") })
        figures.append(("train_step_B32_N214_H64_L4_D64_ms", step))
        figures.append(("train_step_roofline_fraction", try rooflineFraction(stepMilliseconds: step, nodes: nodes, edges: graph.src.count)))
        figures.append(("train_step_B32_N214_H64_L4_D64_language_ms", scripted))
        for (k, v) in figures { print(k, v) }
        return figures
    }

    /// The fraction of the compute floor the step reaches: the floating-point operations it must do (counted below)
    /// at the best matmul rate measured now (`sgemmRate`), against the measured step time.
    static func rooflineFraction(stepMilliseconds: Double, nodes: Int, edges: Int) throws -> Double {
        let (b, h, layers, d) = (32.0, 64.0, 4.0, 64.0)
        let rows = Double(nodes) * b
        // Per layer: the two node-level message matrices and the update (forward 2·rows·H², backward twice that),
        // and the fused message (about 20 operations per element for silu and its derivative; a forward and a
        // backward pass).
        let layer = 3 * (3 * 2 * rows * h * h) + 2 * 20 * Double(edges) * b * h
        // Latent input and output layers, the projector (15×15-pixel windows, forward and backward),
        // the CTF (two real FFTs of D² per image, forward and backward, 2.5·D²·log2(D²) each) and the MSE.
        let io = 3 * 2 * (b * 8 * h + rows * h * 3)
        let projector = 3 * b * Double(nodes) * 15 * 15 * 2
        let ctf = 2 * 2 * b * 2.5 * d * d * log2(d * d)
        let flops = layers * layer + io + projector + ctf + 4 * b * d * d
        let rate = try sgemmRate()
        let floor = flops / rate * 1000
        print(String(format: "training step: %.2f GFLOP; at the best measured matmul rate (%.1f GFLOP/s) the floor is %.1f ms; the step (%.1f ms) reaches %.0f%% of it",
                     flops / 1e9, rate / 1e9, floor, stepMilliseconds, 100 * floor / stepMilliseconds))
        return floor / stepMilliseconds
    }
}
