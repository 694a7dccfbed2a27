import Foundation

/// A classified pose search's per-image results as flat Float tables, the form the `esl` builtin returns: under MPI
/// each rank holds its own block of images (`DataShard`), and `gathered(over:)` joins the blocks in rank order so every
/// rank holds every image's results, one process's for the same images (each image's search is its own).
public struct SearchedPoses: Sendable {
    /// Row-major rotations [B·9]: the barycentres (refined when refinement ran) and the best grid rotations.
    public var rotations: [Float], argmins: [Float]
    /// Per image [B]: the best grid rotation's loss, the loss at the returned pose, the measure's support size and
    /// spread (degrees), and the index of the best-scoring structure.
    public var losses: [Float], poseLosses: [Float], supports: [Float], spreads: [Float], chosen: [Float]
    /// RELION origins [B·2] (Å).
    public var origins: [Float]
    /// With a soft classification, each image's weight on each of its searches [B·states]; empty otherwise.
    public var weights: [Float]
    /// Renders made, summed over the ranks.
    public var coarseRenders: Double, fullRenders: Double

    /// The results of `classified`.
    public init(_ classified: PoseEstimator.Classified) {
        let estimates = classified.outcome.estimates
        rotations = estimates.flatMap { $0.rotation.m.map(Float.init) }
        argmins = estimates.flatMap { $0.argmin.m.map(Float.init) }
        losses = estimates.map { Float($0.loss) }
        poseLosses = estimates.map { Float($0.poseLoss) }
        supports = estimates.map { Float($0.support) }
        spreads = estimates.map { Float($0.spread) }
        chosen = classified.chosen.map(Float.init)
        origins = estimates.flatMap { [Float($0.origin.x), Float($0.origin.y)] }
        weights = classified.weights.map { w in w.flatMap { $0.map(Float.init) } } ?? []
        coarseRenders = Double(classified.outcome.coarseRenders)
        fullRenders = Double(classified.outcome.fullRenders)
    }

    /// Every rank's block joined, on every rank (itself in a world of one).
    public func gathered(over shard: DataShard) throws -> SearchedPoses {
        if shard.isWhole { return self }
        var all = self
        for field in [\SearchedPoses.rotations, \.argmins, \.losses, \.poseLosses, \.supports, \.spreads, \.chosen, \.origins, \.weights] {
            all[keyPath: field] = try World.gather(self[keyPath: field])
        }
        var renders = [coarseRenders, fullRenders]
        try World.sum(&renders)
        (all.coarseRenders, all.fullRenders) = (renders[0], renders[1])
        return all
    }
}
