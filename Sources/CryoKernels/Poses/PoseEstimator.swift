import Foundation

/// Pose estimation of many images by ESL, in one place: how the images are grouped (one structure for all, one
/// conformation per image, or a few shared centroids), the chunks they are scored in, the choice between
/// coarse-to-fine and the whole grid, the optional in-plane shift search, the images' given origins, and the
/// optional refinement of each estimate beyond the grid. The `esl` builtin, the trainer's first candidate search
/// and its re-search rounds all call it.
public struct PoseEstimator: Sendable {
    /// Grid level (0, 1, 2), coarse-to-fine (levels 1–2 only) or the whole grid, and coarse rotations kept per image.
    public let level: Int, coarseToFine: Bool, keep: Int
    public let lifting: SupportLifting
    /// The shift search (nil: the images are taken as centred by their given origins).
    public let search: ShiftSearch?
    /// Images scored together: they share the structure's renderings. By default 2,048 with coarse-to-fine, whose finer
    /// level renders the union of the chunk's candidates once (the unknown-pose experiment's search of 2,000 images
    /// against the template: 86k full-size renders and 10 s in chunks of 256, 16.5k and 6.2 s in one chunk), and 256
    /// over the whole grid, whose loss table holds every rotation of every image in the chunk.
    public let chunk: Int
    /// Refinement of each estimate's rotation (and, with a search, origin, kept within the search radius) beyond the
    /// grid, against the image's structure (nil: the barycentre and the β-weighted origin are returned as they are).
    public var refinement: PoseRefinement?
    /// How many best rotations a whole-grid search returns per image (coarse-to-fine returns all it scored).
    public static let wholeGridCandidates = 64

    /// Validated settings: a grid level that exists, `keep` ≥ 1, `chunk` ≥ 1 (nil: the default above).
    public init(level: Int, coarseToFine: Bool = true, keep: Int = 16, lifting: SupportLifting, search: ShiftSearch? = nil, chunk: Int? = nil) throws {
        guard SO3Grid.sizes.indices.contains(level) else { throw KernelError("esl", "grid level must be 0, 1 or 2, got \(level)") }
        guard keep >= 1 else { throw KernelError("esl", "keep must be at least 1, got \(keep)") }
        if let chunk, chunk < 1 { throw KernelError("esl", "the chunk of images must hold at least 1, got \(chunk)") }
        self.level = level
        self.coarseToFine = coarseToFine && level >= 1
        self.keep = keep
        self.lifting = lifting
        self.search = search
        self.chunk = chunk ?? (self.coarseToFine ? 2048 : 256)
    }

    /// Each image's estimate (its origin absolute: the given origin plus what the search found), its scored
    /// rotations best first, and the renders made (cropped and full-size).
    public struct Outcome: Sendable {
        public var estimates: [PoseScoring.Estimate]
        public var candidates: [[Rotation]]
        public var coarseRenders = 0, fullRenders = 0
    }

    /// Estimates for the images `rows` (indices the closures understand), read a chunk at a time by `images`
    /// (rows → [B,D,D]). Image `rows[i]` is scored against `structures[assignment[i]]` (3N Å each, in the frame the
    /// poses rotate about), through `ctf(rows[i])` when given; `origins` (two per row, Å, RELION's) centre the images
    /// before scoring (nil: none). `progress` sees the number of rows done.
    public func estimate(rows: [Int], images: ([Int]) throws -> Tensor, structures: [[Double]], assignment: [Int], geometry: Projector.Geometry,
                         ctf: ((Int) -> CTFParameters)?, origins: [Float]?, progress: ((Int) -> Void)? = nil) throws -> Outcome {
        guard assignment.count == rows.count, assignment.allSatisfy({ structures.indices.contains($0) }) else {
            throw KernelError("esl", "each of the \(rows.count) images needs one of the \(structures.count) structures")
        }
        if let origins, origins.count != 2 * rows.count { throw KernelError("esl", "got \(origins.count / 2) origins for \(rows.count) images") }
        var estimates = [PoseScoring.Estimate?](repeating: nil, count: rows.count)
        var candidates = [[Rotation]](repeating: [], count: rows.count)
        var outcome = Outcome(estimates: [], candidates: [])
        var done = 0
        // Positions (into `rows`) of the images of each structure, scored in chunks.
        var groups: [Int: [Int]] = [:]
        for (i, s) in assignment.enumerated() { groups[s, default: []].append(i) }
        for (s, members) in groups.sorted(by: { $0.key < $1.key }) {
            for start in stride(from: 0, to: members.count, by: chunk) {
                let part = Array(members[start..<Swift.min(members.count, start + chunk)])
                var batch = try images(part.map { rows[$0] })
                let given = origins.map { o in part.flatMap { [o[2 * $0], o[2 * $0 + 1]] } }
                if let given { batch = try ImageCentring.centre(batch, origins: given, pixel: geometry.pixel) }
                let chunkCTF = ctf.map { c in part.map { c(rows[$0]) } }
                var found = try estimateChunk(batch, structure: structures[s], geometry: geometry, ctf: chunkCTF)
                if let refinement {
                    found.estimates = try PoseEstimator.refined(found.estimates, by: refinement, images: batch, structure: structures[s], geometry: geometry,
                                                                ctf: chunkCTF)
                }
                for (j, i) in part.enumerated() {
                    let e = found.estimates[j]
                    let base = given.map { (Double($0[2 * j]), Double($0[2 * j + 1])) } ?? (0, 0)
                    estimates[i] = PoseScoring.Estimate(rotation: e.rotation, argmin: e.argmin, loss: e.loss, spread: e.spread, support: e.support,
                                                        origin: (base.0 + e.origin.x, base.1 + e.origin.y), refinedLoss: e.refinedLoss)
                    candidates[i] = found.candidates[j]
                }
                outcome.coarseRenders += found.coarseRenders
                outcome.fullRenders += found.fullRenders
                done += part.count
                progress?(done)
            }
        }
        outcome.estimates = estimates.compactMap { $0 }
        outcome.candidates = candidates
        return outcome
    }

