import Foundation

/// A pose search of each image against several structures at once, keeping the search whose pose scores lowest (the
/// refined pose's loss with refinement, else the best grid rotation's), as a 3D classification assigns a particle to a
/// class. Shared structures (a few states or centroids) share their renderings across all images, so K states cost
/// about K searches against one structure, far less than one search of every image against a conformation of its own.
extension PoseEstimator {
    /// How an image searched against several states takes its pose: the best-scoring state's (`hard`), or the mean of
    /// the states' poses weighted by their posterior probabilities (`soft`, `SoftClassification`).
    public enum Classification: String, Sendable, CaseIterable {
        case hard, soft
    }

    /// The kept searches (one per row) and, for each row, the index into `structures` of the one kept.
    public struct Classified: Sendable {
        public var outcome: Outcome
        public var chosen: [Int]
        /// With a soft classification, each row's weight on each of its searches (rows × searches); nil otherwise.
        public var weights: [[Double]]?
    }

    /// Like `estimate`, with `choices[m][i]` the m-th structure (an index into `structures`) row `rows[i]` is scored
    /// against: one search per m, and for each row the search with the lowest loss at its pose (`poseLoss`) is kept
    /// (the first on a tie); with `soft`, each row's pose is instead the posterior-weighted mean of its searches' poses
    /// (`SoftClassification`); `chosen` is the best-scoring one either way. `progress` sees the rows done summed over the
    /// searches.
    public func estimateBest(rows: [Int], images: ([Int]) throws -> Tensor, structures: [[Double]], choices: [[Int]], geometry: Projector.Geometry,
                             ctf: ((Int) -> CTFParameters)?, origins: [Float]?, soft: SoftClassification? = nil,
                             progress: ((Int) -> Void)? = nil) throws -> Classified {
        guard !choices.isEmpty else { throw KernelError("esl", "each image needs at least one structure to be scored against") }
        let outcomes = try choices.enumerated().map { m, assignment in
            try estimate(rows: rows, images: images, structures: structures, assignment: assignment, geometry: geometry, ctf: ctf, origins: origins,
                         progress: progress.map { report in { report(m * rows.count + $0) } })
        }
        var kept = outcomes[0], chosen = choices[0], weights: [[Double]]? = soft == nil ? nil : []
        for n in rows.indices {
            let searches = outcomes.map { $0.estimates[n] }
            let m = searches.indices.min { searches[$0].poseLoss < searches[$1].poseLoss }!
            if let soft {
                let (merged, w) = soft.merged(searches)
                kept.estimates[n] = merged
                weights?.append(w)
            } else {
                kept.estimates[n] = searches[m]
            }
            kept.candidates[n] = outcomes[m].candidates[n]
            chosen[n] = choices[m][n]
        }
        kept.coarseRenders = outcomes.reduce(0) { $0 + $1.coarseRenders }
        kept.fullRenders = outcomes.reduce(0) { $0 + $1.fullRenders }
        return Classified(outcome: kept, chosen: chosen, weights: weights)
    }
}
