import Foundation

/// The last phase of pose-marginalised training (beyond Docs/METHOD.md): once the re-search rounds have found each
/// image's basin, its candidates stop being grid rotations and become a small local set around its current pose R:
/// R itself and R·exp(±δ·e_i) for the three axes, 7 rotations (`train_autodecoder` takes δ as half the grid's
/// mesh). The ESL measure over them moves the pose by up to δ a step and refinement continues from there, so poses
/// move off the grid's mesh while each step renders 7 candidates instead of 32. The set follows the pose (nothing is
/// stored), so a checkpoint needs nothing more. Two cheaper phases take each image's pose alone instead (`poses`):
/// refined after every step, or held where the global phase left it while the decoder trains at full size.
public struct LocalCandidates: Sendable {
    /// What the local phase does with each image's pose.
    public enum Poses: String, Sendable, CaseIterable {
        /// ESL over the pose and its 6 neighbours, then refinement (the measure moves the pose by up to δ a step).
        case esl
        /// The pose alone (its data term the loss there), refined after every step.
        case refine
        /// The pose alone, held fixed: the decoder trains at full size against the poses and origins the global
        /// phase found, as with known poses.
        case fixed
    }

    /// The first epoch (0-based) of the local phase; re-search rounds stop there.
    public let start: Int
    /// δ, radians.
    public let spacing: Double
    /// What happens to the poses in the phase (`.esl` by default).
    public var poses = Poses.esl
    /// Candidates per image with `.esl`: the pose and its 6 neighbours.
    public static let count = 7

    /// Validated settings: `start` ≥ 0, a positive spacing (radians).
    public init(start: Int, spacing: Double) throws {
        guard start >= 0 else { throw KernelError("local", "the local phase must start at an epoch ≥ 1, got \(start + 1)") }
        guard spacing > 0, spacing.isFinite else { throw KernelError("local", "the local candidates' spacing must be positive, got \(spacing) rad") }
        self.start = start
        self.spacing = spacing
    }

    /// Whether epoch `epoch` (0-based) is in the local phase.
    public func isActive(epoch: Int) -> Bool { epoch >= start }

    /// Each image's candidates in the phase: the local set around its pose with `.esl`, else the pose alone.
    public func candidates(_ pose: Rotation) -> [Rotation] { poses == .esl ? around(pose) : [pose] }

    /// The `count` candidates around `pose`: the pose first, then R·exp(±δ·e_x), R·exp(±δ·e_y), R·exp(±δ·e_z).
    public func around(_ pose: Rotation) -> [Rotation] {
        let d = spacing
        return [pose] + [(d, 0, 0), (-d, 0, 0), (0, d, 0), (0, -d, 0), (0, 0, d), (0, 0, -d)].map { pose * Rotation.exp($0) }
    }
}
