import CKernels

/// The paper's stack of graph convolutions as one differentiable op: for layers l = 0 ..< L,
/// h ← ReLU(Â·(h·W_l) + b_l) + h on node features h [B, N, F], with W_l [F, F] and b_l [F] (the first layer's
/// residual is optional). One C kernel runs the whole stack on a chunk of `CRYO_GCN_LANES` (16) batch items held
/// item-fastest, so every loop is a full vector whatever F is; chunks run in parallel. The tape gets one node,
/// which keeps each layer's input and pre-activation ((2L + 1)·B·N·F floats) for the backward pass.
public struct GraphConvolutionStack: Sendable {
    /// Â, N×N, and its transpose (for the backward pass).
    public let adjacency: SparseMatrix
    let transposed: SparseMatrix
    /// Whether layer 0 adds its input back (the later layers always do).
    public let firstResidual: Bool

    /// A stack over `adjacency`.
    public init(adjacency: SparseMatrix, firstResidual: Bool) {
        self.adjacency = adjacency
        transposed = adjacency.transposed
        self.firstResidual = firstResidual
    }

    /// Batch items per kernel call.
    static let lanes = Int(CRYO_GCN_LANES)

    /// h [B, N, F] through the layers with `weights` [F, F] and `biases` [F] (one of each per layer) → [B, N, F].
    public func apply(_ h: Tensor, weights: [Tensor], biases: [Tensor]) throws -> Tensor {
        guard h.rank == 3, h.shape[1] == adjacency.size else {
            throw KernelError.shape("gcn", expected: "node features [B,\(adjacency.size),F]", got: h.shape)
        }
        let (b, n, f, layers) = (h.shape[0], h.shape[1], h.shape[2], weights.count)
        guard biases.count == layers else { throw KernelError("gcn", "\(layers) weight matrices but \(biases.count) biases") }
        if let bad = weights.first(where: { $0.shape != [f, f] }) {
            throw KernelError.shape("gcn", expected: "weights [\(f),\(f)]", got: bad.shape)
        }
        if let bad = biases.first(where: { $0.shape != [f] }) { throw KernelError.shape("gcn", expected: "biases [\(f)]", got: bad.shape) }
        if layers == 0 || h.count == 0 { return h }
        let lanes = GraphConvolutionStack.lanes, table = n * f * lanes, chunks = (b + lanes - 1) / lanes
        let w = weights.flatMap(\.storage), bias = biases.flatMap(\.storage)
        guard Tape.active != nil, ([h] + weights + biases).contains(where: \.requiresGrad) else {
            return Tensor(uncheckedShape: h.shape, storage: infer(h.storage, batch: b, n: n, f: f, layers: layers, weights: w, biases: bias))
        }
        // Per chunk: the input and every layer's output [L + 1] tables, then the pre-activations [L]. The kernel
        // writes all but the input tables, which are zeroed (for the unused lanes of a last partial chunk).
        var states = GraphConvolutionStack.floats(chunks * (2 * layers + 1) * table)
        states.withUnsafeMutableBufferPointer { s in
            for c in 0..<chunks { (s.baseAddress! + c * (2 * layers + 1) * table).update(repeating: 0, count: table) }
        }
        GraphConvolutionStack.pack(h.storage, batch: b, table: table, stride: (2 * layers + 1) * table, into: &states)
        let residual: Int32 = firstResidual ? 1 : 0
        states.withUnsafeMutableBufferPointer { s in
            let shared = SharedPointer(base: s.baseAddress!)
            withCSR(adjacency) { start, columns, values in
                Parallel.forParts(chunks, grain: 1) { _, range in
                    var scratch = GraphConvolutionStack.floats(cryo_gcn_scratch_floats(n, f))
                    for c in range {
                        let chunk = shared.base + c * (2 * layers + 1) * table
                        cryo_gcn_forward(w, bias, layers, f, start, columns, values, n, residual, chunk, chunk + (layers + 1) * table, &scratch)
                    }
                }
            }
        }
        let out = Tensor(uncheckedShape: h.shape,
                         storage: GraphConvolutionStack.unpack(states, batch: b, n: n, f: f, offset: layers * table, stride: (2 * layers + 1) * table))
        Tape.recordIfNeeded(out, inputs: [h] + weights + biases) { g in
            try backward(g, states: states, weights: w, shape: h.shape, layers: layers)
        }
        return out
    }

