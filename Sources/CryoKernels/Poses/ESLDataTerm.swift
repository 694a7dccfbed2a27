import Foundation

/// Pose-marginalised training (Docs/METHOD.md, "Unknown poses", step 5): each image's data term is the expected
/// image error Σ_q β_q L_q under its ESL measure, with L_q the error of the predicted conformation rendered at
/// rotation q, differentiated through L and β. On 2 cores the rotations are not the whole grid but each image's
/// `perImage` candidates: its best rotations found by coarse-to-fine ESL on the template before training, chosen
/// again against its own conformation every `research.interval` epochs (deviations recorded in the README); J, γ
/// and Q^η are those of the grid they come from, so the measure is the full-grid measure whenever its support lies
/// among the candidates. Optionally each candidate is scored at its best in-plane shift (`search`), and each
/// image's pose is refined beyond the grid after every step (`refinement`), the refined rotation taking the slot of
/// the image's worst-scored candidate (so the rest of the measure is kept). In the local phase (`local`) the
/// candidates are the local set around each image's current pose instead (or the pose alone), scored at its current
/// origin.
public struct UnknownPoses: Sendable {
    /// The first candidate rotations, `perImage` per image, image-major (best first).
    public let candidates: [Rotation]
    public let perImage: Int
    public let lifting: SupportLifting
    /// Size of the grid the candidates come from.
    public let gridSize: Int
    /// True rotations and origins (simulations, 2 per image, Å), for the errors reported every epoch.
    public let truth: [Rotation]?
    public var truthOrigins: [Float]?
    /// The shift search around the box centre (nil: the images' origins are used as given).
    public var search: ShiftSearch?
    /// Local refinement of each image's rotation and origin after every step (nil: none).
    public var refinement: PoseRefinement?
    /// Re-search rounds (nil: the first candidates are kept).
    public var research: CandidateResearch?
    /// The local phase at the end of training (nil: none).
    public var local: LocalCandidates?
    /// Whether the global phase (every epoch before the local phase) scores, trains on and refines against the images
    /// Fourier-cropped to half size, as the pose search's coarse level does: a quarter of the pixels and transforms
    /// per rendering while the poses are still coarse; the local phase then works at full size. Needs a local phase.
    public var halfSizeGlobalPhase = false
    /// Whether the trainer removes each decoder displacement's infinitesimal rigid rotation (a rotation of the
    /// conformation and of its pose are the same thing; see `RigidFreeDisplacements`). True by default; false keeps
    /// it, as before issue 18's gauge fix (translation is removed with a shift search either way).
    public var removesRotation = true

    /// Validates that every image has `perImage` candidates.
    public init(candidates: [Rotation], perImage: Int, images: Int, lifting: SupportLifting, gridSize: Int, truth: [Rotation]?) throws {
        guard perImage >= 2, candidates.count == perImage * images else {
            throw KernelError("train_autodecoder", "ESL training needs at least 2 candidate rotations for each of \(images) images, got \(candidates.count) in all")
        }
        if let truth, truth.count != images { throw KernelError("train_autodecoder", "got \(truth.count) true rotations for \(images) images") }
        self.candidates = candidates
        self.perImage = perImage
        self.lifting = lifting
        self.gridSize = gridSize
        self.truth = truth
    }

