/// How well states (cluster labels, one per particle) follow the ground-truth frames of a path (frame indices
/// 0..<F of a trajectory, one per particle) or other labels (a classification's classes): two scores, both 1 for a
/// perfect match.
public struct StateAgreement: Sendable, Equatable {
    /// The adjusted Rand index of the states against the frames binned into k equal ranges (bin ⌊f·k/F⌋, F the
    /// largest frame + 1) when they take more than k values (a path's frames), else against the labels as they are
    /// (binning could merge two of a few classes): about 0 for unrelated states; below 1 also when the states cut the
    /// path unevenly.
    public let ari: Double
    /// Whether the ARI was taken against binned frames.
    public let binned: Bool
    /// η², the share of the frame index's variance that the states explain: 1 − Σ(f − mean f of its state)² /
    /// Σ(f − mean f)². No bins, so states that cut a continuous path into unequal segments still score high;
    /// about (k − 1)/(M − 1) for M particles in k states unrelated to the frames, 1 when each state holds one frame
    /// (and when every particle has the same frame).
    public let frameVarianceExplained: Double

    /// Scores `states` against `frames` (equal counts, frames ≥ 0) with `bins` frame bins for the ARI.
    public init(states: [Int], frames: [Int], bins: Int) throws {
        guard states.count == frames.count else { throw KernelError("state_agreement", "\(states.count) states but \(frames.count) frames") }
        guard bins >= 1, frames.allSatisfy({ $0 >= 0 }) else { throw KernelError("state_agreement", "needs bins ≥ 1 and frames ≥ 0, got \(bins) bins") }
        let count = (frames.max() ?? 0) + 1
        binned = Set(frames).count > bins
        ari = try AdjustedRandIndex.score(states, binned ? frames.map { $0 * bins / count } : frames)
        let values = frames.map(Double.init)
        let mean = values.reduce(0, +) / Double(Swift.max(values.count, 1))
        var sums: [Int: (total: Double, count: Int)] = [:]
        for (s, f) in zip(states, values) { sums[s, default: (0, 0)].total += f; sums[s, default: (0, 0)].count += 1 }
        let total = values.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) }
        let within = zip(states, values).reduce(0.0) { acc, sf in
            let state = sums[sf.0] ?? (0, 1)
            let d = sf.1 - state.total / Double(state.count)
            return acc + d * d
        }
        frameVarianceExplained = total > 0 ? 1 - within / total : 1
    }
}
