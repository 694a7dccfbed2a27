import Foundation

/// Synthetic particle images: a random conformation, a uniform random pose, a small shift and a defocus for
/// every image; rendered by the Gaussian projector, filtered by the CTF, with white noise at the requested SNR.
public enum Simulator {
    /// What to simulate.
    public struct Settings: Sendable {
        public var images: Int
        public var size: Int
        public var pixel: Float
        public var snr: Double
        /// Defocus range (Å); each image draws uniformly from it.
        public var defocus: ClosedRange<Double>
        /// Standard deviation of the in-plane shift per axis (Å).
        public var shift: Double
        /// Whether to apply the CTF at all.
        public var applyCTF: Bool
        public var voltage: Double, sphericalAberration: Double, amplitudeContrast: Double
        public var seed: UInt64

        /// Defaults follow the calibration in PAPER.md: 300 kV, Cs 2.7 mm, amplitude contrast 0.1, defocus 1–2.5 µm.
        public init(images: Int, size: Int = 64, pixel: Float = 2, snr: Double = 0.1, defocus: ClosedRange<Double> = 10_000...25_000,
                    shift: Double = 0, applyCTF: Bool = true, voltage: Double = 300, sphericalAberration: Double = 2.7,
                    amplitudeContrast: Double = 0.1, seed: UInt64 = 0) {
            self.images = images
            self.size = size
            self.pixel = pixel
            self.snr = snr
            self.defocus = defocus
            self.shift = shift
            self.applyCTF = applyCTF
            self.voltage = voltage
            self.sphericalAberration = sphericalAberration
            self.amplitudeContrast = amplitudeContrast
            self.seed = seed
        }
    }

    /// Simulates particles of `conformations` (each 3N values in Å, centred on their own centroid before
    /// rendering) with per-atom widths and weights. Returns the noisy dataset and the clean images.
    public static func simulate(conformations: [[Double]], sigma: [Float], weight: [Float], settings s: Settings,
                                progress: ((Int, Int) -> Bool)? = nil) throws -> (dataset: ParticleDataset, clean: Tensor, noiseSigma: Double) {
        guard let first = conformations.first, !first.isEmpty else { throw KernelError("simulate", "no conformations (or no atoms) to simulate") }
        guard conformations.allSatisfy({ $0.count == first.count }) else { throw KernelError("simulate", "conformations differ in atom count") }
        guard s.images >= 1, s.images <= 10_000_000 else { throw KernelError("simulate", "images must be positive, got \(s.images)") }
        guard s.defocus.lowerBound >= 0 else { throw KernelError("simulate", "defocus must be non-negative") }
        let geometry = try Projector.Geometry(size: s.size, pixel: s.pixel, sigma: sigma, weight: weight)
        let atoms = first.count / 3
        let centred = conformations.map { Superposition.centred($0).map(Float.init) }
        var g = SeededGenerator(seed: s.seed)
        var labels: [Int] = [], rotations: [Rotation] = [], shifts: [Float] = [], ctfs: [CTFParameters] = []
        for _ in 0..<s.images {
            labels.append(Int(g.next() % UInt64(conformations.count)))
            rotations.append(Rotation.random(using: &g))
            shifts += [Float(g.normal() * s.shift), Float(g.normal() * s.shift)]
            let df = s.defocus.lowerBound + g.uniform() * (s.defocus.upperBound - s.defocus.lowerBound)
            ctfs.append(CTFParameters(defocusU: df, voltage: s.voltage, sphericalAberration: s.sphericalAberration, amplitudeContrast: s.amplitudeContrast))
        }
        let d = s.size
        var clean = [Float](repeating: 0, count: s.images * d * d)
        let chunk = 64
        for start in stride(from: 0, to: s.images, by: chunk) {
            let end = Swift.min(s.images, start + chunk)
            let coords = Tensor(uncheckedShape: [end - start, atoms, 3], storage: (start..<end).flatMap { centred[labels[$0]] })
            var images = try Projector.project(coords: coords, rotations: Rotation.tensor(Array(rotations[start..<end])),
                                               shifts: Tensor(uncheckedShape: [end - start, 2], storage: Array(shifts[(2 * start)..<(2 * end)])),
                                               geometry: geometry)
            if s.applyCTF { images = try FourierFilter.applyCTF(images, parameters: Array(ctfs[start..<end]), pixel: s.pixel) }
            clean.replaceSubrange((start * d * d)..<(end * d * d), with: images.storage)
            if let progress, !progress(end, s.images) { throw KernelError("simulate", "stopped at image \(end) of \(s.images)") }
        }
        let cleanTensor = Tensor(uncheckedShape: [s.images, d, d], storage: clean)
        let (noisy, noiseSigma) = try Noise.add(cleanTensor, snr: s.snr, using: &g)
        let dataset = try ParticleDataset(images: noisy, rotations: rotations, shifts: shifts, ctf: ctfs, pixel: s.pixel, size: d,
                                          conformation: labels, op: "simulate")
        return (dataset, cleanTensor, noiseSigma)
    }
}
