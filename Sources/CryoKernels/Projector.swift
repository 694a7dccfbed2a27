import Foundation

/// Analytic projection of isotropic Gaussian atoms onto D×D images, and its VJP.
///
/// Atom n with centre c, width σₙ and weight wₙ contributes wₙ·Fₓ(j)·F_y(i) to pixel (i, j), where Fₓ(j) is
/// the integral of the 1D normal density N(x; c'ₓ, σₙ) over the pixel's extent in x (so an atom inside the
/// image sums to exactly wₙ). Pixel (i, j) is centred at y = (i − D/2)·pixel, x = (j − D/2)·pixel; the
/// projected centre is c' = (R·c)ₓ,ᵧ + shift. Each atom is rendered only within ±`windowSigmas`·σ of its
/// centre (the 1D tail beyond 5σ is below 3·10⁻⁷ of the mass, so the truncation error is below 1e-4 of the peak).
public enum Projector {
    /// Half-width of each atom's rendering window in units of σ.
    public static let windowSigmas: Float = 5

    /// What to render: image size, pixel size and the per-atom widths and weights.
    public struct Geometry: Sendable {
        /// Image side in pixels.
        public let size: Int
        /// Pixel size in Å.
        public let pixel: Float
        /// Per-atom σ in Å (length N).
        public let sigma: [Float]
        /// Per-atom weight (length N).
        public let weight: [Float]

