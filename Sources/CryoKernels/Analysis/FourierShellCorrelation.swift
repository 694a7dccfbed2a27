/// The Fourier shell correlation of two maps on one cubic grid: per shell of spatial frequency,
/// FSC(s) = Σ Re(F₁·F₂*) / √(Σ|F₁|² · Σ|F₂|²) over the Fourier coefficients whose radius rounds to s voxel-frequency
/// units (shell s at s/(N·pixel) Å⁻¹, from 0 to Nyquist, N/2), as RELION and EMDB compute it. The map-model FSC
/// (a structure's `DensityMap` against a reconstruction) reads at 0.5; the half-map FSC of a reconstruction at 0.143.
public struct FourierShellCorrelation: Sendable {
    /// The shells' spatial frequencies (Å⁻¹), 0 to Nyquist.
    public let frequency: [Float]
    /// The correlation in each shell (0 where either map has no power there).
    public let correlation: [Float]

    /// A map's half spectrum with its grid, transformed once so that one map can be correlated with several.
    public struct Spectrum: Sendable {
        let size: [Int], spacing: [Float], origin: [Float]
        let values: [(re: Float, im: Float)]

        /// The spectrum of `map`, which must have a cubic box and one voxel size.
        public init(_ map: DensityMap, op: String = "fsc") throws {
            let n = map.size[0]
            guard map.size.allSatisfy({ $0 == n }) else { throw KernelError(op, "the FSC needs maps of a cubic box, got \(map.size) voxels") }
            guard map.spacing.allSatisfy({ abs($0 - map.spacing[0]) <= 1e-4 * map.spacing[0] }) else {
                throw KernelError(op, "the FSC needs one isotropic voxel size, got \(map.spacing) Å")
            }
            (size, spacing, origin) = (map.size, map.spacing, map.origin)
            values = FFT.shared.forward3D(map.values, size: (x: n, y: n, z: n))
        }
    }

    /// A curve given shell by shell (frequencies in Å⁻¹ from 0, one correlation each).
    public init(frequency: [Float], correlation: [Float]) {
        self.frequency = frequency
        self.correlation = correlation
    }

    /// Correlates `a` and `b`, which must share a cubic box, one isotropic voxel size and their origin.
    public init(_ a: DensityMap, _ b: DensityMap, op: String = "fsc") throws {
        try self.init(try Spectrum(a, op: op), try Spectrum(b, op: op), op: op)
    }

    /// Correlates two maps' spectra, which must share their grid.
    public init(_ a: Spectrum, _ b: Spectrum, op: String = "fsc") throws {
        let n = a.size[0], pixel = a.spacing[0]
        guard a.size == b.size else { throw KernelError(op, "the FSC needs two maps of one box, got \(a.size) and \(b.size) voxels") }
        guard zip(a.spacing, b.spacing).allSatisfy({ abs($0 - $1) <= 1e-4 * pixel }) else {
            throw KernelError(op, "the FSC needs one isotropic voxel size in both maps, got \(a.spacing) and \(b.spacing) Å")
        }
        guard zip(a.origin, b.origin).allSatisfy({ abs($0 - $1) <= 0.01 * pixel }) else {
            throw KernelError(op, "the maps sit at different places (voxel 0 at \(a.origin) and \(b.origin) Å); render one on the other's grid (density_map(..., map:)) before correlating them")
        }
        let (fa, fb) = (a.values, b.values)
        let shells = n / 2 + 1, half = n / 2 + 1
        var cross = [Double](repeating: 0, count: shells), powerA = cross, powerB = cross
        for kz in 0..<n {
            let z = kz <= n / 2 ? kz : kz - n
            for ky in 0..<n {
                let y = ky <= n / 2 ? ky : ky - n
                for kx in 0..<half {
                    let shell = Int((Double(kx * kx + y * y + z * z)).squareRoot().rounded())
                    guard shell < shells else { continue }
                    // Columns other than 0 and Nyquist stand for their conjugate twins too.
                    let twins: Double = kx == 0 || (n % 2 == 0 && kx == n / 2) ? 1 : 2
                    let index = (kz * n + ky) * half + kx
                    let (p, q) = (fa[index], fb[index])
                    cross[shell] += twins * Double(p.re * q.re + p.im * q.im)
                    powerA[shell] += twins * Double(p.re * p.re + p.im * p.im)
                    powerB[shell] += twins * Double(q.re * q.re + q.im * q.im)
                }
            }
        }
        frequency = (0..<shells).map { Float($0) / (Float(n) * pixel) }
        correlation = (0..<shells).map { s in
            let norm = (powerA[s] * powerB[s]).squareRoot()
            return norm > 0 ? Float(cross[s] / norm) : 0
        }
    }

    /// The resolution (Å) where the curve first falls below `threshold`, interpolated linearly in frequency between
    /// the shells on either side; read from shell 1 on (the zero shell is the maps' means), so a curve already below
    /// the threshold at shell 1 gives that shell's 1/(N·pixel), the box; nil when it never falls below (the maps agree
    /// to Nyquist).
    public func resolution(at threshold: Float) -> Float? {
        guard correlation.count > 1, let s = (1..<correlation.count).first(where: { correlation[$0] < threshold }) else { return nil }
        guard s > 1 else { return 1 / frequency[1] }
        let (c0, c1) = (correlation[s - 1], correlation[s])
        let f = frequency[s - 1] + (c0 - threshold) / (c0 - c1) * (frequency[s] - frequency[s - 1])
        return 1 / f
    }
}
