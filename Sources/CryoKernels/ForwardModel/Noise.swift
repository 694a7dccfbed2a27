/// White Gaussian noise at a signal-to-noise ratio (CryoBench convention: σ² = var(clean)/SNR, with the
/// variance of the clean images taken over the whole batch so every image gets the same noise level).
public enum Noise {
    /// `images` plus noise of variance var(images)/`snr`, and the noise σ used.
    public static func add(_ images: Tensor, snr: Double, using generator: inout SeededGenerator) throws -> (Tensor, Double) {
        guard snr > 0, snr.isFinite else { throw KernelError("add_noise", "SNR must be positive and finite, got \(snr)") }
        guard images.count > 1 else { throw KernelError("add_noise", "needs images with more than one pixel") }
        var sum = 0.0, squares = 0.0
        for v in images.storage { sum += Double(v); squares += Double(v) * Double(v) }
        let n = Double(images.count)
        let variance = Swift.max(0, squares / n - (sum / n) * (sum / n))
        let sigma = (variance / snr).squareRoot()
        var out = images.storage
        for i in 0..<out.count { out[i] += Float(generator.normal() * sigma) }
        return (Tensor(uncheckedShape: images.shape, storage: out), sigma)
    }
}