        /// Checks sizes: a positive image size and pixel, and positive, finite widths.
        public init(size: Int, pixel: Float, sigma: [Float], weight: [Float]) throws {
            guard size > 0, size <= 4096 else { throw KernelError("project", "image size must be in 1...4096, got \(size)") }
            guard pixel > 0, pixel.isFinite else { throw KernelError("project", "pixel size must be positive, got \(pixel) Å") }
            guard sigma.count == weight.count else {
                throw KernelError("project", "got \(sigma.count) widths but \(weight.count) weights")
            }
            guard sigma.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw KernelError("project", "atom widths σ must be positive and finite") }
            self.size = size
            self.pixel = pixel
            self.sigma = sigma
            self.weight = weight
        }
    }

    /// Renders `coords` ([B,N,3], or one [N,3] shared by the batch; Å) seen through `rotations` ([B,3,3])
    /// and shifted by `shifts` ([B,2] Å, x then y; optional) → images [B,D,D]. Records the VJP with respect
    /// to the coordinates and the shifts.
    public static func project(coords: Tensor, rotations: Tensor, shifts: Tensor? = nil, geometry: Geometry) throws -> Tensor {
        let rots = try Rotation.list(from: rotations, op: "project")
        let batch = rots.count
        let shared = coords.rank == 2
        guard (coords.rank == 2 || coords.rank == 3), coords.shape.last == 3 else {
            throw KernelError.shape("project", expected: "coords [B,N,3] or [N,3]", got: coords.shape)
        }
        if !shared && coords.shape[0] != batch {
            throw KernelError("project", "coords hold \(coords.shape[0]) conformations for \(batch) rotations")
        }
        let atoms = coords.shape[coords.rank - 2]
        guard geometry.sigma.count == atoms else {
            throw KernelError("project", "got \(geometry.sigma.count) atom widths/weights for \(atoms) atoms")
        }
        if let shifts, shifts.shape != [batch, 2] {
            throw KernelError.shape("project", expected: "shifts [\(batch),2]", got: shifts.shape)
        }
        let d = geometry.size
        var out = [Float](repeating: 0, count: batch * d * d)
        let shiftValues = shifts?.storage ?? [Float](repeating: 0, count: 2 * batch)
        let kernel = Kernel(geometry: geometry, rotations: rots, shifts: shiftValues, atoms: atoms, shared: shared)
        coords.storage.withUnsafeBufferPointer { c in
            out.withUnsafeMutableBufferPointer { o in
                let images = SharedPointer(base: o.baseAddress!)
                Parallel.forRanges(batch, grain: 1) { range in
                    let scratch = Kernel.Scratch(size: d)
                    for b in range { kernel.render(b, c.baseAddress!, images.base + b * d * d, scratch) }
                }
            }
        }
        let result = Tensor(uncheckedShape: [batch, d, d], storage: out)
        var inputs = [coords]
        if let shifts { inputs.append(shifts) }
        Tape.recordIfNeeded(result, inputs: inputs) { g in
            let (dc, ds) = kernel.backward(g.storage, coords: coords.storage, coordShape: coords.shape)
            return shifts == nil ? [dc] : [dc, ds]
        }
        return result
    }

    /// The per-image work of forward and backward passes.
    struct Kernel: @unchecked Sendable {
        let geometry: Geometry
        let rotations: [Rotation]
        let shifts: [Float]
        let atoms: Int
        let shared: Bool

        /// Per-worker buffers for one atom's 1D factors and their derivatives (raw memory: the inner loops index
        /// them without bounds or uniqueness checks; every index stays within one window's size + 2 edges).
        final class Scratch {
            let fx, fy, dfx, dfy, t, u: UnsafeMutablePointer<Float>
            /// erf and the normal density at one window's pixel edges (one more than its pixels).
            let edges, densities: UnsafeMutablePointer<Float>
            init(size: Int) {
                func buffer() -> UnsafeMutablePointer<Float> {
                    let p = UnsafeMutablePointer<Float>.allocate(capacity: size + 2)
                    p.initialize(repeating: 0, count: size + 2)
                    return p
                }
                (fx, fy, dfx, dfy, t, u) = (buffer(), buffer(), buffer(), buffer(), buffer(), buffer())
                (edges, densities) = (buffer(), buffer())
            }
            deinit { for p in [fx, fy, dfx, dfy, t, u, edges, densities] { p.deallocate() } }
        }

        /// The first two rows of image b's rotation and its shift, read once per image so the per-atom loops
        /// touch only scalars (no array copies or retains per atom).
        struct Frame {
            let r00, r01, r02, r10, r11, r12: Double
            let shiftX, shiftY: Float
        }

        /// The frame of image b.
        @inline(__always)
        func frame(_ b: Int) -> Frame {
            let m = rotations[b].m
            return Frame(r00: m[0], r01: m[1], r02: m[2], r10: m[3], r11: m[4], r12: m[5], shiftX: shifts[2 * b], shiftY: shifts[2 * b + 1])
        }

        /// Projected centre (Å) of atom n in image b seen through `f`.
        @inline(__always)
        func centre(_ b: Int, _ n: Int, _ c: UnsafePointer<Float>, _ f: Frame) -> (Float, Float) {
            let base = ((shared ? 0 : b) * atoms + n) * 3
            let (x, y, z) = (Double(c[base]), Double(c[base + 1]), Double(c[base + 2]))
            return (Float(f.r00 * x + f.r01 * y + f.r02 * z) + f.shiftX, Float(f.r10 * x + f.r11 * y + f.r12 * z) + f.shiftY)
        }

        /// The pixel window [lo, hi] along one axis for a centre at `c` Å with width σ (empty when lo > hi, also
        /// for a non-finite centre, so NaN coordinates render nothing instead of trapping; the trainer reports them).
        @inline(__always)
        func window(_ c: Float, _ sigma: Float) -> (Int, Int) {
            let d = geometry.size
            let position = c / geometry.pixel + Float(d / 2)
            guard position.isFinite else { return (1, 0) }
            let radius = Projector.windowSigmas * sigma / geometry.pixel + 1
            let lo = Swift.max(-1, Swift.min(Float(d), (position - radius).rounded(.down)))
            let hi = Swift.max(-1, Swift.min(Float(d), (position + radius).rounded(.up)))
            return (Swift.max(0, Int(lo)), Swift.min(d - 1, Int(hi)))
        }

        /// Pixel-integrated 1D factors f[k] for k in lo...hi (and their derivatives with respect to the centre):
        /// erf (and the density) at the window's hi − lo + 2 pixel edges first, then their differences.
        @inline(__always)
        func factors(_ c: Float, _ sigma: Float, _ lo: Int, _ hi: Int, _ f: UnsafeMutablePointer<Float>, _ df: UnsafeMutablePointer<Float>,
                     _ s: Scratch, derivative: Bool) {
            let p = geometry.pixel, half = Float(geometry.size / 2)
            let count = hi - lo + 1
            let firstEdge = (Float(lo) - half - 0.5) * p - c
            ErfTable.fill(start: firstEdge, step: p, scale: 1 / (Float(2).squareRoot() * sigma), count: count + 1, s.edges)
            for k in 0..<count { f[k] = 0.5 * (s.edges[k + 1] - s.edges[k]) }
            guard derivative else { return }
            let norm = 1 / ((2 * Float.pi).squareRoot() * sigma), curvature = -0.5 / (sigma * sigma)
            for k in 0...count {
                let edge = firstEdge + Float(k) * p
                s.densities[k] = norm * FastMath.exp(curvature * edge * edge)
            }
            for k in 0..<count { df[k] = s.densities[k] - s.densities[k + 1] }
        }

        /// Adds every atom of image b into `image`.
        func render(_ b: Int, _ c: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>, _ s: Scratch) {
            let d = geometry.size, f = frame(b)
            geometry.sigma.withUnsafeBufferPointer { sigmas in geometry.weight.withUnsafeBufferPointer { weights in
                for n in 0..<atoms {
                    let (cx, cy) = centre(b, n, c, f)
                    let sigma = sigmas[n], w = weights[n]
                    let (j0, j1) = window(cx, sigma), (i0, i1) = window(cy, sigma)
                    guard j0 <= j1, i0 <= i1 else { continue }
                    factors(cx, sigma, j0, j1, s.fx, s.dfx, s, derivative: false)
                    factors(cy, sigma, i0, i1, s.fy, s.dfy, s, derivative: false)
                    let width = j1 - j0 + 1
                    for i in 0..<(i1 - i0 + 1) {
                        let row = w * s.fy[i]
                        let line = image + (i0 + i) * d + j0
                        for j in 0..<width { line[j] += row * s.fx[j] }
                    }
                }
            } }
        }

        /// Cotangents of the coordinates (shape of `coordShape`) and of the shifts [B,2] for image cotangent `g`.
        func backward(_ g: [Float], coords: [Float], coordShape: [Int]) -> (Tensor, Tensor) {
            let d = geometry.size, batch = rotations.count
            var dCoords = [Float](repeating: 0, count: coords.count)
            var dShifts = [Float](repeating: 0, count: 2 * batch)
            let lock = NSLock()
            g.withUnsafeBufferPointer { gp in
                coords.withUnsafeBufferPointer { cp in
                    dShifts.withUnsafeMutableBufferPointer { dsp in
                        let shiftOut = SharedPointer(base: dsp.baseAddress!)
                        let coordOut = UncheckedSendable(value: UnsafeMutablePointer<Float>.allocate(capacity: coords.count))
                        coordOut.value.initialize(repeating: 0, count: coords.count)
                        defer { coordOut.value.deallocate() }
                        Parallel.forRanges(batch, grain: 1) { range in
                            let s = Scratch(size: d)
                            var local = [Float](repeating: 0, count: shared ? coords.count : 0)
                            for b in range {
                                let image = gp.baseAddress! + b * d * d
                                let f = frame(b)
                                let r = (Float(f.r00), Float(f.r01), Float(f.r02), Float(f.r10), Float(f.r11), Float(f.r12))
                                var shiftGrad = (Float(0), Float(0))
                                geometry.sigma.withUnsafeBufferPointer { sigmas in geometry.weight.withUnsafeBufferPointer { weights in
                                    for n in 0..<atoms {
                                        let (cx, cy) = centre(b, n, cp.baseAddress!, f)
                                        let sigma = sigmas[n], w = weights[n]
                                        let (j0, j1) = window(cx, sigma), (i0, i1) = window(cy, sigma)
                                        guard j0 <= j1, i0 <= i1 else { continue }
                                        factors(cx, sigma, j0, j1, s.fx, s.dfx, s, derivative: true)
                                        factors(cy, sigma, i0, i1, s.fy, s.dfy, s, derivative: true)
                                        let width = j1 - j0 + 1
                                        for j in 0..<width { s.t[j] = 0; s.u[j] = 0 }
                                        for i in 0..<(i1 - i0 + 1) {
                                            let fy = s.fy[i], dfy = s.dfy[i]
                                            let line = image + (i0 + i) * d + j0
                                            for j in 0..<width {
                                                s.t[j] += line[j] * fy
                                                s.u[j] += line[j] * dfy
                                            }
                                        }
                                        var gx: Float = 0, gy: Float = 0
                                        for j in 0..<width { gx += s.t[j] * s.dfx[j]; gy += s.u[j] * s.fx[j] }
                                        gx *= w
                                        gy *= w
                                        shiftGrad.0 += gx
                                        shiftGrad.1 += gy
                                        let base = shared ? n * 3 : (b * atoms + n) * 3
                                        let v = (gx * r.0 + gy * r.3, gx * r.1 + gy * r.4, gx * r.2 + gy * r.5)
                                        if shared {
                                            local[base] += v.0; local[base + 1] += v.1; local[base + 2] += v.2
                                        } else {
                                            coordOut.value[base] += v.0; coordOut.value[base + 1] += v.1; coordOut.value[base + 2] += v.2
                                        }
                                    }
                                } }
                                shiftOut.base[2 * b] = shiftGrad.0
                                shiftOut.base[2 * b + 1] = shiftGrad.1
                            }
                            if shared {
                                lock.lock()
                                for k in 0..<local.count { coordOut.value[k] += local[k] }
                                lock.unlock()
                            }
                        }
                        for k in 0..<coords.count { dCoords[k] = coordOut.value[k] }
                    }
                }
            }
            return (Tensor(uncheckedShape: coordShape, storage: dCoords), Tensor(uncheckedShape: [batch, 2], storage: dShifts))
        }
    }
}
