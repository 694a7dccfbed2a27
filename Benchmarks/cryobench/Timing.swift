import CryoKernels
import Foundation

/// Wall-clock timing for benchmarks: the median of `repeats` runs after `warmup` untimed ones, in milliseconds.
func medianMilliseconds(repeats: Int = 9, warmup: Int = 2, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmup { try body() }
    var samples: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    samples.sort()
    return samples[samples.count / 2]
}

/// The rate of `Tensor.matmul` on 512×512×512 now (FLOP/s): the compute ceiling roofline fractions are taken against.
func sgemmRate() throws -> Double {
    var g = SeededGenerator(seed: 3)
    let a = Tensor.randn([512, 512], using: &g), c = Tensor.randn([512, 512], using: &g)
    let sgemm = try medianMilliseconds { _ = try Tensor.matmul(a, c) }
    return 2 * 512.0 * 512 * 512 / (sgemm / 1000)
}
