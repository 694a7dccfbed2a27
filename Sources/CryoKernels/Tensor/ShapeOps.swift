extension Tensor {
    /// The same elements under a new shape; one extent may be -1 (inferred).
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        var target = newShape
        let unknown = target.indices.filter { target[$0] == -1 }
        guard unknown.count <= 1, target.allSatisfy({ $0 >= -1 }) else {
            throw KernelError("reshape", "invalid target shape \(formatShape(newShape))")
        }
        if let u = unknown.first {
            let known = try elementCount(target.filter { $0 != -1 }, op: "reshape")
            guard known > 0, count % known == 0 else {
                throw KernelError("reshape", "cannot reshape \(formatShape(shape)) (\(count) values) to \(formatShape(newShape))")
            }
            target[u] = count / known
        }
        guard try elementCount(target, op: "reshape") == count else {
            throw KernelError("reshape", "cannot reshape \(formatShape(shape)) (\(count) values) to \(formatShape(newShape))")
        }
        if target == shape { return self }
        let out = Tensor(uncheckedShape: target, storage: storage)
        let s = shape
        Tape.recordIfNeeded(out, inputs: [self]) { g in [try g.reshape(s)] }
        return out
    }

    /// Reorders the axes: output axis i is input axis `axes[i]`.
    public func permute(_ axes: [Int]) throws -> Tensor {
        guard axes.count == rank, Set(axes).count == rank, axes.allSatisfy({ $0 >= 0 && $0 < rank }) else {
            throw KernelError("permute", "axes \(axes) are not a permutation of the \(rank) axes of shape \(formatShape(shape))")
        }
        if axes == Array(0..<rank) { return self }
        let outShape = axes.map { shape[$0] }
        let inStrides = stridesOf(shape)
        let src = axes.map { inStrides[$0] }
        var out = [Float](repeating: 0, count: count)
        storage.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                Broadcasting.walk(outShape, src, src) { i, j, _ in o[i] = x[j] }
            }
        }
        let result = Tensor(uncheckedShape: outShape, storage: out)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        Tape.recordIfNeeded(result, inputs: [self]) { g in [try g.permute(inverse)] }
        return result
    }

    /// Swaps two axes (by default the last two: a matrix transpose).
    public func transposed(_ a0: Int = -2, _ a1: Int = -1) throws -> Tensor {
        if rank < 2 { return self }
        let i = try axis(a0, op: "transpose"), j = try axis(a1, op: "transpose")
        var axes = Array(0..<rank)
        axes.swapAt(i, j)
        return try permute(axes)
    }

    /// Elements `start..<end` along `axis`.
    public func slice(axis: Int, start: Int, end: Int) throws -> Tensor {
        let a = try self.axis(axis, op: "slice")
        guard 0 <= start, start <= end, end <= shape[a] else {
            throw KernelError("slice", "range \(start)..<\(end) out of bounds for axis \(a) of shape \(formatShape(shape))")
        }
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let n = shape[a], m = end - start
        var out = [Float](repeating: 0, count: outer * m * inner)
        storage.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for p in 0..<outer {
                    let src = (p * n + start) * inner, dst = p * m * inner
                    for k in 0..<(m * inner) { o[dst + k] = x[src + k] }
                }
            }
        }
        var outShape = shape
        outShape[a] = m
        let result = Tensor(uncheckedShape: outShape, storage: out)
        let s = shape
        Tape.recordIfNeeded(result, inputs: [self]) { g in
            var d = [Float](repeating: 0, count: s.reduce(1, *))
            for p in 0..<outer {
                let dst = (p * n + start) * inner, src = p * m * inner
                for k in 0..<(m * inner) { d[dst + k] = g.storage[src + k] }
            }
            return [Tensor(uncheckedShape: s, storage: d)]
        }
        return result
    }

    /// Element `index` along axis 0, with that axis removed (negative indices count from the end).
    public func select(_ index: Int) throws -> Tensor {
        guard rank >= 1 else { throw KernelError("index", "cannot index a scalar") }
        let i = index < 0 ? index + shape[0] : index
        guard i >= 0 && i < shape[0] else {
            throw KernelError("index", "index \(index) out of range for axis 0 of shape \(formatShape(shape))")
        }
        return try slice(axis: 0, start: i, end: i + 1).reshape(Array(shape.dropFirst()))
    }

    /// Joins tensors along an existing axis; all other extents must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw KernelError("cat", "needs at least one tensor") }
        let a = try first.axis(axis, op: "cat")
        for t in tensors {
            guard t.rank == first.rank, t.shape.enumerated().allSatisfy({ $0.offset == a || $0.element == first.shape[$0.offset] }) else {
                throw KernelError("cat", "shapes \(formatShape(first.shape)) and \(formatShape(t.shape)) differ outside axis \(axis)")
            }
        }
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let widths = tensors.map { $0.shape[a] * inner }
        let total = widths.reduce(0, +)
        var out = [Float](repeating: 0, count: outer * total)
        var column = 0
        for (t, w) in zip(tensors, widths) {
            t.storage.withUnsafeBufferPointer { x in
                for p in 0..<outer { for k in 0..<w { out[p * total + column + k] = x[p * w + k] } }
            }
            column += w
        }
        var outShape = first.shape
        outShape[a] = tensors.map { $0.shape[a] }.reduce(0, +)
        let result = Tensor(uncheckedShape: outShape, storage: out)
        let extents = tensors.map { $0.shape[a] }
        Tape.recordIfNeeded(result, inputs: tensors) { g in
            var start = 0
            return try extents.map { e in
                defer { start += e }
                return try g.slice(axis: a, start: start, end: start + e)
            }
        }
        return result
    }

    /// Stacks equally shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw KernelError("stack", "needs at least one tensor") }
        for t in tensors where t.shape != first.shape {
            throw KernelError("stack", "all tensors need one shape; got \(formatShape(first.shape)) and \(formatShape(t.shape))")
        }
        let a = try first.axis(axis, op: "stack", extra: 1)
        var expanded = first.shape
        expanded.insert(1, at: a)
        return try concat(tensors.map { try $0.reshape(expanded) }, axis: a)
    }
}
