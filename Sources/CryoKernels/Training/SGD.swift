/// Stochastic gradient descent with optional (heavy-ball) momentum: v ← μ·v + g, p ← p − lr·v.
public final class SGD: Optimizer {
    public let params: [Tensor]
    public var learningRate: Float
    /// Momentum coefficient μ (0 disables momentum).
    public let momentum: Float
    private var velocity: [[Float]]

    /// An optimiser for `params` with step size `learningRate` and momentum μ.
    public init(_ params: [Tensor], learningRate: Float, momentum: Float = 0) {
        self.params = params
        self.learningRate = learningRate
        self.momentum = momentum
        velocity = params.map { [Float](repeating: 0, count: $0.count) }
    }

    public func step(_ grads: [Tensor]) throws {
        try validate(grads, op: "sgd.step")
        for (i, p) in params.enumerated() {
            let g = grads[i].storage
            for j in 0..<p.count {
                velocity[i][j] = momentum * velocity[i][j] + g[j]
                p.storage[j] -= learningRate * velocity[i][j]
            }
        }
    }
}
