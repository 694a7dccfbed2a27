import CryoKernels
import Foundation

/// Wall-clock timing for benchmarks: the median of `repeats` runs, in milliseconds, after untimed ones: at least
/// `warmup`, and more until `warmupSeconds` have passed, so short cases are timed in the steady state (a few ms case
/// ran about 1.8× slower in its first ~25 runs of a fresh process, while the worker threads and clocks come up).
/// Benchmarks/reference/timing.py does the same.
func medianMilliseconds(repeats: Int = 9, warmup: Int = 2, warmupSeconds: Double = 0.5, _ body: () throws -> Void) rethrows -> Double {
    try warmUp(warmup: warmup, seconds: warmupSeconds, body)
    var samples: [Double] = []
    for _ in 0..<repeats { samples.append(try milliseconds(body)) }
    return median(samples)
}

/// Two cases of one ratio (the language against native code) timed in alternation, a, b, a, b, …, after both have
/// warmed up as `medianMilliseconds` warms one: each figure is the median of its `repeats` runs, and both are taken
/// over the same seconds, so a machine whose speed drifts from minute to minute moves both alike.
func interleavedMedianMilliseconds(repeats: Int = 9, _ first: () throws -> Void, _ second: () throws -> Void) rethrows -> (Double, Double) {
    try warmUp(warmup: 2, seconds: 0.5, first)
    try warmUp(warmup: 2, seconds: 0.5, second)
    var (a, b): ([Double], [Double]) = ([], [])
    for _ in 0..<repeats {
        a.append(try milliseconds(first))
        b.append(try milliseconds(second))
    }
    return (median(a), median(b))
}

/// Runs `body` at least `warmup` times, and more until `seconds` have passed.
private func warmUp(warmup: Int, seconds: Double, _ body: () throws -> Void) rethrows {
    let start = DispatchTime.now().uptimeNanoseconds
    var warmed = 0
    while warmed < warmup || Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < seconds {
        try body()
        warmed += 1
    }
}

/// One run of `body`, in milliseconds.
private func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

/// The middle element of `samples` after sorting (the upper one of an even count).
private func median(_ samples: [Double]) -> Double { samples.sorted()[samples.count / 2] }

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
