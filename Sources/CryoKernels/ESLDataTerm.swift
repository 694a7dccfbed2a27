import Foundation

/// Pose-marginalised training (Docs/METHOD.md, "Unknown poses", step 5): each image's data term is the expected
/// image error Σ_q β_q L_q under its ESL measure, with L_q the error of the predicted conformation rendered at
/// rotation q, differentiated through L and β. On 2 cores the rotations are not the whole grid but each image's
/// `perImage` best rotations found by coarse-to-fine ESL on the template before training (a deviation recorded in
/// the README); J, γ and Q^η are those of the grid they come from, so the measure is the full-grid measure
/// whenever its support lies among the candidates.
public struct UnknownPoses: Sendable {
    /// Candidate rotations, `perImage` per image, image-major.
    public let candidates: [Rotation]
    public let perImage: Int
    public let lifting: SupportLifting
    /// Size of the grid the candidates come from.
    public let gridSize: Int
    /// True rotations (simulations), for the pose error reported every epoch.
    public let truth: [Rotation]?

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
    /// rotation q after standardising both, as the pose search scores them (a fitted global scale would favour
    /// rotations by the energy of their projection; `CandidateScoring` computes every L of the batch as one op);
    /// also each image's pose estimate, its measure's barycentre. `shifts` [M,2] are the dataset's.
    func dataTerm(picked: [Int], coords: Tensor, images targets: Tensor, shifts: Tensor, dataset: ParticleDataset,
                  geometry: Projector.Geometry, applyCTF: Bool) throws -> (Tensor, [Rotation]) {
        let k = perImage, b = picked.count
        let rotations = picked.flatMap { i in candidates[(i * k)..<((i + 1) * k)] }
        let imageShifts: [Float] = picked.flatMap { i -> [Float] in [shifts.storage[2 * i], shifts.storage[2 * i + 1]] }
        let losses = try CandidateScoring.losses(coords: coords, images: targets, rotations: rotations, shifts: imageShifts,
                                                 ctf: applyCTF ? picked.map { dataset.ctf[$0] } : nil, geometry: geometry)
        let expected = try lifting.expectedLoss(losses, gridSize: gridSize).mean()
        let poses = (0..<b).map { i -> Rotation in
            let l = (0..<k).map { Double(losses.storage[i * k + $0]) }
            return SupportLifting.barycentre(Array(rotations[(i * k)..<((i + 1) * k)]), lifting.measure(l, gridSize: gridSize))
        }
        return (expected, poses)
    }
}
