/// A first-order optimiser over a fixed list of parameter tensors, updated in place.
public protocol Optimizer: AnyObject {
    /// The tensors this optimiser updates.
    var params: [Tensor] { get }
    /// The step size; mutable so schedules (warm-up, decay) can change it between steps.
    var learningRate: Float { get set }
    /// Applies one update with one gradient per parameter (same order and shapes as `params`).
    func step(_ grads: [Tensor]) throws
}

extension Optimizer {
    /// Applies one update using each parameter's accumulated `.grad` (missing gradients count as zero),
    /// then clears the `.grad`s.
    public func step() throws {
        try step(params.map { $0.grad ?? Tensor.zeros($0.shape) })
        for p in params { p.grad = nil }
    }

    /// Checks that `grads` pairs one-to-one with `params` by shape.
    func validate(_ grads: [Tensor], op: String) throws {
        guard grads.count == params.count else {
            throw KernelError(op, "got \(grads.count) gradients for \(params.count) parameters")
        }
        for (i, (p, g)) in zip(params, grads).enumerated() where p.shape != g.shape {
            throw KernelError(op, "gradient \(i) has shape \(formatShape(g.shape)), its parameter \(formatShape(p.shape))")
        }
    }
}