    /// The output [B, N·F] alone, for a pass nothing will differentiate: each worker reuses one chunk's tables
    /// instead of keeping every chunk's (46 MB for B = 256 at N = 214, F = 10, L = 10: freshly mapped pages, zeroed
    /// by the kernel, on every call).
    private func infer(_ x: [Float], batch b: Int, n: Int, f: Int, layers: Int, weights w: [Float], biases bias: [Float]) -> [Float] {
        let lanes = GraphConvolutionStack.lanes, table = n * f * lanes, width = n * f, stride = (2 * layers + 1) * table
        let residual: Int32 = firstResidual ? 1 : 0
        var out = GraphConvolutionStack.floats(b * width)
        out.withUnsafeMutableBufferPointer { o in
            let result = SharedPointer(base: o.baseAddress!)
            withCSR(adjacency) { start, columns, values in
                Parallel.forParts((b + lanes - 1) / lanes, grain: 1) { _, range in
                    var states = GraphConvolutionStack.floats(stride), scratch = GraphConvolutionStack.floats(cryo_gcn_scratch_floats(n, f))
                    for c in range {
                        let items = (c * lanes)..<Swift.min(b, (c + 1) * lanes)
                        states.withUnsafeMutableBufferPointer { $0.baseAddress!.update(repeating: 0, count: table) }
                        GraphConvolutionStack.pack(Array(x[(items.lowerBound * width)..<(items.upperBound * width)]), batch: items.count,
                                                   table: table, stride: stride, into: &states)
                        states.withUnsafeMutableBufferPointer { s in
                            cryo_gcn_forward(w, bias, layers, f, start, columns, values, n, residual, s.baseAddress!,
                                             s.baseAddress! + (layers + 1) * table, &scratch)
                        }
                        let chunk = GraphConvolutionStack.unpack(states, batch: items.count, n: n, f: f, offset: layers * table, stride: stride)
                        (result.base + items.lowerBound * width).update(from: chunk, count: chunk.count)
                    }
                }
            }
        }
        return out
    }

    /// Cotangents of [h] + weights + biases for the output cotangent `g`.
    private func backward(_ g: Tensor, states: [Float], weights w: [Float], shape: [Int], layers: Int) throws -> [Tensor?] {
        let (b, n, f) = (shape[0], shape[1], shape[2])
        let lanes = GraphConvolutionStack.lanes, table = n * f * lanes, chunks = (b + lanes - 1) / lanes
        var cotangents = [Float](repeating: 0, count: chunks * table)
        GraphConvolutionStack.pack(g.storage, batch: b, table: table, stride: table, into: &cotangents)
        var parameters = [Float](repeating: 0, count: layers * (f * f + f))
        let residual: Int32 = firstResidual ? 1 : 0
        cotangents.withUnsafeMutableBufferPointer { gs in
            states.withUnsafeBufferPointer { s in
                parameters.withUnsafeMutableBufferPointer { p in
                    let (gShared, sBase) = (SharedPointer(base: gs.baseAddress!), s.baseAddress!)
                    withCSR(transposed) { start, columns, values in
                        Parallel.forPartsSumming(chunks, grain: 1, into: p.baseAddress!, length: p.count) { range, dParameters in
                            var scratch = GraphConvolutionStack.floats(cryo_gcn_scratch_floats(n, f))
                            for c in range {
                                let chunk = sBase + c * (2 * layers + 1) * table
                                cryo_gcn_backward(w, layers, f, start, columns, values, n, residual, chunk, chunk + (layers + 1) * table,
                                                  gShared.base + c * table, dParameters, dParameters + layers * f * f, &scratch)
                            }
                        }
                    }
                }
            }
        }
        let dh = Tensor(uncheckedShape: shape, storage: GraphConvolutionStack.unpack(cotangents, batch: b, n: n, f: f, offset: 0, stride: table))
        let dWeights = (0..<layers).map { l in Tensor(uncheckedShape: [f, f], storage: Array(parameters[(l * f * f)..<((l + 1) * f * f)])) }
        let biasBase = layers * f * f
        let dBiases = (0..<layers).map { l in Tensor(uncheckedShape: [f], storage: Array(parameters[(biasBase + l * f)..<(biasBase + (l + 1) * f)])) }
        return [dh] + dWeights + dBiases
    }

    /// An array of `count` floats left uninitialised, for buffers the code fills before reading.
    static func floats(_ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// Calls `body` with pointers to a matrix's compressed rows.
    private func withCSR(_ m: SparseMatrix, _ body: (UnsafePointer<Int>, UnsafePointer<Int32>, UnsafePointer<Float>) -> Void) {
        m.rowStart.withUnsafeBufferPointer { s in m.columns.withUnsafeBufferPointer { c in m.values.withUnsafeBufferPointer { v in
            // An empty matrix still has row starts; empty column and value arrays get a dummy address.
            withUnsafePointer(to: Int32(0)) { noColumn in withUnsafePointer(to: Float(0)) { noValue in
                body(s.baseAddress!, c.baseAddress ?? noColumn, v.baseAddress ?? noValue)
            } }
        } } }
    }

    /// Copies x [B, N·F] into chunk tables [N·F, lanes] (item b in chunk b / lanes, lane b % lanes), the chunks
    /// `stride` floats apart.
    static func pack(_ x: [Float], batch: Int, table: Int, stride: Int, into out: inout [Float]) {
        let width = table / lanes
        x.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { o in
            for item in 0..<batch {
                let source = x.baseAddress! + item * width, target = o.baseAddress! + (item / lanes) * stride + item % lanes
                for k in 0..<width { target[k * lanes] = source[k] }
            }
        } }
    }

    /// The inverse of `pack` for the table `offset` floats into each chunk → [B, N, F].
    static func unpack(_ chunks: [Float], batch: Int, n: Int, f: Int, offset: Int, stride: Int) -> [Float] {
        let width = n * f
        var out = floats(batch * width)
        chunks.withUnsafeBufferPointer { c in out.withUnsafeMutableBufferPointer { o in
            for item in 0..<batch {
                let source = c.baseAddress! + (item / lanes) * stride + offset + item % lanes, target = o.baseAddress! + item * width
                for k in 0..<width { target[k] = source[k * lanes] }
            }
        } }
        return out
    }
}