    /// The data term for images `picked` (`targets`, [B,D,D]) with predicted conformations `coords` [B,N,3]: the mean over the batch of
    /// Σβ·L, where L_q = mean((ŷ − r̂_q)²) = 2 − 2·corr(y, r_q) compares the image and the CTF-filtered rendering at
    /// candidate q (at its best shift with a search outside the local phase, else at the image's origin) after standardising both, as the
    /// pose search scores them (a fitted global scale would favour rotations by the energy of their projection;
    /// `CandidateScoring` computes every L of the batch as one op). Each image's pose in `poses` becomes its measure's
    /// barycentre and the β-weighted mean of its candidates' origins (with a search), then is refined.
    /// The images' scoring targets are made from `fullSize`, or taken from `cache` for the images it holds (`picked`
    /// being their indices there).
    func dataTerm(picked: [Int], coords: Tensor, images fullSize: Tensor, poses: inout TrainingPoses, ctf: [CTFParameters]?,
                  geometry fullGeometry: Projector.Geometry, cache: ScoringTargetCache? = nil) throws -> Tensor {
        let (rotations, k) = candidates(picked, poses), b = picked.count
        let given: [Float] = picked.flatMap { i -> [Float] in [poses.origins[2 * i], poses.origins[2 * i + 1]] }
        // The local set lies within δ of the image's pose, whose origin refinement keeps current, so its candidates are
        // scored at that origin rather than each searched again.
        var search = poses.local ? nil : self.search
        var geometry = fullGeometry
        let halved = halfSizeGlobalPhase && !poses.local
        if halved {
            geometry = try fullGeometry.halved()
            search = try search?.resized(size: geometry.size, pixel: geometry.pixel)
        }
        // Without a cache, one that keeps nothing makes them for this step alone.
        let targets = try (cache ?? ScoringTargetCache(budget: 0)).targets(picked, images: fullSize, ctf: ctf, geometry: geometry, planes: search != nil,
                                                                            op: "esl_data_term") {
            halved ? try FourierFilter.downsample($0, to: geometry.size) : $0
        }
        let (losses, origins) = try CandidateScoring.scored(coords: coords, targets: targets, rotations: rotations,
                                                            shifts: search == nil ? given : [Float](repeating: 0, count: 2 * b),
                                                            geometry: geometry, search: search)
        // A single candidate (the local phase's pose alone) carries the whole measure: its loss is the data term.
        let expected = k == 1 ? try losses.mean() : try lifting.expectedLoss(losses, gridSize: gridSize).mean()
        var estimates: [Rotation] = [], estimatedOrigins: [Float] = []
        for i in 0..<b {
            let l = (0..<k).map { Double(losses.storage[i * k + $0]) }
            let beta = lifting.measure(l, gridSize: gridSize)
            estimates.append(k == 1 ? rotations[i] : SupportLifting.barycentre(Array(rotations[(i * k)..<((i + 1) * k)]), beta))
            var origin = (0.0, 0.0)
            for q in 0..<k where beta[q] > 0 {
                origin = (origin.0 + beta[q] * Double(origins[2 * (i * k + q)]), origin.1 + beta[q] * Double(origins[2 * (i * k + q) + 1]))
            }
            estimatedOrigins += [Float(origin.0), Float(origin.1)]
        }
        try update(&poses, picked: picked, estimates: estimates, origins: estimatedOrigins, worst: UnknownPoses.worst(losses), coords: coords,
                   targets: { targets }, geometry: geometry)
        return expected
    }

    /// The candidate rotations of images `picked` (image-major) and how many each has: their stored candidates, or in
    /// the local phase (`poses.local`) those around each one's current pose.
    func candidates(_ picked: [Int], _ poses: TrainingPoses) -> (rotations: [Rotation], perImage: Int) {
        if poses.local, let local {
            let rotations = picked.flatMap { local.candidates(poses.rotations[$0]) }
            return (rotations, rotations.count / picked.count)
        }
        let k = perImage
        return (picked.flatMap { i in poses.candidates[(i * k)..<((i + 1) * k)] }, k)
    }

    /// Each image's worst-scored candidate (the highest of its row of `losses` [B,K]): the slot a refined rotation takes.
    static func worst(_ losses: Tensor) -> [Int] {
        let k = losses.shape[1]
        return (0..<losses.shape[0]).map { b in (0..<k).max { losses.storage[b * k + $0] < losses.storage[b * k + $1] } ?? 0 }
    }

    /// Stores the batch's pose estimates and origins (2 per image) into `poses`, after refining them (`refinement`,
    /// against the images' scoring `targets`, made when needed, seen as the detached conformations `coords`; not in a
    /// local phase of fixed poses), the refined rotation taking each image's candidate slot `worst` (outside the local
    /// phase, whose candidates follow the pose).
    func update(_ poses: inout TrainingPoses, picked: [Int], estimates: [Rotation], origins: [Float], worst: [Int], coords: Tensor,
                targets: () throws -> CandidateScoring.Targets, geometry: Projector.Geometry) throws {
        var (estimates, origins) = (estimates, origins)
        if let refinement, !(poses.local && local?.poses == .fixed) {
            (estimates, origins, _) = try refinement.refine(coords: coords.detached(), targets: try targets(), geometry: geometry,
                                                            rotations: estimates, origins: origins)
            if !poses.local { for (n, i) in picked.enumerated() { poses.candidates[i * perImage + worst[n]] = estimates[n] } }
        }
        for (n, i) in picked.enumerated() {
            poses.rotations[i] = estimates[n]
            (poses.origins[2 * i], poses.origins[2 * i + 1]) = (origins[2 * n], origins[2 * n + 1])
        }
    }
}
