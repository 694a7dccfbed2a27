import CryoKernels

/// Projector forward+backward (B = 64; N = 214, 856; D = 64, 128) and CTF application forward+backward on
/// [64,128,128], each with the cotangent of a sum-of-squares loss, as the PyTorch reference times them.
enum ForwardModelBenchmark {
    static func run() throws -> [(String, Double)] {
        var figures: [(String, Double)] = []
        var g = SeededGenerator(seed: 5)
        let batch = 64
        for atoms in [214, 856] {
            for size in [64, 128] {
                let coords = Tensor.randn([batch, atoms, 3], std: 12, using: &g)
                let rotations = Rotation.tensor((0..<batch).map { _ in Rotation.random(using: &g) })
                let geometry = try Projector.Geometry(size: size, pixel: 128 / Float(size), sigma: [Float](repeating: 1.5, count: atoms),
                                                      weight: [Float](repeating: 1, count: atoms))
                let ms = try medianMilliseconds {
                    _ = try valueAndGradient(wrt: [coords]) {
                        try Projector.project(coords: coords, rotations: rotations, geometry: geometry).pow(2).sum()
                    }
                }
                figures.append(("projector_fwd_bwd_B64_N\(atoms)_D\(size)_ms", ms))
            }
        }
        let images = Tensor.randn([batch, 128, 128], using: &g)
        let ctf = (0..<batch).map { _ in CTFParameters(defocusU: 10000 + 15000 * g.uniform()) }
        let ctfMs = try medianMilliseconds {
            _ = try valueAndGradient(wrt: [images]) { try FourierFilter.applyCTF(images, parameters: ctf, pixel: 1).pow(2).sum() }
        }
        figures.append(("ctf_fwd_bwd_B64_D128_ms", ctfMs))
        for (k, v) in figures { print(k, String(format: "%.3f", v)) }
        return figures
    }
}
