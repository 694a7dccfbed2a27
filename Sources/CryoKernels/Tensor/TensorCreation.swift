extension Tensor {
    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(uncheckedShape: shape, storage: [Float](repeating: value, count: Swift.max(0, shape.reduce(1, *))))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// `[start, start+step, …]` up to but excluding `end`, as a rank-1 tensor.
    public static func arange(_ start: Double, _ end: Double, step: Double = 1) throws -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw KernelError("arange", "needs finite bounds and a non-zero step, got \(start), \(end), \(step)")
        }
        let steps = ((end - start) / step).rounded(.up)
        guard steps <= Double(1 << 31) else { throw KernelError("arange", "\(start)..<\(end) in steps of \(step) would hold more than 2^31 values") }
        let n = steps > 0 ? Int(steps) : 0
        return Tensor((0..<n).map { Float(start + Double($0) * step) })
    }

    /// Standard-normal samples scaled by `std`, drawn from `generator`.
    public static func randn(_ shape: [Int], std: Float = 1, using generator: inout SeededGenerator) -> Tensor {
        let n = Swift.max(0, shape.reduce(1, *))
        return Tensor(uncheckedShape: shape, storage: (0..<n).map { _ in Float(generator.normal()) * std })
    }

    /// Uniform samples in `[low, high)` drawn from `generator`.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, using generator: inout SeededGenerator) -> Tensor {
        let n = Swift.max(0, shape.reduce(1, *))
        return Tensor(uncheckedShape: shape, storage: (0..<n).map { _ in low + (high - low) * Float(generator.uniform()) })
    }
}
