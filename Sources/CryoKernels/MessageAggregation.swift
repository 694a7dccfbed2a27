import Foundation

extension Tensor {
    /// The fused message-passing step: for every node n, Σ over edges e with dst_e = n of
    /// silu(source[src_e] + target[n] + edge[e]), for node tables `source`, `target` [N,B,H] (each node's share of the
    /// first message matrix, computed once per node) and edge terms `edge` [E,1,H] or [E,B,H] → [N,B,H].
    /// Neither the forward nor the backward pass forms an [E,B,H] tensor: the forward runs over destination nodes;
    /// the VJP recomputes each pre-activation twice, once by destination (for `target` and `edge`) and once by source
    /// (for `source`), so every output row belongs to one worker.
    public static func messageAggregate(source: Tensor, target: Tensor, edge: Tensor, src: Tensor, dst: Tensor) throws -> Tensor {
        guard source.rank == 3, source.shape == target.shape else {
            throw KernelError("message_aggregate", "source and target must be node tables [N,B,H] of one shape, got \(formatShape(source.shape)) and \(formatShape(target.shape))")
        }
        let (n, b, h) = (source.shape[0], source.shape[1], source.shape[2])
        guard src.count == dst.count else { throw KernelError("message_aggregate", "src has \(src.count) edges, dst \(dst.count)") }
        let e = src.count
        guard edge.rank == 3, edge.shape[0] == e, edge.shape[1] == 1 || edge.shape[1] == b, edge.shape[2] == h else {
            throw KernelError.shape("message_aggregate", expected: "edge terms [\(e),1,\(h)] or [\(e),\(b),\(h)]", got: edge.shape)
        }
        let plan = MessagePlan(src: try src.indices(below: n, op: "message_aggregate"), dst: try dst.indices(below: n, op: "message_aggregate"),
                               nodes: n, batch: b, hidden: h, edgePerBatch: edge.shape[1] == b)
        let out = plan.forward(source.storage, target.storage, edge.storage)
        let result = Tensor(uncheckedShape: [n, b, h], storage: out)
        Tape.recordIfNeeded(result, inputs: [source, target, edge]) { g in
            let (dSource, dTarget, dEdge) = plan.backward(g.storage, source.storage, target.storage, edge.storage)
            return [Tensor(uncheckedShape: source.shape, storage: dSource), Tensor(uncheckedShape: target.shape, storage: dTarget),
                    Tensor(uncheckedShape: edge.shape, storage: dEdge)]
        }
        return result
    }
}

/// Edge lists by destination and by source, and the loops of `Tensor.messageAggregate`.
struct MessagePlan: @unchecked Sendable {
    let src: [Int32], dst: [Int32]
    let nodes: Int, batch: Int, hidden: Int
    let edgePerBatch: Bool
    /// Edges grouped by destination and by source (compressed rows).
    let incoming: (start: [Int], edges: [Int]), outgoing: (start: [Int], edges: [Int])

    init(src: [Int32], dst: [Int32], nodes: Int, batch: Int, hidden: Int, edgePerBatch: Bool) {
        (self.src, self.dst, self.nodes, self.batch, self.hidden, self.edgePerBatch) = (src, dst, nodes, batch, hidden, edgePerBatch)
        func grouped(_ keys: [Int32]) -> (start: [Int], edges: [Int]) {
            var start = [Int](repeating: 0, count: nodes + 1)
            for k in keys { start[Int(k) + 1] += 1 }
            for i in 0..<nodes { start[i + 1] += start[i] }
            var fill = start, edges = [Int](repeating: 0, count: keys.count)
            for (index, k) in keys.enumerated() { edges[fill[Int(k)]] = index; fill[Int(k)] += 1 }
            return (start, edges)
        }
        incoming = grouped(dst)
        outgoing = grouped(src)
    }

    /// Offset of edge `e`'s terms for batch item `b`.
    @inline(__always) func edgeOffset(_ e: Int, _ b: Int) -> Int { edgePerBatch ? (e * batch + b) * hidden : e * hidden }

