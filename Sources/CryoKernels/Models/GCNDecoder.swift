/// The paper's decoder: z → Linear(L, L) + ReLU → Linear(L, N·F) reshaped to N×F node features →
/// `layers` graph convolutions h ← ReLU(Â·h·W + b) + h, the first without the residual as in the paper's reference
/// implementation (optionally with it) → Linear(F, 3) per node. Â is the self-loop-2 symmetric normalisation of the residue graph; the convolutions run as one fused op
/// (`GraphConvolutionStack`). Defaults (L = 8, F = 10, 10 layers) give 20,465 parameters for 214 residues.
public final class GCNDecoder: Decoder, @unchecked Sendable {
    public let kind = "gcn"
    public let latentDimension: Int
    public let nodes: Int
    /// Node feature width F.
    public let hidden: Int
    let convolutionStack: GraphConvolutionStack
    let first: Linear, embed: Linear, convolutions: [Linear], output: Linear

    /// How the convolutions' weights start (the other layers always start as PyTorch's `Linear`).
    public enum Initialisation: String, Sendable, CaseIterable {
        /// PyTorch's `Linear` (uniform in ±1/√F for weights and bias), as the PyTorch calibration's GCN: the
        /// default, a documented deviation from the reference, because it measured far better (README, "Fidelity").
        case linear
        /// PyTorch Geometric's `GCNConv`, as the reference implementation: Glorot-uniform weights, zero bias.
        case glorot
    }

    /// A decoder on `graph` initialised from `seed`; `firstLayerResidual` says whether the first convolution adds
    /// its input back, as the later ones do (the paper's reference implementation does not).
    public init(graph: ResidueGraph, latent: Int = 8, hidden: Int = 10, layers: Int = 10, firstLayerResidual: Bool = false,
                initialisation: Initialisation = .linear, seed: UInt64 = 0) throws {
        guard latent >= 1, hidden >= 1, layers >= 0, graph.nodes >= 1 else {
            throw KernelError("gnn", "latent, hidden and node counts must be positive and layers non-negative")
        }
        var g = SeededGenerator(seed: seed)
        latentDimension = latent
        nodes = graph.nodes
        self.hidden = hidden
        convolutionStack = GraphConvolutionStack(adjacency: graph.normalizedAdjacency(selfLoop: 2), firstResidual: firstLayerResidual)
        first = Linear(latent, latent, using: &g)
        embed = Linear(latent, graph.nodes * hidden, using: &g)
        convolutions = (0..<layers).map { _ in
            initialisation == .glorot ? Linear(glorot: hidden, hidden, using: &g) : Linear(hidden, hidden, using: &g)
        }
        output = Linear(hidden, 3, using: &g)
    }

    public var parameters: [Tensor] { first.parameters + embed.parameters + convolutions.flatMap(\.parameters) + output.parameters }

    public func decode(_ z: Tensor) throws -> Tensor {
        try validate(z)
        let h = try embed(try first(z).relu()).reshape([z.shape[0], nodes, hidden])
        return try output(try convolutionStack.apply(h, weights: convolutions.map(\.weight), biases: convolutions.map(\.bias)))
    }
}
