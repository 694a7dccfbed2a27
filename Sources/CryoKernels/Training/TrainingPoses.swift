import Foundation

/// Each image's pose while a trainer runs: its estimate (rotation and RELION origin) and, with unknown poses, its
/// candidate rotations, which re-search rounds replace and local refinement improves; with the truth known, the
/// per-epoch error histories. Checkpointed, so a run resumes with the poses it had.
public struct TrainingPoses: Sendable {
    /// Per image: the pose estimate, its origin (2 per image, Å, x then y) and `perImage` candidates (image-major).
    public var rotations: [Rotation], origins: [Float], candidates: [Rotation]
    public let perImage: Int
    /// Whether the candidates in use are the local set around each pose (`LocalCandidates`) rather than `candidates`:
    /// set by the trainer for each epoch, so not checkpointed.
    public var local = false
    public init(rotations: [Rotation], origins: [Float], candidates: [Rotation] = [], perImage: Int = 0) {
        (self.rotations, self.origins, self.candidates, self.perImage) = (rotations, origins, candidates, perImage)
    }

    /// Values per image in a checkpoint: the origin (2), then the rotation and the candidates, each of whose 9 Double
    /// entries is kept exactly as two Float32 bit patterns (so a resumed run continues bit-identically).
    public var width: Int { 2 + 18 * (1 + perImage) }

    /// The checkpoint values of images `rows`, `width` per image.
    public func values(_ rows: Range<Int>) -> [Float] {
        func exact(_ r: Rotation) -> [Float] {
            r.m.flatMap { [Float(bitPattern: UInt32(truncatingIfNeeded: $0.bitPattern >> 32)), Float(bitPattern: UInt32(truncatingIfNeeded: $0.bitPattern))] }
        }
        return rows.flatMap { i -> [Float] in
            [origins[2 * i], origins[2 * i + 1]] + exact(rotations[i]) + candidates[(i * perImage)..<((i + 1) * perImage)].flatMap(exact)
        }
    }

    /// Restores every image's pose from checkpoint `values` (`width` per image, all images).
    public mutating func restore(_ values: [Float]) throws {
        let m = rotations.count
        guard values.count == m * width else {
            throw KernelError("resume", "the checkpoint holds \(values.count) pose values but \(m) images need \(m * width)")
        }
        func rotation(_ at: Int) -> Rotation {
            Rotation(m: (0..<9).map { e in
                Double(bitPattern: UInt64(values[at + 2 * e].bitPattern) << 32 | UInt64(values[at + 2 * e + 1].bitPattern))
            })
        }
        for i in 0..<m {
            let base = i * width
            (origins[2 * i], origins[2 * i + 1]) = (values[base], values[base + 1])
            rotations[i] = rotation(base + 2)
            for k in 0..<perImage { candidates[i * perImage + k] = rotation(base + 20 + 18 * k) }
        }
    }

    /// Appends to `history` the median and 90th percentile of the errors of images `rows` (this rank's; all ranks' are
    /// gathered) against the true rotations (degrees) and origins (Å), where known.
    public func recordErrors(rows: Range<Int>, truth: [Rotation]?, truthOrigins: [Float]?, into history: inout TrainingHistory) throws {
        if let truth {
            let errors = try World.gather(rows.map { Float(rotations[$0].angle(to: truth[$0])) }).map(Double.init)
            history.poseErrorMedian.append(ReconstructionMetrics.percentile(errors, 50))
            history.poseErrorP90.append(ReconstructionMetrics.percentile(errors, 90))
        }
        if let truthOrigins {
            let errors = try World.gather(rows.map { i -> Float in
                let (dx, dy) = (origins[2 * i] - truthOrigins[2 * i], origins[2 * i + 1] - truthOrigins[2 * i + 1])
                return (dx * dx + dy * dy).squareRoot()
            }).map(Double.init)
            history.shiftErrorMedian.append(ReconstructionMetrics.percentile(errors, 50))
            history.shiftErrorP90.append(ReconstructionMetrics.percentile(errors, 90))
        }
    }

    /// Every image's rotation and origin, gathered from the ranks that own them (`rows` here).
    public func gathered(_ rows: Range<Int>) throws -> (rotations: [Rotation], origins: [Float]) {
        let all = try World.gather(rows.flatMap { rotations[$0].m.map(Float.init) + [origins[2 * $0], origins[2 * $0 + 1]] })
        let m = all.count / 11
        return ((0..<m).map { Rotation(m: all[(11 * $0)..<(11 * $0 + 9)].map(Double.init)) }, (0..<m).flatMap { Array(all[(11 * $0 + 9)..<(11 * $0 + 11)]) })
    }
}
