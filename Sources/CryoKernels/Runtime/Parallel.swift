import Foundation

/// Splits index ranges across the machine's cores.
enum Parallel {
    /// Number of worker threads used for data-parallel loops: `CRYOSCRIPT_WORKERS` if set, else the cores shared
    /// among the MPI ranks on this machine (all of them in a plain run).
    static let workers: Int = {
        let environment = ProcessInfo.processInfo.environment
        if let n = environment["CRYOSCRIPT_WORKERS"].flatMap(Int.init), n >= 1 { return n }
        let ranksHere = environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
        return max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, ranksHere))
    }()

    /// Calls `body` on contiguous sub-ranges of `0..<count` in parallel, each at least `grain` long.
    static func forRanges(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        forParts(count, grain: grain) { _, range in body(range) }
    }

    /// How many sub-ranges `forParts` splits `count` items into.
    static func partCount(_ count: Int, grain: Int) -> Int {
        Swift.max(1, Swift.min(workers, count / Swift.max(grain, 1)))
    }

    /// Calls `body(part, range)` on the `partCount(count, grain:)` contiguous sub-ranges of `0..<count` in
    /// parallel; `part` numbers them from 0, so a body can own per-part buffers.
    static func forParts(_ count: Int, grain: Int, _ body: (Int, Range<Int>) -> Void) {
        let parts = partCount(count, grain: grain)
        if parts <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let work = UncheckedSendable(value: escapable)
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                work.value(p, (count * p / parts)..<(count * (p + 1) / parts))
            }
        }
    }
}

extension Parallel {
    /// `forParts` for bodies that accumulate into one table of `length` floats at `output` whose rows any part may
    /// touch: part 0 adds into `output` itself, every other part into a zeroed table of its own, and those are added
    /// into `output` once all parts are done (in parallel over the table).
    static func forPartsSumming(_ count: Int, grain: Int, into output: UnsafeMutablePointer<Float>, length: Int,
                                _ body: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        let parts = partCount(count, grain: grain)
        var extra = [Float](repeating: 0, count: (parts - 1) * length)
        extra.withUnsafeMutableBufferPointer { ex in
            let (out, others) = (SharedPointer(base: output), ex.baseAddress.map { SharedPointer(base: $0) })
            forParts(count, grain: grain) { part, range in
                body(range, part == 0 ? out.base : others!.base + (part - 1) * length)
            }
            guard parts > 1, let others else { return }
            forRanges(length, grain: 4096) { range in
                for part in 0..<(parts - 1) {
                    let from = others.base + part * length
                    for k in range { out.base[k] += from[k] }
                }
            }
        }
    }
}

/// A raw pointer that may cross into the worker threads of `Parallel`; each worker writes a disjoint range.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// Carries a value the compiler cannot prove thread-safe into `Parallel`'s workers, which only read it.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
}
