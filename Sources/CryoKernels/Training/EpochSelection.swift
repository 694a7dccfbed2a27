/// What `AutodecoderTrainer` records after every epoch (one entry per epoch, in order).
public struct TrainingHistory: Sendable, Equatable {
    /// Mean regularised loss of the epoch's steps (what the optimiser minimised, held-out images' latent fits included).
    public var loss: [Double] = []
    /// Mean per-image Kabsch RMSD (Å) to the ground truth; empty without ground truth.
    public var rmsd: [Double] = []
    /// RMS deviation (Å) of the decoded consecutive-Cα distances from the template's, over every image.
    public var bondRMS: [Double] = []
    /// Mean data term (the loss's data part: D² × pixel MSE with `.particle`, the pixel MSE with `.pixel`) of the
    /// held-out images after the epoch; empty without a validation split.
    public var validation: [Double] = []
    /// Mean over latent dimensions of the latents' standard deviation across images (latent units).
    public var latentSpread: [Double] = []
    /// With unknown poses and the true rotations: the median and 90th percentile of the pose estimates' angular
    /// errors (degrees); empty otherwise.
    public var poseErrorMedian: [Double] = [], poseErrorP90: [Double] = []
    /// With searched shifts and the true origins: the median and 90th percentile of the distance (Å) between the
    /// estimated and true origins; empty otherwise.
    public var shiftErrorMedian: [Double] = [], shiftErrorP90: [Double] = []

    public init() {}

    /// Number of epochs recorded.
    public var epochs: Int { loss.count }
}

/// The rule that picks which epoch's state training returns, from the recorded histories.
///
/// Every rule is an arg-min of a per-epoch score (the earliest epoch on ties), so the pick only ever moves to the
/// newest epoch: training keeps one snapshot, and a resumed run (whose checkpoint carries the histories) makes the
/// same choice. Only `.oracle` needs ground truth.
public enum EpochSelection: String, Sendable, CaseIterable {
    /// The last epoch.
    case last
    /// The lowest data term of the held-out images (needs a validation split).
    case validation
    /// The lowest training loss.
    case loss
    /// The lowest bond-length RMS deviation from the template (the least distorted chain).
    case bond
    /// The largest latent spread.
    case spread
    /// The lowest mean RMSD to the ground truth: an oracle, available only for simulations (`keep_best`).
    case oracle

    /// The rules that need no ground truth, in the order results list them.
    public static let blind: [EpochSelection] = [.last, .validation, .loss, .bond, .spread]

    /// The rule named `name`, or a clear error listing the names.
    public init(name: String) throws {
        guard let rule = EpochSelection(rawValue: name) else {
            throw KernelError("train_autodecoder", "select must be one of \(EpochSelection.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(name)\"")
        }
        self = rule
    }

    /// The score of each recorded epoch (lower is better), or nil when the history the rule reads was not recorded.
    func scores(_ history: TrainingHistory) -> [Double]? {
        let n = history.epochs
        let values: [Double]
        switch self {
        case .last: values = (0..<n).map { -Double($0) }
        case .validation: values = history.validation
        case .loss: values = history.loss
        case .bond: values = history.bondRMS
        case .spread: values = history.latentSpread.map { -$0 }
        case .oracle: values = history.rmsd
        }
        return values.count == n && n > 0 ? values : nil
    }

    /// The epoch (1-based) this rule picks from `history`, or nil when its history is missing (no validation split,
    /// no ground truth) or empty. Non-finite scores never win.
    public func pick(_ history: TrainingHistory) -> Int? {
        guard let scores = scores(history) else { return nil }
        var best: Int?
        for (i, s) in scores.enumerated() where s.isFinite && s < (best.map { scores[$0] } ?? .infinity) { best = i }
        return best.map { $0 + 1 }
    }
}
