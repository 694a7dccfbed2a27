import Foundation

/// Local refinement of poses beyond the grid (beyond Docs/METHOD.md): a few gradient steps per image on its
/// rotation, in the tangent space of SO(3) (R ← R·exp([ω]×)), and on its origin, descending the pose score that
/// ESL uses (`CandidateScoring`: L = 2 − 2·corr of the image and the CTF-filtered rendering) for the image's own,
/// fixed conformation. The gradients come from the projector's coordinate gradient: with x_n the model-frame
/// atoms and ∂L/∂x_n their cotangents at R, ∂L/∂ω = Σ_n x_n × ∂L/∂x_n, and ∂L/∂origin from the projected centres.
///
/// Steps are taken in a metric where a rotation counts by how far it moves the atoms (ω·ρ Å, ρ the atoms' RMS
/// distance from the rotation centre) and a shift by its length in Å: each step moves `radius` Å along the
/// negative gradient; a step that lowers L is kept and the radius grows by 1.5, else it is undone and the radius
/// halves. So a refinement never ends worse than it started.
public struct PoseRefinement: Sendable {
    /// Steps per image and call, and what moves: rotations (unknown poses) and origins (searched or given shifts).
    public let steps: Int, rotations: Bool, origins: Bool
    /// The first step's length (Å of atom motion).
    public let radius: Double
    /// Origins are kept within this distance (Å) of the box centre (the shift search's radius), if given.
    public let shiftBound: Double?

    /// Validated settings: at least one step, something to move, a positive radius.
    public init(steps: Int, rotations: Bool, origins: Bool, radius: Double = 1, shiftBound: Double? = nil) throws {
        guard steps >= 1 else { throw KernelError("refine", "the number of refinement steps must be at least 1, got \(steps)") }
        guard rotations || origins else { throw KernelError("refine", "refinement needs rotations or origins to move") }
        guard radius > 0, radius.isFinite else { throw KernelError("refine", "the refinement step must be positive, got \(radius) Å") }
        self.steps = steps
        self.rotations = rotations
        self.origins = origins
        self.radius = radius
        self.shiftBound = shiftBound
    }

    /// One image's pose, its score and the score's gradient.
    struct Evaluation {
        var rotation: Rotation, origin: (Double, Double)
        var loss: Float
        /// The rendering scored, for `differentiate`.
        let rendering: (kernel: Projector.Kernel, score: CandidateScoring.Score)
        /// ∂L/∂ω (per radian) and ∂L/∂origin (per Å).
        var dRotation = (0.0, 0.0, 0.0), dOrigin = (0.0, 0.0)
    }

    /// Refined rotations and origins (2B values, Å) of `images` [B,D,D] seen as the conformations `coords` [B,N,3]
    /// (not recorded), starting from `rotations` and `origins`; also each image's final score. In parallel over images.
    public func refine(coords: Tensor, images: Tensor, ctf: [CTFParameters]?, geometry: Projector.Geometry, rotations start: [Rotation],
                       origins startOrigins: [Float]) throws -> (rotations: [Rotation], origins: [Float], losses: [Float]) {
        let op = "refine"
        guard coords.rank == 3, coords.shape[2] == 3 else { throw KernelError.shape(op, expected: "coords [B,N,3]", got: coords.shape) }
        let (batch, d) = (coords.shape[0], geometry.size)
        guard images.shape == [batch, d, d] else { throw KernelError.shape(op, expected: "images [\(batch),\(d),\(d)]", got: images.shape) }
        let targets = try CandidateScoring.Targets(images: images, ctf: ctf, geometry: geometry, spectra: false, op: op)
        return try refine(coords: coords, targets: targets, geometry: geometry, rotations: start, origins: startOrigins)
    }

