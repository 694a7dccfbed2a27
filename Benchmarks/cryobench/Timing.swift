import CryoKernels
import Foundation

/// Wall-clock timing for benchmarks: the median of `repeats` runs, in milliseconds, after untimed ones: at least
/// `warmup`, and more until `warmupSeconds` have passed, so short cases are timed in the steady state (a few ms case
/// ran about 1.8× slower in its first ~25 runs of a fresh process, while the worker threads and clocks come up).
/// Benchmarks/reference/timing.py does the same.
func medianMilliseconds(repeats: Int = 9, warmup: Int = 2, warmupSeconds: Double = 0.5, _ body: () throws -> Void) rethrows -> Double {
    let warmupStart = DispatchTime.now().uptimeNanoseconds
    var warmed = 0
    while warmed < warmup || Double(DispatchTime.now().uptimeNanoseconds - warmupStart) / 1e9 < warmupSeconds {
        try body()
        warmed += 1
    }
    var samples: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    samples.sort()
    return samples[samples.count / 2]
}

/// The best rate of `Tensor.matmul` now (FLOP/s), the compute ceiling roofline fractions are taken against: of a
/// 512×512×512 product (OpenBLAS) and of the GNN layers' [6848, 64] × [64, 64] (`cryo_narrow_gemm`). Either can be
/// the faster: OpenBLAS runs SSE3 kernels on CPUs it does not recognise (`BLASCore`).
func sgemmRate() throws -> Double {
    var g = SeededGenerator(seed: 3)
    var best = 0.0
    for (m, k, n) in [(512, 512, 512), (6848, 64, 64)] {
        let a = Tensor.randn([m, k], using: &g), c = Tensor.randn([k, n], using: &g)
        let milliseconds = try medianMilliseconds { _ = try Tensor.matmul(a, c) }
        best = max(best, 2 * Double(m * n * k) / (milliseconds / 1000))
    }
    return best
}
