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
        /// Astigmatism (Å): dfU − dfV drawn uniformly in [0, astigmatism] around the drawn defocus, at a uniform
        /// angle in [0°, 180°); 0 draws nothing (so simulations without it are unchanged).
        public var astigmatism: Double
        /// Whether to apply the CTF at all.
        public var applyCTF: Bool
        /// Optics groups (voltage kV, Cs mm, amplitude contrast): image i belongs to group i mod the count.
        public var optics: [(voltage: Double, sphericalAberration: Double, amplitudeContrast: Double)]
        public var seed: UInt64
        /// Where each conformation sits before it is rotated.
        public var centring: Centring = .each
        /// How atoms become pixels.
        public var rendering: Rendering = .integrated

        /// Defaults follow the calibration in Docs/METHOD.md: 300 kV, Cs 2.7 mm, amplitude contrast 0.1, defocus 1–2.5 µm.
        public init(images: Int, size: Int = 64, pixel: Float = 2, snr: Double = 0.1, defocus: ClosedRange<Double> = 10_000...25_000,
                    shift: Double = 0, astigmatism: Double = 0, applyCTF: Bool = true,
                    optics: [(voltage: Double, sphericalAberration: Double, amplitudeContrast: Double)] = [(300, 2.7, 0.1)], seed: UInt64 = 0) {
            self.images = images
            self.size = size
            self.pixel = pixel
            self.snr = snr
            self.defocus = defocus
            self.shift = shift
            self.astigmatism = astigmatism
            self.applyCTF = applyCTF
            self.optics = optics
            self.seed = seed
        }
    }

    /// Where conformations sit before rotation.
    public enum Centring: String, Sendable, CaseIterable {
        /// Each conformation on its own centroid: the images carry shape only.
        case each
        /// All conformations moved by the first one's centroid, keeping their relative positions (a trajectory
        /// aligned to its first frame, as the PyTorch calibration renders it): images also carry the centroid's motion.
        case first
    }

    /// How atoms are drawn on the pixel grid.
    public enum Rendering: String, Sendable, CaseIterable {
        /// Each atom's density integrated over every pixel (`Projector`, the training model).
        case integrated
        /// Each atom's density sampled at pixel centres (`PointSampledProjection`), as the PyTorch calibration draws.
        case point
    }

    /// `conformations` (each 3N values in Å, all of the same N ≥ 1) where `centring` puts them before rotation: the
    /// coordinates the simulator renders, and so the ground truth of its images.
    public static func placed(_ conformations: [[Double]], centring: Centring) -> [[Float]] {
        switch centring {
        case .each: return conformations.map { Superposition.centred($0).map(Float.init) }
        case .first:
            let c = Superposition.centroid(conformations[0])
            return conformations.map { x in x.indices.map { Float(x[$0] - c[$0 % 3]) } }
        }
    }

    /// Simulates particles of `conformations` (each 3N values in Å, centred as `settings.centring` says before
    /// rendering) with per-atom widths and weights. Returns the noisy dataset and the clean images.
    public static func simulate(conformations: [[Double]], sigma: [Float], weight: [Float], settings s: Settings,
                                progress: ((Int, Int) -> Bool)? = nil) throws -> (dataset: ParticleDataset, clean: Tensor, noiseSigma: Double) {
        guard let first = conformations.first, !first.isEmpty else { throw KernelError("simulate", "no conformations (or no atoms) to simulate") }
        guard conformations.allSatisfy({ $0.count == first.count }) else { throw KernelError("simulate", "conformations differ in atom count") }
        guard s.images >= 1, s.images <= 10_000_000 else { throw KernelError("simulate", "images must be positive, got \(s.images)") }
        guard s.defocus.lowerBound >= 0, s.astigmatism >= 0 else { throw KernelError("simulate", "defocus and astigmatism must be non-negative") }
        guard !s.optics.isEmpty else { throw KernelError("simulate", "at least one optics group is needed") }
        let geometry = try Projector.Geometry(size: s.size, pixel: s.pixel, sigma: sigma, weight: weight)
        let atoms = first.count / 3
        let centred = placed(conformations, centring: s.centring)
        var g = SeededGenerator(seed: s.seed)
        var labels: [Int] = [], rotations: [Rotation] = [], shifts: [Float] = [], ctfs: [CTFParameters] = []
        for i in 0..<s.images {
            labels.append(Int(g.next() % UInt64(conformations.count)))
            rotations.append(Rotation.random(using: &g))
            shifts += [Float(g.normal() * s.shift), Float(g.normal() * s.shift)]
            let df = s.defocus.lowerBound + g.uniform() * (s.defocus.upperBound - s.defocus.lowerBound)
            var (du, dv, angle) = (df, df, 0.0)
            if s.astigmatism > 0 {
                let a = g.uniform() * s.astigmatism
                (du, dv, angle) = (df + a / 2, df - a / 2, g.uniform() * 180)
            }
            let o = s.optics[i % s.optics.count]
            ctfs.append(CTFParameters(defocusU: du, defocusV: dv, astigmatismAngle: angle, voltage: o.voltage, sphericalAberration: o.sphericalAberration,
                                      amplitudeContrast: o.amplitudeContrast))
        }
        let d = s.size
        var clean = [Float](repeating: 0, count: s.images * d * d)
        let chunk = 64
        for start in stride(from: 0, to: s.images, by: chunk) {
            let end = Swift.min(s.images, start + chunk)
            let coords = Tensor(uncheckedShape: [end - start, atoms, 3], storage: (start..<end).flatMap { centred[labels[$0]] })
            let origins = Array(shifts[(2 * start)..<(2 * end)])
            var images = s.rendering == .point
                ? try PointSampledProjection.render(coords: coords, rotations: Array(rotations[start..<end]), shifts: origins, geometry: geometry)
                : try Projector.project(coords: coords, rotations: Rotation.tensor(Array(rotations[start..<end])),
                                        shifts: Tensor(uncheckedShape: [end - start, 2], storage: origins), geometry: geometry)
            if s.applyCTF { images = try FourierFilter.applyCTF(images, parameters: Array(ctfs[start..<end]), pixel: s.pixel) }
            clean.replaceSubrange((start * d * d)..<(end * d * d), with: images.storage)
            if let progress, !progress(end, s.images) { throw KernelError("simulate", "stopped at image \(end) of \(s.images)") }
        }
        let cleanTensor = Tensor(uncheckedShape: [s.images, d, d], storage: clean)
        // With the CTF the noise draws are subtracted rather than added (the same Gaussian field, so the same statistics):
        // before the CTF took RELION's sign, CTF-filtered particles were simulated as the negation of today's, and this
        // keeps every dataset drawn since exactly what it was, up to that sign (and every figure measured on them).
        let noise = try Noise.add(s.applyCTF ? cleanTensor.negated() : cleanTensor, snr: s.snr, using: &g)
        let (noisy, noiseSigma) = (s.applyCTF ? noise.0.negated() : noise.0, noise.1)
        let dataset = try ParticleDataset(images: noisy, rotations: rotations, shifts: shifts, ctf: ctfs, pixel: s.pixel, size: d,
                                          conformation: labels, op: "simulate")
        return (dataset, cleanTensor, noiseSigma)
    }
}
