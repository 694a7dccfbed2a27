import Foundation

extension Tensor {
    /// The clash penalty of conformations [B,N,3] (Å): Σ relu(minimum − |xᵢ − xⱼ|)² over pairs at least `separation`
    /// apart in sequence, or in different chains (`chain` [N]: each residue's chain segment; nil: one chain), averaged
    /// over the batch. Fused: each conformation's close pairs are found by sweeping atoms sorted along x (no N² loop,
    /// no neighbour-grid hashing), and the VJP revisits only those pairs. Coincident atoms (|xᵢ − xⱼ| = 0) count in the
    /// value and pass no gradient; non-finite coordinates pair with nothing.
    public func clashPenalty(minimum: Float, separation: Int = 3, chain: [Int]? = nil) throws -> Tensor {
        guard rank == 3, shape[2] == 3 else { throw KernelError.shape("clash_loss", expected: "conformations [B,N,3]", got: shape) }
        guard minimum > 0, minimum.isFinite else { throw KernelError("clash_loss", "minimum distance must be positive, got \(minimum)") }
        let (batch, atoms) = (shape[0], shape[1])
        if let chain, chain.count != atoms { throw KernelError("clash_loss", "\(chain.count) chain labels for \(atoms) residues") }
        let x = storage
        var pairs = [[(Int32, Int32)]](repeating: [], count: batch)
        var totals = [Double](repeating: 0, count: batch)
        x.withUnsafeBufferPointer { xp in pairs.withUnsafeMutableBufferPointer { pp in totals.withUnsafeMutableBufferPointer { tp in
            let (found, sums) = (SharedPointer(base: pp.baseAddress!), SharedPointer(base: tp.baseAddress!))
            Parallel.forRanges(batch, grain: 1) { range in
                for b in range {
                    let base = xp.baseAddress! + b * atoms * 3
                    found.base[b] = ClashSweep.closePairs(base, atoms: atoms, minimum: minimum, separation: separation, chain: chain)
                    var sum = 0.0
                    for (i, j) in found.base[b] {
                        let gap = Double(minimum) - ClashSweep.distance(base, Int(i), Int(j))
                        sum += gap * gap
                    }
                    sums.base[b] = sum
                }
            }
        } } }
        let result = Tensor(Float(totals.reduce(0, +) / Double(Swift.max(batch, 1))))
        Tape.recordIfNeeded(result, inputs: [self]) { g in
            let scale = g.storage[0] / Float(Swift.max(batch, 1))
            var dx = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in dx.withUnsafeMutableBufferPointer { dp in
                let out = SharedPointer(base: dp.baseAddress!)
                Parallel.forRanges(batch, grain: 1) { range in
                    for b in range {
                        let (base, grad) = (xp.baseAddress! + b * atoms * 3, out.base + b * atoms * 3)
                        for (i, j) in pairs[b] {
                            let (i, j) = (Int(i), Int(j))
                            let d = Float(ClashSweep.distance(base, i, j))
                            guard d > 0 else { continue }
                            let factor = -2 * scale * (minimum - d) / d
                            for k in 0..<3 {
                                let v = factor * (base[3 * i + k] - base[3 * j + k])
                                grad[3 * i + k] += v
                                grad[3 * j + k] -= v
                            }
                        }
                    }
                }
            } }
            return [Tensor(uncheckedShape: self.shape, storage: dx)]
        }
        return result
    }
}

/// Close pairs of one conformation by sweep and prune along x.
enum ClashSweep {
    /// Distance between atoms i and j of the conformation at `x` (3 values per atom), in Double.
    @inline(__always)
    static func distance(_ x: UnsafePointer<Float>, _ i: Int, _ j: Int) -> Double {
        let dx = Double(x[3 * i] - x[3 * j]), dy = Double(x[3 * i + 1] - x[3 * j + 1]), dz = Double(x[3 * i + 2] - x[3 * j + 2])
        return (dx * dx + dy * dy + dz * dz).squareRoot()
    }

    /// Pairs (i < j, j − i ≥ `separation` or in different chains) closer than `minimum`: atoms sorted by x, each
    /// compared only with the atoms after it whose x lies within `minimum`.
    static func closePairs(_ x: UnsafePointer<Float>, atoms: Int, minimum: Float, separation: Int, chain: [Int]?) -> [(Int32, Int32)] {
        let finite = (0..<atoms).filter { x[3 * $0].isFinite && x[3 * $0 + 1].isFinite && x[3 * $0 + 2].isFinite }
        let order = finite.sorted { x[3 * $0] < x[3 * $1] }
        let limit = Double(minimum)
        var pairs: [(Int32, Int32)] = []
        for (position, a) in order.enumerated() {
            var next = position + 1
            while next < order.count, x[3 * order[next]] - x[3 * a] < minimum {
                let b = order[next]
                next += 1
                let apart = Swift.abs(a - b) >= separation || (chain.map { $0[a] != $0[b] } ?? false)
                guard apart, distance(x, a, b) < limit else { continue }
                pairs.append((Int32(Swift.min(a, b)), Int32(Swift.max(a, b))))
            }
        }
        return pairs
    }
}
