import Foundation

/// Adam (Kingma & Ba) with bias-corrected first and second moments, as in PyTorch's default.
public final class Adam: Optimizer {
    public let params: [Tensor]
    public var learningRate: Float
    /// Decay rates of the first and second moment estimates.
    public let beta1: Float, beta2: Float
    /// Added to the root of the second moment to avoid division by zero.
    public let epsilon: Float
    /// Number of steps taken so far.
    public private(set) var stepCount = 0
    private var m: [[Float]], v: [[Float]]

    /// An optimiser for `params`.
    public init(_ params: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.params = params
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        m = params.map { [Float](repeating: 0, count: $0.count) }
        v = m
    }

    public func step(_ grads: [Tensor]) throws {
        try validate(grads, op: "adam.step")
        stepCount += 1
        let c1 = 1 - Float(Foundation.pow(Double(beta1), Double(stepCount)))
        let c2 = 1 - Float(Foundation.pow(Double(beta2), Double(stepCount)))
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon
        for (i, p) in params.enumerated() {
            grads[i].storage.withUnsafeBufferPointer { g in
                m[i].withUnsafeMutableBufferPointer { mi in
                    v[i].withUnsafeMutableBufferPointer { vi in
                        p.storage.withUnsafeMutableBufferPointer { x in
                            for j in 0..<x.count {
                                mi[j] = b1 * mi[j] + (1 - b1) * g[j]
                                vi[j] = b2 * vi[j] + (1 - b2) * g[j] * g[j]
                                x[j] -= lr * (mi[j] / c1) / ((vi[j] / c2).squareRoot() + eps)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The optimiser's moment buffers and step count, for checkpoints.
    public var state: (step: Int, m: [[Float]], v: [[Float]]) { (stepCount, m, v) }

    /// Restores a state saved from an optimiser over parameters of the same shapes.
    public func restore(step: Int, m: [[Float]], v: [[Float]]) throws {
        guard m.count == params.count, v.count == params.count,
              zip(params, zip(m, v)).allSatisfy({ $0.count == $1.0.count && $0.count == $1.1.count }) else {
            throw KernelError("adam.restore", "saved state does not match the \(params.count) parameters")
        }
        stepCount = step
        self.m = m
        self.v = v
    }
}
