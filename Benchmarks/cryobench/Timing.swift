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
