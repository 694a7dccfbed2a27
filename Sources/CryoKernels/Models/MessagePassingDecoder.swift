import Foundation

/// Research variants on the residue graph, in node-major layout [N, B, H]:
/// - "mpnn": messages m = SiLU(h_src·A + h_dst·B + rbf(d₀)·C + b) from node pairs and edge features (radial basis
///   of the template distance), h ← h + Σ_dst m·W₂ + b₂;
/// - "egnn": E(n)-equivariant updates (Satorras et al. 2021) that also move coordinates,
///   x ← x + mean_dst r/(|r| + 1)·φ(m) with r = x_dst − x_src (the normalised update that keeps deep stacks stable),
///   messages from h and squared distances only (in nm², i.e. Å²/100); the displacement is x − template.
/// Both start from h₀ = SiLU(z·W_z + e_node) (the latent on every node plus a learned node embedding).
/// The first message matrix is split by blocks so its node parts are computed once per node and gathered.
public final class MessagePassingDecoder: Decoder, @unchecked Sendable {
    public let kind: String
    public let latentDimension: Int
    public let nodes: Int
    /// Feature width H and number of layers.
    public let hidden: Int
    let src: Tensor, dst: Tensor
    let edgeFeatures: Tensor
    let template: Tensor
    let latentIn: Linear
    let nodeEmbedding: Tensor
    let messageSource: [Tensor], messageTarget: [Tensor], messageEdge: [Linear], update: [Linear], coordinate: [Tensor]
    let output: Linear?
    /// Radial basis size for the "mpnn" edge features.
    static let radialBasis = 16

    /// A decoder of `kind` ("mpnn" or "egnn") on `graph` with the template coordinates [N·3] (Å).
    public init(kind: String, graph: ResidueGraph, template: [Double], latent: Int = 8, hidden: Int = 64, layers: Int = 4, seed: UInt64 = 0) throws {
        guard kind == "mpnn" || kind == "egnn" else { throw KernelError("gnn", "unknown kind \"\(kind)\" (gcn, mpnn, egnn)") }
        guard template.count == 3 * graph.nodes else {
            throw KernelError("gnn", "template has \(template.count / 3) atoms, the graph \(graph.nodes) nodes")
        }
        guard latent >= 1, hidden >= 1, layers >= 1 else { throw KernelError("gnn", "latent, hidden and layers must be positive") }
        var g = SeededGenerator(seed: seed)
        self.kind = kind
        latentDimension = latent
        nodes = graph.nodes
        self.hidden = hidden
        src = Tensor(graph.src.map(Float.init))
        dst = Tensor(graph.dst.map(Float.init))
        self.template = Tensor(uncheckedShape: [graph.nodes, 1, 3], storage: Superposition.centred(template).map(Float.init))
        let edgeInputs = kind == "mpnn" ? MessagePassingDecoder.radialBasis : 1
        edgeFeatures = kind == "mpnn" ? MessagePassingDecoder.radialFeatures(template, graph) : Tensor.zeros([graph.src.count, 1, 1])
        latentIn = Linear(latent, hidden, using: &g)
        nodeEmbedding = Tensor.randn([graph.nodes, 1, hidden], std: 0.1, using: &g).asParameter()
        let bound = 1 / Float(2 * hidden + edgeInputs).squareRoot()
        messageSource = (0..<layers).map { _ in Tensor.uniform([hidden, hidden], low: -bound, high: bound, using: &g).asParameter() }
        messageTarget = (0..<layers).map { _ in Tensor.uniform([hidden, hidden], low: -bound, high: bound, using: &g).asParameter() }
        messageEdge = (0..<layers).map { _ in Linear(edgeInputs, hidden, using: &g) }
        update = (0..<layers).map { _ in Linear(hidden, hidden, using: &g) }
        coordinate = kind == "egnn" ? (0..<layers).map { _ in Tensor.uniform([hidden, 1], low: -0.01, high: 0.01, using: &g).asParameter() } : []
        output = kind == "mpnn" ? Linear(hidden, 3, using: &g) : nil
    }

    /// Gaussian radial basis of each edge's template distance [E, 1, R] (centres 2–20 Å, width 1.5 Å).
    static func radialFeatures(_ coords: [Double], _ graph: ResidueGraph) -> Tensor {
        var out: [Float] = []
        for (s, t) in zip(graph.src, graph.dst) {
            let d = (0..<3).map { coords[3 * Int(s) + $0] - coords[3 * Int(t) + $0] }
            let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).squareRoot()
            for k in 0..<radialBasis {
                let centre = 2 + 18 * Double(k) / Double(radialBasis - 1)
                out.append(Float(Foundation.exp(-(r - centre) * (r - centre) / (2 * 1.5 * 1.5))))
            }
        }
        return Tensor(uncheckedShape: [graph.src.count, 1, radialBasis], storage: out)
    }

    public var parameters: [Tensor] {
        latentIn.parameters + [nodeEmbedding] + messageSource + messageTarget + messageEdge.flatMap(\.parameters)
            + update.flatMap(\.parameters) + coordinate + (output?.parameters ?? [])
    }

    public func decode(_ z: Tensor) throws -> Tensor {
        try validate(z)
        let batch = z.shape[0]
        var h = try (latentIn(z) + nodeEmbedding).silu()                        // [N,B,H]
        var x = kind == "egnn" ? try template.broadcast(to: [nodes, batch, 3]) : template   // [N,B,3] moving coordinates (egnn)
        for layer in 0..<messageSource.count {
            let source = try Tensor.matmul(h, messageSource[layer]), target = try Tensor.matmul(h, messageTarget[layer])   // [N,B,H]
            guard kind == "egnn" else {
                // mpnn: the fused kernel forms no [E,B,H] tensor.
                let edge = try messageEdge[layer](edgeFeatures)                   // [E,1,H]
                h = try h + update[layer](try Tensor.messageAggregate(source: source, target: target, edge: edge, src: src, dst: dst))
                continue
            }
            let r = try x.gather(dst) - x.gather(src)                             // [E,B,3]
            let squared = try (r * r).sum(axis: -1, keepDims: true)               // [E,B,1]
            let edge = try messageEdge[layer](try squared * 0.01)
            let message = try (source.gather(src) + target.gather(dst) + edge).silu()   // [E,B,H]: egnn needs each message
            let weight = try Tensor.matmul(message, coordinate[layer])            // [E,B,1]
            x = try x + (r / (squared.sqrt() + 1) * weight).segmentMean(dst, segments: nodes)
            h = try h + update[layer](try message.segmentSum(dst, segments: nodes))
        }
        let displacement = try output.map { try $0(h) } ?? (x - template)
        return try displacement.permute([1, 0, 2])                              // [B,N,3]
    }
}
