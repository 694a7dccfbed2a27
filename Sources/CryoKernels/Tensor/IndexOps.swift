extension Tensor {
    /// Reads this tensor as integer indices in `0..<bound` (index tensors hold whole numbers in Float32,
    /// exact below 2²⁴); throws naming `op` on a fractional or out-of-range entry.
    public func indices(below bound: Int, op: String) throws -> [Int32] {
        var result = [Int32](repeating: 0, count: count)
        for (k, v) in storage.enumerated() {
            guard v == v.rounded(), v >= 0, v < Float(bound) else {
                throw KernelError(op, "index \(Tensor.format(v)) at position \(k) is not an integer in 0..<\(bound)")
            }
            result[k] = Int32(v)
        }
        return result
    }

    /// Rows of this tensor picked by `index` (any shape): result shape is `index.shape + shape[1...]`.
    /// The VJP scatters (adds) the cotangent rows back.
    public func gather(_ index: Tensor) throws -> Tensor {
        guard rank >= 1 else { throw KernelError("gather", "cannot gather rows of a scalar") }
        let rows = try index.indices(below: shape[0], op: "gather")
        return try gatherRows(rows, indexShape: index.shape)
    }

    /// `gather` with indices already validated to lie in `0..<shape[0]`.
    func gatherRows(_ rows: [Int32], indexShape: [Int]) throws -> Tensor {
        let width = shape.dropFirst().reduce(1, *)
        let n = rows.count
        let out = [Float](unsafeUninitializedCapacity: n * width) { buffer, initialized in
            let o = SharedPointer(base: buffer.baseAddress!)
            storage.withUnsafeBufferPointer { xb in
                let x = xb.baseAddress!
                Parallel.forRanges(n, grain: Swift.max(1, 8192 / Swift.max(width, 1))) { r in
                    for e in r {
                        let src = Int(rows[e]) * width, dst = e * width
                        for k in 0..<width { o.base[dst + k] = x[src + k] }
                    }
                }
            }
            initialized = n * width
        }
        let result = Tensor(uncheckedShape: indexShape + shape.dropFirst(), storage: out)
        let segments = shape[0]
        Tape.recordIfNeeded(result, inputs: [self]) { g in
            [try g.reshape([n] + Array(g.shape.dropFirst(indexShape.count))).segmentSumRows(rows, segments: segments)]
        }
        return result
    }

    /// Scatter-add: row e of this `[E, ...]` tensor is added into output row `ids[e]` of `[segments, ...]`.
    /// The core of message passing; the VJP gathers the cotangent rows.
    public func segmentSum(_ ids: Tensor, segments: Int) throws -> Tensor {
        guard rank >= 1 else { throw KernelError("segment_sum", "needs data of rank ≥ 1, got a scalar") }
        guard segments >= 0 else { throw KernelError("segment_sum", "segment count \(segments) is negative") }
        guard ids.count == shape[0] else {
            throw KernelError("segment_sum", "needs one segment id per row: data \(formatShape(shape)), ids \(formatShape(ids.shape))")
        }
        return try segmentSumRows(try ids.indices(below: segments, op: "segment_sum"), segments: segments)
    }

    /// `segmentSum` with ids already validated.
    func segmentSumRows(_ ids: [Int32], segments: Int) throws -> Tensor {
        let width = shape.dropFirst().reduce(1, *)
        var out = [Float](repeating: 0, count: segments * width)
        storage.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                for e in 0..<ids.count {
                    let dst = Int(ids[e]) * width, src = e * width
                    for k in 0..<width { o[dst + k] += x[src + k] }
                }
            }
        }
        let result = Tensor(uncheckedShape: [segments] + shape.dropFirst(), storage: out)
        Tape.recordIfNeeded(result, inputs: [self]) { g in [try g.gatherRows(ids, indexShape: [ids.count])] }
        return result
    }

    /// Scatter-mean: like `segmentSum`, divided by each segment's row count (empty segments stay 0).
    public func segmentMean(_ ids: Tensor, segments: Int) throws -> Tensor {
        let sums = try segmentSum(ids, segments: segments)
        let rows = try ids.indices(below: segments, op: "segment_mean")
        var counts = [Float](repeating: 0, count: segments)
        for r in rows { counts[Int(r)] += 1 }
        let inverse = Tensor(uncheckedShape: [segments] + [Int](repeating: 1, count: rank - 1),
                             storage: counts.map { $0 > 0 ? 1 / $0 : 0 })
        return try sums * inverse
    }
}
