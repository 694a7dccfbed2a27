import Foundation

/// Re-search rounds of pose-marginalised training (Docs/METHOD.md, "Poses under heterogeneity"): every `interval`
/// epochs each image's candidate rotations are chosen again by ESL (`estimator`, coarse-to-fine by default)
/// against its own current decoded conformation, or, with `centroids` K > 0, against the nearest of K k-means
/// centroids of the current conformations (K shared structures: cheaper, coarser), or against its `choices` nearest,
/// keeping the one whose best rotation scores lowest (as a 3D classification assigns a particle). Without a shift
/// search of the estimator's own the images are centred by their current origins (the training steps' search tracks
/// them); with one, shifts are searched about the box centre again, so an origin fitted to a wrong pose does not hold
/// the image there. The image's pose estimate becomes the new search's, so a pose the search against the template
/// missed can be found later.
public struct CandidateResearch: Sendable {
    public let interval: Int, centroids: Int
    /// With centroids, how many of the nearest centroids each image is scored against (1: its own cluster's); the one
    /// whose best rotation scores lowest gives its candidates, pose and origin.
    public let choices: Int
    public let estimator: PoseEstimator

    /// Validated settings: a positive interval, K ≥ 0, 1 ≤ choices ≤ K (choices > 1 needs centroids).
    public init(interval: Int, centroids: Int, choices: Int = 1, estimator: PoseEstimator) throws {
        guard interval >= 1 else { throw KernelError("research", "research must be a number of epochs ≥ 1 (or 0 for none), got \(interval)") }
        guard centroids >= 0 else { throw KernelError("centroids", "centroids must be 0 (each image's own conformation) or a number of clusters, got \(centroids)") }
        guard choices >= 1, choices == 1 || choices <= centroids else {
            throw KernelError("centroid_choices", "centroid_choices must be between 1 and centroids (\(centroids)), got \(choices)")
        }
        self.interval = interval
        self.centroids = centroids
        self.choices = choices
        self.estimator = estimator
    }

    /// Whether a round runs before epoch `epoch` (0-based): after every `interval` epochs, never before the first.
    public func isDue(epoch: Int) -> Bool { epoch > 0 && epoch % interval == 0 }

    /// For each row of `points` [M, dimension], the indices of `count` centroids (at most all of them) to score it
    /// against: its own cluster's (`labels`) first, then the others nearest first (squared Euclidean distance).
    static func nearestCentroids(_ points: [Float], dimension: Int, centres: [[Double]], labels: [Int], count: Int) -> [[Int]] {
        labels.indices.map { n in
            let x = points[(n * dimension)..<((n + 1) * dimension)].map(Double.init)
            let distances = centres.map { KMeans.squaredDistance(x, $0) }
            let others = distances.indices.filter { $0 != labels[n] }.sorted { distances[$0] < distances[$1] }
            return Array(([labels[n]] + others).prefix(count))
        }
    }
}

extension AutodecoderTrainer {
    /// One re-search round over this rank's images: their current conformations (or the centroids of those) scored
    /// by `research.estimator`; each image keeps its `perImage` best rotations (padded with its previous
    /// candidates if the search scored fewer), and its pose and origin become the search's. Returns each image's loss at
    /// the best rotation of the search it kept.
    @discardableResult
    func researchCandidates(_ state: State, _ unknown: UnknownPoses, _ research: CandidateResearch) throws -> [Double] {
        let rows = Array(shard.rows)
        guard !rows.isEmpty else { return [] }
        let predicted = try conformations(try state.latents.gather(Tensor(rows.map(Float.init))))
        let per = nodes * 3
        var structures = rows.indices.map { i in predicted.storage[(i * per)..<((i + 1) * per)].map(Double.init) }
        // Each image's structures to be scored against, nearest first: its own conformation, or its nearest centroids.
        var assignments = [Array(rows.indices)]
        if research.centroids > 0 {
            let clusters = try KMeans.fit(predicted.storage, dimension: per, k: Swift.min(research.centroids, rows.count), seed: settings.seed)
            structures = clusters.centres
            let nearest = CandidateResearch.nearestCentroids(predicted.storage, dimension: per, centres: clusters.centres,
                                                             labels: clusters.labels, count: research.choices)
            assignments = (0..<nearest[0].count).map { m in nearest.map { $0[m] } }
        }
        // Without a shift search of its own, the images are centred by their current origins (searched during training,
        // or given); with one, every scored rotation gets its best shift about the box centre, as the first search did.
        let current = rows.flatMap { [state.poses.origins[2 * $0], state.poses.origins[2 * $0 + 1]] }
        // At full size even with a half-size global phase: searched at half size, 16 pixels on the coarse level, the
        // rounds left as many images in wrong basins as rounds without a shift search (16.7% against 10.7%, one run).
        let search = try research.estimator.estimateBest(
            rows: rows, images: { try self.dataset.imageRows($0) }, structures: structures, choices: assignments, geometry: geometry,
            ctf: settings.applyCTF ? { self.dataset.ctf[$0] } : nil, origins: research.estimator.search == nil ? current : nil).outcome
        let k = unknown.perImage
        var kept: [Double] = []
        for (n, i) in rows.enumerated() {
            let estimate = search.estimates[n]
            kept.append(estimate.loss)
            let found = search.candidates[n].prefix(k)
            let previous = state.poses.candidates[(i * k)..<((i + 1) * k)].filter { r in !found.contains { $0.m == r.m } }
            let chosen = Array(found) + previous.prefix(k - found.count)
            state.poses.candidates.replaceSubrange((i * k)..<((i + 1) * k), with: chosen)
            state.poses.rotations[i] = estimate.rotation
            (state.poses.origins[2 * i], state.poses.origins[2 * i + 1]) = (Float(estimate.origin.x), Float(estimate.origin.y))
        }
        return kept
    }
}