    /// `estimates` of the (centred) `images` [B,D,D] with each rotation and origin refined against `structure` (3N Å);
    /// the rest of each estimate (argmin, its loss, spread, support) is the grid's, and `refinedLoss` the refined pose's.
    static func refined(_ estimates: [PoseScoring.Estimate], by refinement: PoseRefinement, images: Tensor, structure: [Double],
                        geometry: Projector.Geometry, ctf: [CTFParameters]?) throws -> [PoseScoring.Estimate] {
        let one = structure.map(Float.init)
        let coords = try Tensor(shape: [estimates.count, one.count / 3, 3], storage: [[Float]](repeating: one, count: estimates.count).flatMap { $0 })
        let (rotations, origins, losses) = try refinement.refine(coords: coords, images: images, ctf: ctf, geometry: geometry, rotations: estimates.map(\.rotation),
                                                           origins: estimates.flatMap { [Float($0.origin.x), Float($0.origin.y)] })
        return estimates.indices.map { j in
            let e = estimates[j]
            return PoseScoring.Estimate(rotation: rotations[j], argmin: e.argmin, loss: e.loss, spread: e.spread, support: e.support,
                                        origin: (Double(origins[2 * j]), Double(origins[2 * j + 1])), refinedLoss: Double(losses[j]))
        }
    }

    /// One chunk of (centred) images against one structure: coarse-to-fine, or the whole grid.
    func estimateChunk(_ images: Tensor, structure: [Double], geometry: Projector.Geometry, ctf: [CTFParameters]?) throws -> Outcome {
        if coarseToFine {
            return try CoarseToFinePoseSearch.estimate(images: images, coords: structure, geometry: geometry, ctf: ctf, level: level, keep: keep,
                                                       lifting: lifting, search: search)
        }
        let grid = try SO3Grid.level(level).rotations
        let batch = images.shape[0]
        var perImage: [[Double]], origins: [[(Float, Float)]]?
        if let search {
            let scored = try PoseScoring.shiftSearchedLosses(images: images, coords: structure, geometry: geometry, ctf: ctf, grid: grid, pairs: nil, search: search)
            (perImage, origins) = (scored.losses.map { $0.map(Double.init) }, scored.origins)
        } else {
            let flat = try PoseScoring.losses(images: images, coords: structure, geometry: geometry, ctf: ctf, grid: grid)
            (perImage, origins) = ((0..<batch).map { b in (0..<grid.count).map { Double(flat[b * grid.count + $0]) } }, nil)
        }
        let estimates = PoseScoring.estimates(batch) { b in
            PoseScoring.estimate(losses: perImage[b], rotations: grid, lifting: lifting, origins: origins?[b])
        }
        let candidates = perImage.map { l in Array(l.indices.sorted { l[$0] < l[$1] }.prefix(PoseEstimator.wholeGridCandidates).map { grid[$0] }) }
        return Outcome(estimates: estimates, candidates: candidates, coarseRenders: 0, fullRenders: grid.count)
    }
}
