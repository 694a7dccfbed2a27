/// Numpy broadcasting rules: shapes align at the right; an axis of extent 1 stretches.
enum Broadcasting {
    /// The broadcast shape of `a` and `b`, or an error naming `op` and both shapes.
    static func shape(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        if a == b { return a }
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw KernelError(op, "cannot broadcast shapes \(formatShape(a)) and \(formatShape(b))")
            }
            out[i] = da == 1 ? db : da
        }
        _ = try elementCount(out, op: op)
        return out
    }

    /// Strides that read a tensor of `shape` as if it had `target` shape (0 along stretched axes).
    static func strides(of shape: [Int], broadcastTo target: [Int]) -> [Int] {
        let own = stridesOf(shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { i in
            i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
        }
    }

    /// Calls `body(outIndex, aIndex, bIndex)` for every element of `shape`, walking two strided inputs.
    @inline(__always)
    static func walk(_ shape: [Int], _ sa: [Int], _ sb: [Int], _ body: (Int, Int, Int) -> Void) {
        walkRows(shape, sa, sb) { out, offA, offB, inner, ia, ib in
            for k in 0..<inner { body(out + k, offA + k * ia, offB + k * ib) }
        }
    }

    /// Calls `row(outStart, aStart, bStart, length, aStride, bStride)` for every row along the last axis of
    /// `shape`, so callers can run tight (vectorisable) loops over whole rows.
    @inline(__always)
    static func walkRows(_ shape: [Int], _ sa: [Int], _ sb: [Int], _ row: (Int, Int, Int, Int, Int, Int) -> Void) {
        let count = shape.reduce(1, *)
        guard count > 0 else { return }
        let r = shape.count
        if r == 0 { row(0, 0, 0, 1, 0, 0); return }
        let inner = shape[r - 1], ia = sa[r - 1], ib = sb[r - 1]
        var counter = [Int](repeating: 0, count: r)
        var offA = 0, offB = 0, out = 0
        while out < count {
            row(out, offA, offB, inner, ia, ib)
            out += inner
            var axis = r - 2
            while axis >= 0 {
                counter[axis] += 1
                offA += sa[axis]
                offB += sb[axis]
                if counter[axis] < shape[axis] { break }
                offA -= sa[axis] * shape[axis]
                offB -= sb[axis] * shape[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
    }
}

extension Tensor {
    /// This tensor stretched to `target` (a broadcast-compatible shape); the VJP sums back.
    public func broadcast(to target: [Int]) throws -> Tensor {
        if shape == target { return self }
        guard try Broadcasting.shape(shape, target, op: "broadcast") == target, try elementCount(target, op: "broadcast") <= 1 << 31 else {
            throw KernelError("broadcast", "cannot broadcast \(formatShape(shape)) to \(formatShape(target))")
        }
        var out = [Float](repeating: 0, count: target.reduce(1, *))
        let src = Broadcasting.strides(of: shape, broadcastTo: target)
        storage.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                Broadcasting.walk(target, src, src) { i, j, _ in o[i] = x[j] }
            }
        }
        let result = Tensor(uncheckedShape: target, storage: out)
        let original = shape
        Tape.recordIfNeeded(result, inputs: [self]) { g in [try g.sum(toShape: original)] }
        return result
    }

    /// Sums a broadcast result back to `target` (the adjoint of broadcasting), accumulating in Double: in one pass
    /// when only leading axes are summed away, otherwise each stretched axis with the contiguous `sum(axis:)` loops.
    public func sum(toShape target: [Int]) throws -> Tensor {
        if shape == target { return self }
        guard try Broadcasting.shape(target, shape, op: "sum_to_shape") == shape else {
            throw KernelError("sum_to_shape", "cannot reduce \(formatShape(shape)) to \(formatShape(target))")
        }
        let padded = [Int](repeating: 1, count: shape.count - target.count) + target
        // Leading axes summed away, trailing ones kept (biases, scalars, a template added to a batch): one pass.
        let kept = padded.count - (padded.lastIndex(where: { $0 == 1 }).map { $0 + 1 } ?? 0)
        if padded.dropLast(kept).allSatisfy({ $0 == 1 }) {
            let result = Tensor(uncheckedShape: target, storage: sumOfRows(width: shape.suffix(kept).reduce(1, *)))
            let original = shape
            Tape.recordIfNeeded(result, inputs: [self]) { g in [try g.broadcast(to: original)] }
            return result
        }
        let reduced = try Tape.$active.withValue(nil) { () throws -> Tensor in
            var t = self.detached()
            for axis in stride(from: shape.count - 1, through: 0, by: -1) where padded[axis] == 1 && shape[axis] != 1 {
                t = try t.sum(axis: axis, keepDims: true)
            }
            return t
        }
        let result = Tensor(uncheckedShape: target, storage: reduced.storage)
        let original = shape
        Tape.recordIfNeeded(result, inputs: [self]) { g in [try g.broadcast(to: original)] }
        return result
    }

    /// The storage read as rows of `width` floats, summed row by row in Double (`width` 1: the total, over eight
    /// interleaved partial sums so the loop is not one long dependency chain).
    private func sumOfRows(width: Int) -> [Float] {
        guard width > 0 else { return [] }
        let rows = count / width
        var acc = [Double](repeating: 0, count: width == 1 ? 8 : width)
        storage.withUnsafeBufferPointer { x in acc.withUnsafeMutableBufferPointer { a in
            if width == 1 {
                for k in 0..<count { a[k & 7] += Double(x[k]) }
                a[0] = a.reduce(0, +)
            } else {
                for r in 0..<rows { for i in 0..<width { a[i] += Double(x[r * width + i]) } }
            }
        } }
        return acc.prefix(width).map { Float($0) }
    }
}
