import Foundation

/// A dense layer x·W + b with PyTorch's default initialisation (uniform in ±1/√in for W and b).
public struct Linear: Sendable {
    /// Weight [in, out] and bias [out], trainable leaves.
    public let weight: Tensor, bias: Tensor

    /// A layer from `input` to `output` features drawn from `generator`.
    public init(_ input: Int, _ output: Int, using generator: inout SeededGenerator) {
        let bound = 1 / Float(Swift.max(input, 1)).squareRoot()
        weight = Tensor.uniform([input, output], low: -bound, high: bound, using: &generator).asParameter()
        bias = Tensor.uniform([output], low: -bound, high: bound, using: &generator).asParameter()
    }

    /// x [..., in] → [..., out].
    public func callAsFunction(_ x: Tensor) throws -> Tensor { try Tensor.matmul(x, weight) + bias }

    /// A layer initialised as PyTorch Geometric's `GCNConv`: Glorot-uniform weights (±√(6/(in + out))), zero bias.
    public init(glorot input: Int, _ output: Int, using generator: inout SeededGenerator) {
        let bound = (6 / Float(Swift.max(input + output, 1))).squareRoot()
        weight = Tensor.uniform([input, output], low: -bound, high: bound, using: &generator).asParameter()
        bias = Tensor.zeros([output]).asParameter()
    }

    /// Weight and bias.
    public var parameters: [Tensor] { [weight, bias] }
}

/// A model that maps latents [B, L] to per-node displacements [B, N, 3] (Å) of a template.
public protocol Decoder: AnyObject, Sendable {
    /// Short name ("gcn", "mlp", "mpnn", "egnn").
    var kind: String { get }
    /// Latent dimension L.
    var latentDimension: Int { get }
    /// Number of nodes N.
    var nodes: Int { get }
    /// Trainable tensors in a fixed order (optimisers and checkpoints rely on it).
    var parameters: [Tensor] { get }
    /// Displacements [B, N, 3] for latents [B, L]; differentiable in the latents and parameters.
    func decode(_ z: Tensor) throws -> Tensor
}

extension Decoder {
    /// Total number of trainable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Checks a latent batch's shape.
    func validate(_ z: Tensor) throws {
        guard z.rank == 2, z.shape[1] == latentDimension else {
            throw KernelError.shape(kind, expected: "latents [B,\(latentDimension)]", got: z.shape)
        }
    }
}
