import CKernels
import Foundation

/// Analytic projection of isotropic Gaussian atoms onto D×D images, and its VJP.
///
/// Atom n with centre c, width σₙ and weight wₙ contributes wₙ·Fₓ(j)·F_y(i) to pixel (i, j), where Fₓ(j) is
/// the integral of the 1D normal density N(x; c'ₓ, σₙ) over the pixel's extent in x (so an atom inside the
/// image sums to exactly wₙ). Pixel (i, j) is centred at y = (i − D/2)·pixel, x = (j − D/2)·pixel; the
/// projected centre is c' = (R·c)ₓ,ᵧ − origin, where the shift is RELION's origin (rlnOriginXAngst/YAngst): the
/// particle's centre sits at the box centre minus the origin, as RELION, cryoDRGN and cryoJAX have it. Each atom is rendered only within ±`windowSigmas`·σ of its
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

        /// The geometry of the images Fourier-cropped to half size: half the pixels at twice the pixel size, the same atoms.
        public func halved() throws -> Geometry {
            try Geometry(size: size / 2, pixel: pixel * 2, sigma: sigma, weight: weight)
        }
    }

    /// Renders `coords` ([B,N,3], or one [N,3] shared by the batch; Å) seen through `rotations` ([B,3,3])
    /// and offset by `shifts` ([B,2] Å, x then y; RELION origins: each image's centre is drawn at box centre − shift;
    /// optional) → images [B,D,D]. Records the VJP with respect to the coordinates and the shifts.
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
        // Every image is written whole by the kernel.
        var out = [Float](unsafeUninitializedCapacity: batch * d * d) { _, count in count = batch * d * d }
        let shiftValues = shifts?.storage ?? [Float](repeating: 0, count: 2 * batch)
        let kernel = Kernel(geometry: geometry, rotations: rots, shifts: shiftValues, atoms: atoms, shared: shared)
        coords.storage.withUnsafeBufferPointer { c in
            out.withUnsafeMutableBufferPointer { o in
                let images = SharedPointer(base: o.baseAddress!)
                Parallel.forRanges(batch, grain: 1) { range in
                    let scratch = Kernel.Scratch(size: d, atoms: atoms)
                    for b in range { kernel.render(b, kernel.conformation(b, c.baseAddress!), images.base + b * d * d, scratch) }
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

    /// The per-image work of forward and backward passes: Swift projects each atom's centre through the image's
    /// rotation and shift; the C kernels (`cryo_project_image`, vectorised for the CPU) render the windows.
    struct Kernel: @unchecked Sendable {
        let geometry: Geometry
        let rotations: [Rotation]
        let shifts: [Float]
        let atoms: Int
        let shared: Bool

        /// One worker's buffers: the C kernels' scratch and one image's projected centres and their cotangents.
        final class Scratch {
            let kernel: UnsafeMutablePointer<Float>
            let centres, dCentres: UnsafeMutablePointer<Float>
            init(size: Int, atoms: Int) {
                let count = cryo_projector_scratch_floats(size)
                kernel = UnsafeMutablePointer<Float>.allocate(capacity: count)
                kernel.initialize(repeating: 0, count: count)
                centres = UnsafeMutablePointer<Float>.allocate(capacity: 2 * Swift.max(atoms, 1))
                centres.initialize(repeating: 0, count: 2 * Swift.max(atoms, 1))
                dCentres = UnsafeMutablePointer<Float>.allocate(capacity: 2 * Swift.max(atoms, 1))
                dCentres.initialize(repeating: 0, count: 2 * Swift.max(atoms, 1))
            }
            deinit { for p in [kernel, centres, dCentres] { p.deallocate() } }
        }

        /// The first two rows of image b's rotation and its origin (RELION shift), read once per image so the per-atom loops
        /// touch only scalars (no array copies or retains per atom).
        struct Frame {
            let r00, r01, r02, r10, r11, r12: Double
            let originX, originY: Float
        }

        /// The frame of image b.
        @inline(__always)
        func frame(_ b: Int) -> Frame {
            let m = rotations[b].m
            return Frame(r00: m[0], r01: m[1], r02: m[2], r10: m[3], r11: m[4], r12: m[5], originX: shifts[2 * b], originY: shifts[2 * b + 1])
        }

        /// Image b's conformation [N,3] in the coordinates `c` of the whole batch.
        @inline(__always)
        func conformation(_ b: Int, _ c: UnsafePointer<Float>) -> UnsafePointer<Float> { c + (shared ? 0 : b) * atoms * 3 }

        /// Writes the projected centres (Å) of the atoms `coords` [N,3] seen as image b into `s.centres` and returns
        /// the image's frame.
        func projectCentres(_ b: Int, _ coords: UnsafePointer<Float>, _ s: Scratch) -> Frame {
            let f = frame(b)
            var rows = (f.r00, f.r01, f.r02, f.r10, f.r11, f.r12)
            withUnsafeBytes(of: &rows) { r in
                cryo_project_centres(coords, atoms, r.baseAddress!.assumingMemoryBound(to: Double.self), f.originX, f.originY, s.centres)
            }
            return f
        }

        /// Renders the atoms `coords` [N,3] seen as image b (its rotation and shift) into `image` [D,D] (overwritten).
        func render(_ b: Int, _ coords: UnsafePointer<Float>, _ image: UnsafeMutablePointer<Float>, _ s: Scratch) {
            _ = projectCentres(b, coords, s)
            geometry.sigma.withUnsafeBufferPointer { sigmas in geometry.weight.withUnsafeBufferPointer { weights in
                cryo_project_image(s.centres, sigmas.baseAddress, weights.baseAddress, atoms, geometry.size, geometry.pixel,
                                   Projector.windowSigmas, s.kernel, image)
            } }
        }

        /// Cotangents of the coordinates (shape of `coordShape`) and of the shifts [B,2] for image cotangent `g`.
        func backward(_ g: [Float], coords: [Float], coordShape: [Int]) -> (Tensor, Tensor) {
            let d = geometry.size, batch = rotations.count
            var dCoords = [Float](repeating: 0, count: coords.count)
            var dShifts = [Float](repeating: 0, count: 2 * batch)
            g.withUnsafeBufferPointer { gp in coords.withUnsafeBufferPointer { cp in
            dShifts.withUnsafeMutableBufferPointer { dsp in dCoords.withUnsafeMutableBufferPointer { dcp in
                let shiftOut = SharedPointer(base: dsp.baseAddress!)
                let work = { (range: Range<Int>, table: UnsafeMutablePointer<Float>) in
                    let s = Scratch(size: d, atoms: atoms)
                    for b in range {
                        let shiftGrad = addGradient(b, conformation(b, cp.baseAddress!), cotangent: gp.baseAddress! + b * d * d,
                                                    into: table + (shared ? 0 : b * atoms * 3), s)
                        shiftOut.base[2 * b] = shiftGrad.0
                        shiftOut.base[2 * b + 1] = shiftGrad.1
                    }
                }
                // With one structure shared by the batch, images on different workers add into the same rows;
                // otherwise each image owns its rows.
                if shared {
                    Parallel.forPartsSumming(batch, grain: 1, into: dcp.baseAddress!, length: coords.count, work)
                } else {
                    let table = SharedPointer(base: dcp.baseAddress!)
                    Parallel.forRanges(batch, grain: 1) { work($0, table.base) }
                }
            } } } }
            return (Tensor(uncheckedShape: coordShape, storage: dCoords), Tensor(uncheckedShape: [batch, 2], storage: dShifts))
        }

        /// Adds the cotangent of the atoms `coords` [N,3] seen as image b, for image cotangent `g` [D,D], into `out`
        /// [N,3]; returns the cotangent of the image's shift (x, y).
        func addGradient(_ b: Int, _ coords: UnsafePointer<Float>, cotangent g: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                         _ s: Scratch) -> (Float, Float) {
            let f = projectCentres(b, coords, s)
            geometry.sigma.withUnsafeBufferPointer { sigmas in geometry.weight.withUnsafeBufferPointer { weights in
                cryo_project_image_backward(g, s.centres, sigmas.baseAddress, weights.baseAddress, atoms, geometry.size, geometry.pixel,
                                            Projector.windowSigmas, s.kernel, s.dCentres)
            } }
            let r = (Float(f.r00), Float(f.r01), Float(f.r02), Float(f.r10), Float(f.r11), Float(f.r12))
            var shiftGrad = (Float(0), Float(0))
            for n in 0..<atoms {
                let (gx, gy) = (s.dCentres[2 * n], s.dCentres[2 * n + 1])
                shiftGrad.0 -= gx
                shiftGrad.1 -= gy
                out[3 * n] += gx * r.0 + gy * r.3
                out[3 * n + 1] += gx * r.1 + gy * r.4
                out[3 * n + 2] += gx * r.2 + gy * r.5
            }
            return shiftGrad
        }
    }
}
