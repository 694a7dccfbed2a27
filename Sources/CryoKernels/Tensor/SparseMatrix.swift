/// A sparse N×N matrix in compressed rows, applied to node features as a differentiable op.
public struct SparseMatrix: Sendable {
    /// Side length.
    public let size: Int
    /// Row r's entries are `columns[rowStart[r]..<rowStart[r+1]]` with `values` alongside.
    public let rowStart: [Int], columns: [Int32], values: [Float]

    /// Builds the matrix from (row, column, value) triples (duplicates add up).
    public init(size: Int, entries: [(Int, Int, Float)]) {
        self.size = size
        var byRow = [[(Int32, Float)]](repeating: [], count: size)
        for (r, c, v) in entries { byRow[r].append((Int32(c), v)) }
        var starts = [0], columns: [Int32] = [], values: [Float] = []
        for row in byRow {
            var merged: [Int32: Float] = [:]
            for (c, v) in row { merged[c, default: 0] += v }
            for c in merged.keys.sorted() { columns.append(c); values.append(merged[c] ?? 0) }
            starts.append(columns.count)
        }
        rowStart = starts
        self.columns = columns
        self.values = values
    }

    /// The transpose.
    public var transposed: SparseMatrix {
        var entries: [(Int, Int, Float)] = []
        for r in 0..<size { for k in rowStart[r]..<rowStart[r + 1] { entries.append((Int(columns[k]), r, values[k])) } }
        return SparseMatrix(size: size, entries: entries)
    }

    /// Number of stored entries.
    public var entryCount: Int { values.count }

    /// `self · h` for node features h [..., N, F] (applied to every leading batch); the VJP applies the transpose.
    public func apply(_ h: Tensor) throws -> Tensor {
        guard h.rank >= 2, h.shape[h.rank - 2] == size else {
            throw KernelError.shape("aggregate", expected: "node features [..., \(size), F]", got: h.shape)
        }
        let out = multiply(h)
        let t = transposed
        Tape.recordIfNeeded(out, inputs: [h]) { g in [t.multiply(g)] }
        return out
    }

    /// The product without recording (batches in parallel).
    func multiply(_ h: Tensor) -> Tensor {
        let f = h.shape[h.rank - 1], batch = h.count / Swift.max(1, size * f)
        var out = [Float](repeating: 0, count: h.count)
        h.storage.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                let result = SharedPointer(base: o.baseAddress!)
                let input = x.baseAddress!
                Parallel.forRanges(batch * size, grain: 256) { rows in
                    for global in rows {
                        let b = global / size, r = global % size
                        let dst = result.base + (b * size + r) * f
                        for k in rowStart[r]..<rowStart[r + 1] {
                            let v = values[k], src = input + (b * size + Int(columns[k])) * f
                            for c in 0..<f { dst[c] += v * src[c] }
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: h.shape, storage: out)
    }
}
