import Foundation

/// A soft 3D classification: an image searched against several states keeps the mean of the states' poses weighted
/// by each state's posterior probability, rather than the best-scoring state's pose alone, as RELION marginalises
/// over classes.
///
/// The pose score L = 2 − 2ρ (ρ the correlation of the standardised image with the standardised rendering, over P
/// pixels) is a Gaussian likelihood in disguise: with the best scale the residual is P·(1 − ρ²), and with the noise
/// variance estimated from the best state's fit (1 − ρ_best² per pixel), state m's log-likelihood relative
/// to the best is
///   log w_m = −P·(ρ_best² − ρ_m²) / (2·(1 − ρ_best²)),
/// so the weights follow from the scores and the image size alone: nothing is tuned. A state whose pose lies more
/// than `basin` degrees from the best state's is in another pose basin and gets no weight, since a mean across
/// basins is no pose at all.
public struct SoftClassification: Sendable {
    /// Pixels per image (D²), the likelihood's sample size.
    public let pixels: Int
    /// Poses further than this from the best state's (degrees) are left out of the mean.
    public let basin: Double

    public init(pixels: Int, basin: Double = 20) throws {
        guard pixels >= 1 else { throw KernelError("esl", "a soft classification needs images of at least one pixel, got \(pixels)") }
        guard basin > 0, basin.isFinite else { throw KernelError("esl", "the pose basin of a soft classification must be above 0°, got \(basin)") }
        self.pixels = pixels
        self.basin = basin
    }

    /// Each state's posterior weight (summing to 1) from one image's estimates against the states, compared at their
    /// poses (`poseLoss`).
    public func weights(_ estimates: [PoseScoring.Estimate]) -> [Double] {
        guard let best = best(estimates) else { return [] }
        // A negative correlation fits no better than a zero scale (the score prefers the larger correlation, not |ρ|).
        let correlation = { (e: PoseScoring.Estimate) in Swift.min(1 - 1e-6, Swift.max(0, 1 - e.poseLoss / 2)) }
        let top = correlation(estimates[best])
        let noise = 1 - top * top
        let logWeights = estimates.map { e -> Double in
            guard e.rotation.angle(to: estimates[best].rotation) <= basin else { return -.infinity }
            let rho = correlation(e)
            return -Double(pixels) * (top * top - rho * rho) / (2 * noise)
        }
        let unnormalised = logWeights.map { exp($0) }
        let total = unnormalised.reduce(0, +)
        return unnormalised.map { $0 / total }
    }

    /// The estimate whose pose scores lowest (the first on a tie), as the hard classification keeps.
    private func best(_ estimates: [PoseScoring.Estimate]) -> Int? {
        estimates.indices.min { estimates[$0].poseLoss < estimates[$1].poseLoss }
    }

    /// One image's estimate merged from its estimates against the states: the weighted Riemannian barycentre of their
    /// rotations and the weighted mean of their origins; the rest (argmin, losses, spread, support) is the best
    /// state's. Also the weights.
    public func merged(_ estimates: [PoseScoring.Estimate]) -> (estimate: PoseScoring.Estimate, weights: [Double]) {
        guard let best = best(estimates) else { preconditionFailure("merged needs at least one estimate") }
        let w = weights(estimates)
        let kept = estimates[best]
        var origin = (x: 0.0, y: 0.0)
        for (weight, e) in zip(w, estimates) where weight > 0 { origin = (origin.x + weight * e.origin.x, origin.y + weight * e.origin.y) }
        let rotation = SupportLifting.barycentre(estimates.map(\.rotation), w)
        return (PoseScoring.Estimate(rotation: rotation, argmin: kept.argmin, loss: kept.loss, spread: kept.spread, support: kept.support,
                                     origin: origin, refinedLoss: kept.refinedLoss), w)
    }
}
