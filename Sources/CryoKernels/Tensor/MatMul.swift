import CBLAS
import CKernels

extension Tensor {
    /// Matrix product over the last two axes, `[..., M, K] @ [..., K, N] → [..., M, N]`, with broadcast
    /// batch axes. A rank-1 left operand is a row vector and a rank-1 right operand a column vector
    /// (their unit axis is dropped from the result). Runs on OpenBLAS `sgemm`, or on `cryo_narrow_gemm` when the
    /// output is narrow (see `GemmBatch.isNarrow`).
    public static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.rank >= 1, b.rank >= 1 else {
            throw KernelError("matmul", "needs tensors of rank ≥ 1, got \(formatShape(a.shape)) @ \(formatShape(b.shape))")
        }
        if a.rank == 1 {
            let r = try matmul(try a.reshape([1, a.count]), b)
            return try r.reshape(Array(r.shape.dropLast(2)) + [r.shape[r.rank - 1]])
        }
        if b.rank == 1 {
            let r = try matmul(a, try b.reshape([b.count, 1]))
            return try r.reshape(Array(r.shape.dropLast()))
        }
        let (m, k) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (k2, n) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        guard k == k2 else {
            throw KernelError("matmul", "inner extents differ: \(formatShape(a.shape)) @ \(formatShape(b.shape)) (\(k) vs \(k2))")
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = try Broadcasting.shape(batchA, batchB, op: "matmul")
        _ = try elementCount(batch + [m, n], op: "matmul")
        let plan = GemmBatch(batch: batch, batchA: batchA, batchB: batchB, m: m, n: n, k: k)
        let out = plan.filled(count: plan.count * m * n, overwritten: true) { o in
            a.storage.withUnsafeBufferPointer { x in
                b.storage.withUnsafeBufferPointer { y in plan.run(x.baseAddress!, y.baseAddress!, o) }
            }
        }
        let result = Tensor(uncheckedShape: batch + [m, n], storage: out)
        Tape.recordIfNeeded(result, inputs: [a, b]) { g in
            var ga: Tensor?, gb: Tensor?
            if a.requiresGrad {
                let d = plan.filled(count: a.count, overwritten: plan.foldIntoRows) { dp in
                    g.storage.withUnsafeBufferPointer { gp in b.storage.withUnsafeBufferPointer { y in
                        plan.runGradA(gp.baseAddress!, y.baseAddress!, dp)
                    } }
                }
                ga = Tensor(uncheckedShape: a.shape, storage: d)
            }
            if b.requiresGrad {
                let d = plan.filled(count: b.count, overwritten: plan.foldIntoRows) { dp in
                    a.storage.withUnsafeBufferPointer { x in g.storage.withUnsafeBufferPointer { gp in
                        plan.runGradB(x.baseAddress!, gp.baseAddress!, dp)
                    } }
                }
                gb = Tensor(uncheckedShape: b.shape, storage: d)
            }
            return [ga, gb]
        }
        return result
    }
}

/// The sgemm calls of one batched product: element offsets of each batch's A, B and C blocks.
/// When B has no batch axes the whole batch of A is folded into one tall sgemm.
struct GemmBatch {
    let m: Int, n: Int, k: Int
    let count: Int
    let offsetsA: [Int], offsetsB: [Int]
    let foldIntoRows: Bool

    init(batch: [Int], batchA: [Int], batchB: [Int], m: Int, n: Int, k: Int) {
        self.m = m; self.n = n; self.k = k
        count = batch.reduce(1, *)
        foldIntoRows = batchB.reduce(1, *) == 1 && batchA == batch
        let sa = Broadcasting.strides(of: batchA, broadcastTo: batch)
        let sb = Broadcasting.strides(of: batchB, broadcastTo: batch)
        var oa = [Int](repeating: 0, count: count), ob = [Int](repeating: 0, count: count)
        if count > 0 {
            Broadcasting.walk(batch, sa, sb) { i, ja, jb in oa[i] = ja * m * k; ob[i] = jb * k * n }
        }
        offsetsA = oa
        offsetsB = ob
    }

