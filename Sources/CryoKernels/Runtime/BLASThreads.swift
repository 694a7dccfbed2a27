import CBLAS

/// OpenBLAS runs single-threaded inside CryoScript, and `GemmBatch.sgemm` splits large products across
/// `Parallel`'s workers itself. OpenBLAS's own worker threads keep spinning (`sched_yield`) for a while after every
/// call; on a 2-core machine they took a core from the kernels that ran next on `Parallel`'s workers (a fifth of
/// the training step's time in a profile; the step ran about 20% faster with OpenBLAS on one thread).
public enum BLASThreads {
    /// Sets OpenBLAS to one thread, once, at the first product.
    public static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Products of at least this many multiply-adds (m·n·k) are split across the workers; below it the dispatch
    /// costs more than the second core saves.
    static let splitThreshold = 1 << 18
}