    /// As `refine(coords:images:…)`, for images already made scoring `targets`.
    func refine(coords: Tensor, targets: CandidateScoring.Targets, geometry: Projector.Geometry, rotations start: [Rotation],
                origins startOrigins: [Float]) throws -> (rotations: [Rotation], origins: [Float], losses: [Float]) {
        let op = "refine"
        guard coords.rank == 3, coords.shape[2] == 3 else { throw KernelError.shape(op, expected: "coords [B,N,3]", got: coords.shape) }
        let (batch, atoms, d) = (coords.shape[0], coords.shape[1], geometry.size)
        guard targets.size == d, targets.image.count == batch else {
            throw KernelError(op, "the scoring targets are for \(targets.image.count) images of \(targets.size) px, not \(batch) of \(d) px")
        }
        guard atoms == geometry.sigma.count, atoms > 0 else { throw KernelError(op, "the conformations have \(atoms) atoms but the forward model \(geometry.sigma.count)") }
        guard start.count == batch, startOrigins.count == 2 * batch else { throw KernelError(op, "got \(start.count) rotations and \(startOrigins.count / 2) origins for \(batch) images") }
        var out = [Evaluation?](repeating: nil, count: batch)
        coords.storage.withUnsafeBufferPointer { c in out.withUnsafeMutableBufferPointer { o in
            let result = SharedPointer(base: o.baseAddress!)
            Parallel.forRanges(batch, grain: 1) { range in
                let worker = CandidateScoring.Worker(size: d, atoms: atoms, search: nil)
                let gradient = UnsafeMutablePointer<Float>.allocate(capacity: 3 * atoms)
                let cotangent = UnsafeMutablePointer<Float>.allocate(capacity: d * d)
                defer { gradient.deallocate(); cotangent.deallocate() }
                for b in range {
                    let x = c.baseAddress! + b * atoms * 3
                    var rho = 0.0
                    for k in 0..<(3 * atoms) { rho += Double(x[k]) * Double(x[k]) }
                    rho = Swift.max(1, (rho / Double(atoms)).squareRoot())
                    func evaluate(_ rotation: Rotation, _ origin: (Double, Double), differentiated: Bool) -> Evaluation {
                        PoseRefinement.evaluate(targets: targets, image: b, conformation: x, atoms: atoms, rotation: rotation, origin: origin,
                                                geometry: geometry, worker, gradient: differentiated ? gradient : nil, cotangent: cotangent)
                    }
                    var current = evaluate(start[b], (Double(startOrigins[2 * b]), Double(startOrigins[2 * b + 1])), differentiated: true)
                    var length = radius
                    for step in 0..<steps {
                        let u = (rotations ? current.dRotation.0 / rho : 0, rotations ? current.dRotation.1 / rho : 0, rotations ? current.dRotation.2 / rho : 0,
                                 origins ? current.dOrigin.0 : 0, origins ? current.dOrigin.1 : 0)
                        let norm = (u.0 * u.0 + u.1 * u.1 + u.2 * u.2 + u.3 * u.3 + u.4 * u.4).squareRoot()
                        guard norm > 0, norm.isFinite else { break }
                        let scale = length / norm
                        let rotation = current.rotation * Rotation.exp((-u.0 * scale / rho, -u.1 * scale / rho, -u.2 * scale / rho))
                        let trial = evaluate(rotation, bounded((current.origin.0 - u.3 * scale, current.origin.1 - u.4 * scale)), differentiated: false)
                        if trial.loss < current.loss {
                            current = trial
                            // Only a kept trial's gradient is used, and only by a later step.
                            if step + 1 < steps {
                                PoseRefinement.differentiate(&current, targets: targets, image: b, conformation: x, atoms: atoms, worker,
                                                             gradient: gradient, cotangent: cotangent)
                            }
                            length *= 1.5
                        } else {
                            length *= 0.5
                        }
                    }
                    result.base[b] = current
                }
            }
        } }
        let evaluations = out.compactMap { $0 }
        return (evaluations.map(\.rotation), evaluations.flatMap { [Float($0.origin.0), Float($0.origin.1)] }, evaluations.map(\.loss))
    }

    /// `origin` moved onto the disc of radius `shiftBound` about the box centre, when there is one.
    func bounded(_ origin: (Double, Double)) -> (Double, Double) {
        guard let shiftBound else { return origin }
        let length = (origin.0 * origin.0 + origin.1 * origin.1).squareRoot()
        return length > shiftBound ? (origin.0 * shiftBound / length, origin.1 * shiftBound / length) : origin
    }

    /// The score of image b of `targets` for the atoms `conformation` [N,3] at `rotation` and `origin` (Å), with its
    /// gradient with respect to ω and the origin when `gradient` (3N floats of scratch) is given; else the gradient is
    /// left zero and `differentiate` can add it before the worker scores anything else. `cotangent` (D²) is scratch.
    static func evaluate(targets: CandidateScoring.Targets, image b: Int, conformation x: UnsafePointer<Float>, atoms: Int, rotation: Rotation,
                         origin: (Double, Double), geometry: Projector.Geometry, _ worker: CandidateScoring.Worker,
                         gradient: UnsafeMutablePointer<Float>?, cotangent: UnsafeMutablePointer<Float>) -> Evaluation {
        let kernel = Projector.Kernel(geometry: geometry, rotations: [rotation], shifts: [Float(origin.0), Float(origin.1)], atoms: atoms, shared: false)
        let (score, _) = targets.score(0, image: b, conformation: x, kernel: kernel, search: nil,
                                       filteredInto: UnsafeMutableRawPointer(worker.fft.spectrum).assumingMemoryBound(to: Float.self), worker)
        var evaluation = Evaluation(rotation: rotation, origin: origin, loss: score.loss(size: geometry.size), rendering: (kernel, score))
        if let gradient {
            differentiate(&evaluation, targets: targets, image: b, conformation: x, atoms: atoms, worker, gradient: gradient, cotangent: cotangent)
        }
        return evaluation
    }

    /// Adds the gradient to `evaluation`, the worker's last: its rendering's filtered spectrum is still in `worker`.
    /// Costs an inverse FFT and the projector's backward pass.
    static func differentiate(_ evaluation: inout Evaluation, targets: CandidateScoring.Targets, image b: Int, conformation x: UnsafePointer<Float>,
                              atoms: Int, _ worker: CandidateScoring.Worker, gradient: UnsafeMutablePointer<Float>, cotangent: UnsafeMutablePointer<Float>) {
        let (kernel, score) = evaluation.rendering
        let kept = [Float](UnsafeBufferPointer(start: UnsafeRawPointer(worker.fft.spectrum).assumingMemoryBound(to: Float.self), count: 2 * worker.fft.spectrumCount))
        kept.withUnsafeBufferPointer { k in
            targets.cotangent(score, g: 1, image: b, offset: (0, 0), kept: k.baseAddress!, search: nil, worker, into: cotangent)
        }
        gradient.initialize(repeating: 0, count: 3 * atoms)
        let dOrigin = kernel.addGradient(0, x, cotangent: cotangent, into: gradient, worker.scratch)
        var torque = (0.0, 0.0, 0.0)
        for n in 0..<atoms {
            let (px, py, pz) = (Double(x[3 * n]), Double(x[3 * n + 1]), Double(x[3 * n + 2]))
            let (gx, gy, gz) = (Double(gradient[3 * n]), Double(gradient[3 * n + 1]), Double(gradient[3 * n + 2]))
            torque = (torque.0 + py * gz - pz * gy, torque.1 + pz * gx - px * gz, torque.2 + px * gy - py * gx)
        }
        evaluation.dRotation = torque
        evaluation.dOrigin = (Double(dOrigin.0), Double(dOrigin.1))
    }
}
