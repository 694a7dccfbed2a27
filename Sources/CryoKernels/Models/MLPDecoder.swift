/// The paper's baseline: z → Linear(L, w) + ReLU → `depth` × [Linear(w, w) + ReLU] → Linear(w, 3N),
/// read as per-node displacements. `matching` picks w so the parameter count is as close as possible to
/// another model's (w = 26 against the GCN's 20,465 for 214 residues: 20,376 parameters).
public final class MLPDecoder: Decoder, @unchecked Sendable {
    public let kind = "mlp"
    public let latentDimension: Int
    public let nodes: Int
    /// Hidden width w.
    public let width: Int
    let layers: [Linear]

    /// A baseline of hidden width `width` initialised from `seed`.
    public init(latent: Int = 8, nodes: Int, width: Int, depth: Int = 4, seed: UInt64 = 0) throws {
        guard latent >= 1, nodes >= 1, width >= 1, depth >= 0 else { throw KernelError("mlp", "sizes must be positive") }
        var g = SeededGenerator(seed: seed)
        latentDimension = latent
        self.nodes = nodes
        self.width = width
        layers = [Linear(latent, width, using: &g)] + (0..<depth).map { _ in Linear(width, width, using: &g) } + [Linear(width, 3 * nodes, using: &g)]
    }

    /// Parameter count of the baseline shape with hidden width w.
    public static func parameterCount(latent: Int, nodes: Int, width w: Int, depth: Int = 4) -> Int {
        (latent + 1) * w + depth * (w + 1) * w + (w + 1) * 3 * nodes
    }

    /// The width whose parameter count is closest to `target`.
    public static func width(matching target: Int, latent: Int, nodes: Int, depth: Int = 4) -> Int {
        var best = 1
        for w in 1...4096 where abs(parameterCount(latent: latent, nodes: nodes, width: w, depth: depth) - target)
            < abs(parameterCount(latent: latent, nodes: nodes, width: best, depth: depth) - target) { best = w }
        return best
    }

    public var parameters: [Tensor] { layers.flatMap(\.parameters) }

    public func decode(_ z: Tensor) throws -> Tensor {
        try validate(z)
        var h = z
        for (k, layer) in layers.enumerated() {
            h = try layer(h)
            if k < layers.count - 1 { h = h.relu() }
        }
        return try h.reshape([z.shape[0], nodes, 3])
    }
}
