/// Where a training run stands: its position in the schedule, the running loss of the epoch under way, the
/// per-epoch histories and the epoch a selection rule keeps. A checkpoint's header is this value plus what
/// identifies the tensors (model, shapes, Adam's step count), so a resumed run continues from exactly here.
public struct TrainingProgress: Sendable, Equatable {
    /// Completed epochs, and completed steps of the epoch under way.
    public var epoch = 0, step = 0
    /// Sum of the batch losses of the epoch's completed steps.
    public var lossSum = 0.0
    /// One entry per completed epoch.
    public var history = TrainingHistory()
    /// Number of images held out from the decoder (a resumed run must hold out the same ones).
    public var heldOut = 0
    /// The epoch (1-based) whose trainable values are kept, the `EpochSelection` rule that chose it, and that
    /// epoch's mean RMSD when the oracle chose it (for a reader of the header; never read back).
    public var keptEpoch: Int?, keptBy: String?, keptRMSD: Double?

    public init(heldOut: Int = 0) { self.heldOut = heldOut }
}

/// The JSON keys are those of the checkpoint header before this value existed, flat beside the header's own, so
/// checkpoints written then still resume (the keys added since are optional).
extension TrainingProgress: Codable {
    enum CodingKeys: String, CodingKey {
        case epoch, step, lossSum, history, rmsdHistory, bondDeviationHistory, validationHistory, latentSpreadHistory
        case poseErrorMedianHistory, poseErrorP90History, shiftErrorMedianHistory, shiftErrorP90History, heldOut, bestEpoch, keptBy, bestRMSD
    }

    public init(from decoder: Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch)
        step = try c.decode(Int.self, forKey: .step)
        lossSum = try c.decode(Double.self, forKey: .lossSum)
        history.loss = try c.decode([Double].self, forKey: .history)
        history.rmsd = try c.decode([Double].self, forKey: .rmsdHistory)
        history.bondRMS = try c.decodeIfPresent([Double].self, forKey: .bondDeviationHistory) ?? []
        history.validation = try c.decodeIfPresent([Double].self, forKey: .validationHistory) ?? []
        history.latentSpread = try c.decodeIfPresent([Double].self, forKey: .latentSpreadHistory) ?? []
        history.poseErrorMedian = try c.decodeIfPresent([Double].self, forKey: .poseErrorMedianHistory) ?? []
        history.poseErrorP90 = try c.decodeIfPresent([Double].self, forKey: .poseErrorP90History) ?? []
        history.shiftErrorMedian = try c.decodeIfPresent([Double].self, forKey: .shiftErrorMedianHistory) ?? []
        history.shiftErrorP90 = try c.decodeIfPresent([Double].self, forKey: .shiftErrorP90History) ?? []
        heldOut = try c.decodeIfPresent(Int.self, forKey: .heldOut) ?? 0
        keptEpoch = try c.decodeIfPresent(Int.self, forKey: .bestEpoch)
        // Checkpoints from before the selection rules kept only the oracle's epoch.
        keptBy = try c.decodeIfPresent(String.self, forKey: .keptBy) ?? keptEpoch.map { _ in EpochSelection.oracle.rawValue }
        keptRMSD = try c.decodeIfPresent(Double.self, forKey: .bestRMSD)
    }

    public func encode(to encoder: Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(step, forKey: .step)
        try c.encode(lossSum, forKey: .lossSum)
        try c.encode(history.loss, forKey: .history)
        try c.encode(history.rmsd, forKey: .rmsdHistory)
        try c.encode(history.bondRMS, forKey: .bondDeviationHistory)
        try c.encode(history.validation, forKey: .validationHistory)
        try c.encode(history.latentSpread, forKey: .latentSpreadHistory)
        try c.encode(history.poseErrorMedian, forKey: .poseErrorMedianHistory)
        try c.encode(history.poseErrorP90, forKey: .poseErrorP90History)
        try c.encode(history.shiftErrorMedian, forKey: .shiftErrorMedianHistory)
        try c.encode(history.shiftErrorP90, forKey: .shiftErrorP90History)
        try c.encode(heldOut, forKey: .heldOut)
        try c.encodeIfPresent(keptEpoch, forKey: .bestEpoch)
        try c.encodeIfPresent(keptBy, forKey: .keptBy)
        try c.encodeIfPresent(keptRMSD, forKey: .bestRMSD)
    }
}
