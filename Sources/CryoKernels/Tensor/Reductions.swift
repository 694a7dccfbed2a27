import Foundation

extension Tensor {
    /// Views this tensor as `[outer, n, inner]` around `axis`.
    private func split(at axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// The shape after reducing `axis` (kept as extent 1 when `keepDims`).
    private func reducedShape(_ axis: Int, keepDims: Bool) -> [Int] {
        var s = shape
        if keepDims { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }

    /// Sum of all elements (accumulated in Double) as a scalar tensor.
    public func sum() -> Tensor {
        let out = Tensor(Float(storage.withUnsafeBufferPointer { Tensor.doubleSum($0) }))
        let s = shape
        Tape.recordIfNeeded(out, inputs: [self]) { g in [Tensor.full(s, g.storage[0])] }
        return out
    }

    /// Σ x in Double, over eight lanes (two SIMD4<Double> of each SIMD8<Float>), so the additions do not wait on each
    /// other as one running sum's did (four cycles per element).
    static func doubleSum(_ x: UnsafeBufferPointer<Float>) -> Double {
        guard let base = x.baseAddress else { return 0 }
        var (low, high) = (SIMD4<Double>(), SIMD4<Double>())
        var k = 0
        while k + 8 <= x.count {
            let v = UnsafeRawPointer(base + k).loadUnaligned(as: SIMD8<Float>.self)
            low += SIMD4<Double>(v.lowHalf)
            high += SIMD4<Double>(v.highHalf)
            k += 8
        }
        var total = (low + high).sum()
        while k < x.count { total += Double(base[k]); k += 1 }
        return total
    }

    /// Sum over one axis (accumulated in Double).
    public func sum(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let a = try self.axis(axis, op: "sum")
        let (outer, n, inner) = split(at: a)
        var acc = [Double](repeating: 0, count: outer * inner)
        storage.withUnsafeBufferPointer { x in
            acc.withUnsafeMutableBufferPointer { s in
                for o in 0..<outer {
                    for k in 0..<n {
                        let base = (o * n + k) * inner
                        for i in 0..<inner { s[o * inner + i] += Double(x[base + i]) }
                    }
                }
            }
        }
        let keptShape = reducedShape(a, keepDims: true)
        let out = Tensor(uncheckedShape: reducedShape(a, keepDims: keepDims), storage: acc.map { Float($0) })
        let s = shape
        Tape.recordIfNeeded(out, inputs: [self]) { g in [try g.reshape(keptShape).broadcast(to: s)] }
        return out
    }

    /// Mean of all elements.
    public func mean() throws -> Tensor {
        guard count > 0 else { throw KernelError("mean", "empty tensor of shape \(formatShape(shape))") }
        return try sum() * (1 / Float(count))
    }

    /// Mean over one axis.
    public func mean(axis: Int, keepDims: Bool = false) throws -> Tensor {
        let a = try self.axis(axis, op: "mean")
        guard shape[a] > 0 else { throw KernelError("mean", "axis \(axis) of shape \(formatShape(shape)) is empty") }
        return try sum(axis: a, keepDims: keepDims) * (1 / Float(shape[a]))
    }

    /// Largest element along `axis` (all elements when nil); the gradient flows to the first maximiser.
    public func max(axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        guard count > 0 else { throw KernelError("max", "empty tensor of shape \(formatShape(shape))") }
        let flat = axis == nil
        let a = try flat ? 0 : self.axis(axis!, op: "max")
        let (outer, n, inner) = flat ? (1, count, 1) : split(at: a)
        guard n > 0 else { throw KernelError("max", "axis \(a) of shape \(formatShape(shape)) is empty") }
        var values = [Float](repeating: -.infinity, count: outer * inner)
        var argmax = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = -Float.infinity, where_ = o * n * inner + i
                for k in 0..<n {
                    let j = (o * n + k) * inner + i
                    if storage[j] > best || storage[j].isNaN { best = storage[j]; where_ = j; if best.isNaN { break } }
                }
                values[o * inner + i] = best
                argmax[o * inner + i] = where_
            }
        }
        let outShape = flat ? (keepDims ? [Int](repeating: 1, count: rank) : []) : reducedShape(a, keepDims: keepDims)
        let out = Tensor(uncheckedShape: outShape, storage: values)
        let s = shape
        Tape.recordIfNeeded(out, inputs: [self]) { g in
            var d = [Float](repeating: 0, count: s.reduce(1, *))
            for (k, j) in argmax.enumerated() { d[j] += g.storage[k] }
            return [Tensor(uncheckedShape: s, storage: d)]
        }
        return out
    }

    /// Euclidean norm along `axis` (all elements when nil); the gradient at a zero norm is 0.
    public func norm(axis: Int? = nil, keepDims: Bool = false) throws -> Tensor {
        let squares = mapUnary { $0 * $0 }
        let summed: Tensor
        if let axis { summed = try squares.sum(axis: axis, keepDims: true) } else { summed = try squares.sum().reshape([Int](repeating: 1, count: rank)) }
        let normKept = summed.mapUnary { $0.squareRoot() }
        let outShape: [Int]
        if let axis { outShape = reducedShape(try self.axis(axis, op: "norm"), keepDims: keepDims) } else { outShape = keepDims ? normKept.shape : [] }
        let out = Tensor(uncheckedShape: outShape, storage: normKept.storage)
        let keptShape = normKept.shape
        Tape.recordIfNeeded(out, inputs: [self]) { [self] g in
            let gk = try g.reshape(keptShape)
            let scale = try Tensor.mapBinary(gk, normKept, op: "norm") { $1 > 0 ? $0 / $1 : 0 }
            return [try self.detached() * scale]
        }
        return out
    }
}