    func forward(_ a: [Float], _ t: [Float], _ c: [Float]) -> [Float] {
        let width = batch * hidden
        var out = [Float](repeating: 0, count: nodes * width)
        a.withUnsafeBufferPointer { a in t.withUnsafeBufferPointer { t in c.withUnsafeBufferPointer { c in out.withUnsafeMutableBufferPointer { o in
            let (pa, pt, pc, po) = (a.baseAddress!, t.baseAddress!, c.baseAddress!, SharedPointer(base: o.baseAddress!))
            Parallel.forRanges(nodes, grain: 4) { range in
                for node in range {
                    for k in incoming.start[node]..<incoming.start[node + 1] {
                        let e = incoming.edges[k], s = Int(src[e])
                        for b in 0..<batch {
                            let (rowA, rowT, rowC, rowO) = (pa + s * width + b * hidden, pt + node * width + b * hidden,
                                                            pc + edgeOffset(e, b), po.base + node * width + b * hidden)
                            for j in 0..<hidden {
                                let x = rowA[j] + rowT[j] + rowC[j]
                                rowO[j] += x / (1 + FastMath.exp(-x))
                            }
                        }
                    }
                }
            }
        } } } }
        return out
    }

    /// Cotangents of source, target and edge terms for the output cotangent `g` [N,B,H].
    func backward(_ g: [Float], _ a: [Float], _ t: [Float], _ c: [Float]) -> ([Float], [Float], [Float]) {
        let width = batch * hidden
        var dA = [Float](repeating: 0, count: a.count), dT = [Float](repeating: 0, count: t.count), dC = [Float](repeating: 0, count: c.count)
        g.withUnsafeBufferPointer { g in a.withUnsafeBufferPointer { a in t.withUnsafeBufferPointer { t in c.withUnsafeBufferPointer { c in
            let (pg, pa, pt, pc) = (g.baseAddress!, a.baseAddress!, t.baseAddress!, c.baseAddress!)
            /// Writes the cotangent of edge e's pre-activation (from s to d, batch item b) into `out` (or adds it into
            /// `out` and `also`), recomputing the pre-activation from the node tables.
            @inline(__always) func preGradient(_ s: Int, _ d: Int, _ e: Int, _ b: Int, into out: UnsafeMutablePointer<Float>,
                                               also: UnsafeMutablePointer<Float>?) {
                let (rowA, rowT, rowC, rowG) = (pa + s * width + b * hidden, pt + d * width + b * hidden, pc + edgeOffset(e, b), pg + d * width + b * hidden)
                if let also {
                    for j in 0..<hidden {
                        let x = rowA[j] + rowT[j] + rowC[j]
                        let sigma = 1 / (1 + FastMath.exp(-x))
                        let v = rowG[j] * sigma * (1 + x * (1 - sigma))
                        out[j] += v
                        also[j] += v
                    }
                } else {
                    for j in 0..<hidden {
                        let x = rowA[j] + rowT[j] + rowC[j]
                        let sigma = 1 / (1 + FastMath.exp(-x))
                        out[j] += rowG[j] * sigma * (1 + x * (1 - sigma))
                    }
                }
            }
            dT.withUnsafeMutableBufferPointer { dt in dC.withUnsafeMutableBufferPointer { dc in
                let (odt, odc) = (SharedPointer(base: dt.baseAddress!), SharedPointer(base: dc.baseAddress!))
                Parallel.forRanges(nodes, grain: 4) { range in
                    for node in range {
                        for k in incoming.start[node]..<incoming.start[node + 1] {
                            let e = incoming.edges[k], s = Int(src[e])
                            for b in 0..<batch {
                                preGradient(s, node, e, b, into: odt.base + node * width + b * hidden, also: odc.base + edgeOffset(e, b))
                            }
                        }
                    }
                }
            } }
            dA.withUnsafeMutableBufferPointer { da in
                let oda = SharedPointer(base: da.baseAddress!)
                Parallel.forRanges(nodes, grain: 4) { range in
                    for node in range {
                        for k in outgoing.start[node]..<outgoing.start[node + 1] {
                            let e = outgoing.edges[k], d = Int(dst[e])
                            for b in 0..<batch { preGradient(node, d, e, b, into: oda.base + node * width + b * hidden, also: nil) }
                        }
                    }
                }
            }
        } } } }
        return (dA, dT, dC)
    }
}
