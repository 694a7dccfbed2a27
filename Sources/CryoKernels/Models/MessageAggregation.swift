import CKernels
import Foundation

extension Tensor {
    /// The fused message-passing step: for every node n, Σ over edges e with dst_e = n of
    /// silu(source[src_e] + target[n] + edge[e]), for node tables `source`, `target` [N,B,H] (each node's share of the
    /// first message matrix, computed once per node) and edge terms `edge` [E,1,H] or [E,B,H] → [N,B,H].
    /// Neither the forward nor the backward pass forms an [E,B,H] tensor: both run over destination nodes (the VJP
    /// recomputes each pre-activation), in C kernels vectorised for the CPU's widest instruction set.
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
    let src: [Int32]
    let nodes: Int, batch: Int, hidden: Int
    let edgePerBatch: Bool
    /// Edges grouped by destination (compressed rows): the edges entering node n are
    /// `incoming.edges[incoming.start[n]..<incoming.start[n + 1]]`.
    let incoming: (start: [Int], edges: [Int])

    init(src: [Int32], dst: [Int32], nodes: Int, batch: Int, hidden: Int, edgePerBatch: Bool) {
        (self.src, self.nodes, self.batch, self.hidden, self.edgePerBatch) = (src, nodes, batch, hidden, edgePerBatch)
        var start = [Int](repeating: 0, count: nodes + 1)
        for k in dst { start[Int(k) + 1] += 1 }
        for i in 0..<nodes { start[i + 1] += start[i] }
        var fill = start, edges = [Int](repeating: 0, count: dst.count)
        for (index, k) in dst.enumerated() { edges[fill[Int(k)]] = index; fill[Int(k)] += 1 }
        incoming = (start, edges)
    }

    /// Whether there is nothing to compute (no edges or empty tables): the results are then all zeros.
    var isEmpty: Bool { src.isEmpty || nodes * batch * hidden == 0 }

    func forward(_ a: [Float], _ t: [Float], _ c: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: nodes * batch * hidden)
        if isEmpty { return out }
        a.withUnsafeBufferPointer { a in t.withUnsafeBufferPointer { t in c.withUnsafeBufferPointer { c in out.withUnsafeMutableBufferPointer { o in
        src.withUnsafeBufferPointer { src in incoming.start.withUnsafeBufferPointer { start in incoming.edges.withUnsafeBufferPointer { edges in
            let (pa, pt, pc, po) = (a.baseAddress!, t.baseAddress!, c.baseAddress!, SharedPointer(base: o.baseAddress!))
            let (ps, pStart, pEdges) = (src.baseAddress!, start.baseAddress!, edges.baseAddress!)
            Parallel.forRanges(nodes, grain: 4) { range in
                cryo_message_forward(pa, pt, pc, ps, pStart, pEdges, range.lowerBound, range.upperBound, batch, hidden,
                                     edgePerBatch ? 1 : 0, po.base)
            }
        } } } } } } }
        return out
    }

    /// Cotangents of source, target and edge terms for the output cotangent `g` [N,B,H]: one pass over the edges by
    /// destination; the source cotangent goes to one buffer per worker, summed at the end.
    func backward(_ g: [Float], _ a: [Float], _ t: [Float], _ c: [Float]) -> ([Float], [Float], [Float]) {
        var dA = [Float](repeating: 0, count: a.count), dT = [Float](repeating: 0, count: t.count), dC = [Float](repeating: 0, count: c.count)
        if isEmpty { return (dA, dT, dC) }
        g.withUnsafeBufferPointer { g in a.withUnsafeBufferPointer { a in t.withUnsafeBufferPointer { t in c.withUnsafeBufferPointer { c in
        src.withUnsafeBufferPointer { src in incoming.start.withUnsafeBufferPointer { start in incoming.edges.withUnsafeBufferPointer { edges in
        dA.withUnsafeMutableBufferPointer { da in dT.withUnsafeMutableBufferPointer { dt in dC.withUnsafeMutableBufferPointer { dc in
            let (pg, pa, pt, pc) = (g.baseAddress!, a.baseAddress!, t.baseAddress!, c.baseAddress!)
            let (ps, pStart, pEdges) = (src.baseAddress!, start.baseAddress!, edges.baseAddress!)
            let (odt, odc) = (SharedPointer(base: dt.baseAddress!), SharedPointer(base: dc.baseAddress!))
            Parallel.forPartsSumming(nodes, grain: 4, into: da.baseAddress!, length: da.count) { range, sourceOut in
                cryo_message_backward(pg, pa, pt, pc, ps, pStart, pEdges, range.lowerBound, range.upperBound, batch, hidden,
                                      edgePerBatch ? 1 : 0, sourceOut, odt.base, odc.base)
            }
        } } } } } } } } } }
        return (dA, dT, dC)
    }
}
