import Foundation

/// How the learning rate moves over a training run, as a factor of the peak rate at a point of the run.
public enum LearningRateSchedule: Sendable, Equatable {
    /// Linear warm-up from 0.1× to 1× over the first `epochs` epochs, then constant.
    case warmup(epochs: Int)
    /// PyTorch's `OneCycleLR` with its defaults, as the calibration in Docs/METHOD.md trained: cosine rise from 1/25 of the
    /// peak over the first 30% of the steps, then cosine decay to 1/(25·10⁴) of the peak at the last step.
    case oneCycle

    /// The factor at `epoch` (fractional, counting from 0) of a run of `totalEpochs`.
    public func factor(epoch: Double, totalEpochs: Int) -> Double {
        switch self {
        case .warmup(let epochs):
            return 0.1 + 0.9 * Swift.min(1, epoch / Double(Swift.max(epochs, 1)))
        case .oneCycle:
            let progress = Swift.min(1, Swift.max(0, epoch / Double(Swift.max(totalEpochs, 1))))
            let start = 1.0 / 25, end = start / 1e4, peakAt = 0.3
            func cosine(from a: Double, to b: Double, _ t: Double) -> Double { b + (a - b) * (1 + cos(Double.pi * t)) / 2 }
            return progress < peakAt ? cosine(from: start, to: 1, progress / peakAt) : cosine(from: 1, to: end, (progress - peakAt) / (1 - peakAt))
        }
    }

    /// Parses "warmup" or "one_cycle" (the script spelling); `warmupEpochs` applies to "warmup".
    public init(name: String, warmupEpochs: Int) throws {
        switch name {
        case "warmup": self = .warmup(epochs: warmupEpochs)
        case "one_cycle": self = .oneCycle
        default: throw KernelError("train_autodecoder", "schedule must be \"warmup\" or \"one_cycle\", got \"\(name)\"")
        }
    }
}