    /// A buffer of `count` floats filled by `body`: left uninitialised when `body` overwrites every entry (a
    /// product, or a folded gradient: beta 0), zeroed when it accumulates (an operand broadcast over the batch).
    func filled(count: Int, overwritten: Bool, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let base = buffer.baseAddress, count > 0 else { initialized = 0; return }
            if !overwritten { buffer.initialize(repeating: 0) }
            body(base)
            initialized = count
        }
    }

    /// C = A·B for every batch.
    func run(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        if foldIntoRows {
            GemmBatch.sgemm(false, false, count * m, n, k, a, k, b, n, 0, c, n)
            return
        }
        for i in 0..<count {
            GemmBatch.sgemm(false, false, m, n, k, a + offsetsA[i], k, b + offsetsB[i], n, 0, c + i * m * n, n)
        }
    }

    /// dA += dC·Bᵀ for every batch (accumulating where A was broadcast).
    func runGradA(_ g: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ da: UnsafeMutablePointer<Float>) {
        if foldIntoRows {
            GemmBatch.sgemm(false, true, count * m, k, n, g, n, b, n, 0, da, k)
            return
        }
        for i in 0..<count {
            GemmBatch.sgemm(false, true, m, k, n, g + i * m * n, n, b + offsetsB[i], n, 1, da + offsetsA[i], k)
        }
    }

    /// dB += Aᵀ·dC for every batch (accumulating where B was broadcast).
    func runGradB(_ a: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ db: UnsafeMutablePointer<Float>) {
        if foldIntoRows {
            GemmBatch.sgemm(true, false, k, n, count * m, a, k, g, n, 0, db, n)
            return
        }
        for i in 0..<count {
            GemmBatch.sgemm(true, false, k, n, m, a + offsetsA[i], k, g + i * m * n, n, 1, db + offsetsB[i], n)
        }
    }

    /// Row-major `C = op(A)·op(B) + beta·C` (beta 0 or 1) through `cryo_narrow_gemm` when `isNarrow`, else CBLAS;
    /// skips empty products.
    static func sgemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                      _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                      _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = 0 } } }
            return
        }
        // Large products are split into one block of rows per worker (CBLAS: of columns, for short wide products).
        let parts = m * n * k >= BLASThreads.splitThreshold ? Swift.min(Parallel.workers, Swift.max(m, n)) : 1
        if isNarrow(transA, transB, n, k) {
            narrowProduct(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, parts: parts)
            return
        }
        _ = BLASThreads.singleThreaded
        let (opA, opB) = (transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans)
        if parts <= 1 {
            cblas_sgemm(CblasRowMajor, opA, opB, blasint(m), blasint(n), blasint(k), 1, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
            return
        }
        let output = SharedPointer(base: c)
        let byRows = m >= n
        Parallel.forRanges(byRows ? m : n, grain: (byRows ? m : n) / parts) { range in
            let count = blasint(range.count)
            if byRows {
                let rowsOfA = transA ? a + range.lowerBound : a + range.lowerBound * lda
                cblas_sgemm(CblasRowMajor, opA, opB, count, blasint(n), blasint(k), 1, rowsOfA, blasint(lda), b, blasint(ldb), beta,
                            output.base + range.lowerBound * ldc, blasint(ldc))
            } else {
                let columnsOfB = transB ? b + range.lowerBound * ldb : b + range.lowerBound
                cblas_sgemm(CblasRowMajor, opA, opB, blasint(m), count, blasint(k), 1, a, blasint(lda), columnsOfB, blasint(ldb), beta,
                            output.base + range.lowerBound, blasint(ldc))
            }
        }
    }

    /// Whether a product goes to `cryo_narrow_gemm` rather than OpenBLAS: an output at most 256 columns wide whose
    /// right operand stays in cache (k ≤ 512 rows read in place, or a transposed copy of at most 64k floats); a
    /// reduction over a transposed A may be long (a weight gradient, Aᵀ·dC over every row of a batch).
    static func isNarrow(_ transA: Bool, _ transB: Bool, _ n: Int, _ k: Int) -> Bool {
        guard n <= 256 else { return false }
        if transB { return n * k <= 1 << 16 }
        return transA || k <= 512
    }

    /// `sgemm` for narrow products (beta 0 or 1): rows of C split across the workers, a transposed B copied once
    /// into its [k, n] form.
    static func narrowProduct(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                              _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                              _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, parts: Int) {
        precondition(beta == 0 || beta == 1, "narrow products overwrite or accumulate")
        var right: [Float] = []
        if transB {
            right = [Float](unsafeUninitializedCapacity: k * n) { buffer, initialized in
                for p in 0..<k { for j in 0..<n { buffer[p * n + j] = b[j * ldb + p] } }
                initialized = k * n
            }
        }
        let (rowStride, columnStride) = transA ? (1, lda) : (lda, 1)
        let output = SharedPointer(base: c)
        right.withUnsafeBufferPointer { copy in
            let (panel, panelStride) = transB ? (copy.baseAddress!, n) : (b, ldb)
            Parallel.forRanges(m, grain: parts > 1 ? (m + parts - 1) / parts : m) { range in
                cryo_narrow_gemm(a + range.lowerBound * rowStride, rowStride, columnStride, panel, panelStride,
                                 range.count, n, k, beta == 0 ? 0 : 1, output.base + range.lowerBound * ldc, ldc)
            }
        }
    }
}
