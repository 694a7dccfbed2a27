import Foundation

/// Trains an autodecoder with known poses, as in the paper: every image owns a latent; the decoder maps it to
/// displacements of the centred template; the displaced residues are projected (per-residue Gaussians),
/// filtered by the image's CTF, scaled by a learnable image scale and offset, and compared with the images
/// standardised to zero mean and unit variance (squared error per image, or the pixel MSE: see `Normalization`),
/// plus weighted geometric regularisers.
/// Adam under a learning-rate schedule (linear warm-up or one-cycle).
public final class AutodecoderTrainer {
    /// What each term of the loss is averaged over, which decides how much weight the regularisers carry against
    /// the images.
    public enum Normalization: String, Sendable, CaseIterable {
        /// Per-particle energies (the default): the data term is each image's squared error summed over its pixels
        /// (D² × the pixel MSE: the Gaussian log-likelihood in units of the standardised images' noise variance) and
        /// each regulariser is summed over its bonds, angles, pairs or latent components; both are averaged over the
        /// batch. The balance between data and prior then does not change with the box size or the chain length.
        case particle
        /// Means: the pixel MSE against per-residue-averaged regularisers (mean over bonds, angles, pairs, latent
        /// components). At the reference weights this is a 19× stronger chain prior than `particle` for AdK at D = 64.
        case pixel

        /// The factor on a term that is a mean over `count` terms per particle (the data term: D² pixels; a
        /// regulariser: its `LossTerm.count`): the count for `.particle`, 1 for `.pixel`.
        public func factor(count: Double) -> Float { self == .particle ? Float(count) : 1 }
    }

    /// Training settings.
    public struct Settings: Sendable {
        public var epochs = 60, batch = 32
        public var learningRate: Float = 1e-3
        /// The learning-rate schedule around the peak rate `learningRate`.
        public var schedule = LearningRateSchedule.warmup(epochs: 20)
        public var applyCTF = true
        public var seed: UInt64 = 0
        /// The regularisers: the built-in terms' weights (reference values from Docs/METHOD.md by default) and
        /// options, and script-defined terms.
        public var regularization = Regularization()
        /// A data term given as a function of renderings and images, in place of the image MSE (nil: the built-in).
        public var dataTerm: ImageLoss?
        /// How the data term and the regularisers are normalised (see `Normalization`).
        public var normalization = Normalization.particle
        /// Where to write a checkpoint after every epoch (and on interruption), and one to resume from.
        public var checkpoint: String?, resume: String?
        /// Standard deviation of the initial latents. 0.1 measured better than PyTorch's embedding default of 1 on
        /// AdK DIMS at SNR 0.01 (GCN 1.99 vs 2.32 Å, MLP 1.66 vs 1.80 Å; see README).
        public var latentInit: Float = 0.1
        /// The oracle: with ground truth, return the epoch with the lowest mean RMSD to it (the paper keeps the
        /// checkpoint with the lowest validation RMSD). Real data has no ground truth; there `select` decides.
        public var keepBest = true
        /// The rule that picks the returned epoch when the oracle does not (no ground truth, or `keepBest` off);
        /// with ground truth its pick is still reported (`Result.selectedEpoch`) beside the oracle's.
        public var select = EpochSelection.last
        /// Fraction of the images held out from the decoder's gradient (see `ValidationSplit`); 0 holds out none.
        public var validate = 0.0
        /// A folder to write PNG plots of the per-epoch histories into after every epoch (see `TrainingPlots`).
        public var plots: String?
        /// Initial latent table [M, L] (e.g. from an earlier run) instead of random latents.
        public var initialLatents: Tensor?
        /// The point (Å, x y z in the template's frame) that the poses rotate about and that sits at the box centre:
        /// nil centres the template on its centroid (simulations); a fitted template uses its map's box centre.
        public var rotationCentre: [Double]?
        /// Unknown poses: the ESL data term over candidate rotations replaces the known-pose image MSE (the
        /// dataset's rotations then serve only to initialise the image scale and offset).
        public var unknownPoses: UnknownPoses?
        /// Known poses: local refinement of the given origins after every step (`PoseRefinement` moving origins only).
        public var shiftRefinement: PoseRefinement?
        public init() {}
    }

    /// Progress after each step (for a progress bar) and each epoch.
    public struct Status: Sendable {
        public let epoch: Int, step: Int, stepsPerEpoch: Int, loss: Double, imagesPerSecond: Double
        /// The histories up to the last completed epoch (empty during the first).
        public let history: TrainingHistory
    }

    /// What training produced.
    public struct Result: Sendable {
        public let latents: Tensor
        /// [M,N,3] Å, in the template's own coordinates (those of the structure given, and of a map it was fitted into).
        public let conformations: Tensor
        public let history: [Double], rmsdHistory: [Double]
        /// After each epoch, the root-mean-square deviation (Å) of every image's consecutive-Cα distances from the
        /// template's: a chain-geometry check that needs no ground truth (it rises when a model starts tangling
        /// the chain to fit the images).
        public let bondDeviationHistory: [Double]
        /// After each epoch: the held-out images' mean data term (empty without a validation split) and the latent
        /// spread (see `TrainingHistory`).
        public let validationHistory: [Double], latentSpreadHistory: [Double]
        /// Whether each image (by dataset index) was held out from the decoder (`Settings.validate`).
        public let heldOut: [Bool]
        public let seconds: Double
        public let scale: Float, offset: Float
        /// The epoch (1-based) whose state was returned: the oracle's with ground truth and `keepBest`, else `selectedEpoch`.
        public let epoch: Int
        /// The epoch (1-based) that `Settings.select` picks, and the epoch each rule would pick (rules whose
        /// history was not recorded are absent).
        public let selectedEpoch: Int, picks: [EpochSelection: Int]
        /// With unknown poses or refined shifts: each image's latest rotation and origin (2 per image, Å, RELION's);
        /// after every epoch, when the truth is known, the median and 90th percentile of the angular errors (degrees)
        /// and of the origin errors (Å, with searched shifts).
        public let poses: [Rotation]?, origins: [Float]?
        public let poseErrorMedian: [Double], poseErrorP90: [Double], shiftErrorMedian: [Double], shiftErrorP90: [Double]
    }

    let decode: (Tensor) throws -> Tensor
    let modelName: String
    let modelParameters: [Tensor]
    let latentDimension: Int
    let template: Tensor           // [1,N,3] centred
    /// Where the rotation centre lies in the template's own coordinates (Å): the placed frame's origin, added back to
    /// the conformations a result returns so that they overlay the template (and a map it was fitted into).
    let placedOrigin: [Float]
    /// The rigid motions removed from every displacement (nil: none; known poses).
    let gauge: RigidFreeDisplacements?
    let nodes: Int
    let geometry: Projector.Geometry
    let dataset: ParticleDataset
    let imageMean: Double, imageStd: Double   // over the whole dataset: images are standardised a batch at a time
    let shifts: Tensor             // [M,2] Å
    let truth: [[Double]]?         // per-image ground truth (3N), if known
    let settings: Settings
    let regularizers: Regularizers
    /// How many consecutive template Cα pairs the chain terms skip as chain breaks (`Regularizers.chainBreaks`).
    public var chainBreaks: Int { regularizers.chainBreaks }
    /// The regularisers of non-zero weight, in the order they are added to the data term.
    let terms: [LossTerm]
    /// The images this MPI rank computes (all of them in a world of one).
    let shard: DataShard
    /// The images held out from the decoder's gradient (`Settings.validate`).
    let split: ValidationSplit
    /// The rule that picks the returned state: the oracle with ground truth and `keepBest`, else `settings.select`.
    let keeper: EpochSelection
    /// With unknown poses or refined shifts, each image's scoring targets, made at its first step and kept for the run.
    let scoringTargets = ScoringTargetCache()

    /// A trainer; `truth` (one conformation per image) enables the per-epoch RMSD.
    public init(decode: @escaping (Tensor) throws -> Tensor, modelName: String, parameters: [Tensor], latentDimension: Int,
                template: [Double], geometry: Projector.Geometry, dataset: ParticleDataset, truth: [[Double]]?, settings: Settings) throws {
        guard dataset.hasImages else { throw KernelError("train_autodecoder", "the dataset has no images") }
        guard dataset.count >= 1 else { throw KernelError("train_autodecoder", "the dataset is empty") }
        guard settings.epochs >= 1, settings.batch >= 1, settings.learningRate > 0 else {
            throw KernelError("train_autodecoder", "epochs and batch must be positive and the learning rate above 0")
        }
        nodes = template.count / 3
        guard geometry.sigma.count == nodes else {
            throw KernelError("train_autodecoder", "the forward model has \(geometry.sigma.count) atoms, the template \(nodes)")
        }
        if let table = settings.initialLatents, table.shape != [dataset.count, latentDimension] {
            throw KernelError("train_autodecoder", "the latent table has shape \(formatShape(table.shape)) but the dataset needs one \(latentDimension)-dimensional latent for each of its \(dataset.count) images")
        }
        if let truth, truth.count != dataset.count || truth.contains(where: { $0.count != template.count }) {
            throw KernelError("train_autodecoder", "ground truth must hold one \(nodes)-residue conformation per image")
        }
        split = try ValidationSplit(images: dataset.count, fraction: settings.validate, seed: settings.seed)
        if settings.select == .validation, split.heldOutCount == 0 {
            throw KernelError("train_autodecoder", "select: \"validation\" needs held-out images (validate: 0.1, say)")
        }
        if settings.select == .oracle, truth == nil {
            throw KernelError("train_autodecoder", "select: \"oracle\" needs the ground truth, which this dataset does not have")
        }
        keeper = truth != nil && settings.keepBest ? .oracle : settings.select
        let centred = AutodecoderTrainer.placed(template, centre: settings.rotationCentre)
        placedOrigin = (0..<3).map { Float(template[$0] - centred[$0]) }
        let gauge = try RigidFreeDisplacements(template: centred, translation: settings.unknownPoses?.search != nil,
                                               rotation: settings.unknownPoses?.removesRotation ?? false)
        self.gauge = gauge
        var start = Tensor(uncheckedShape: [1, nodes, 3], storage: centred.map(Float.init))
        if settings.unknownPoses != nil {
            // Start from the template itself: an untrained decoder's output for a zero latent (a fixed pattern of
            // ~1 Å) would otherwise blur every image's pose measure before the first step (measured: median pose
            // error 22° → 39° at SNR 0.03), so it is subtracted once, as a constant.
            let idle = try decode(Tensor.zeros([1, latentDimension])).detached().reshape([1, nodes, 3])
            start = try start - (gauge.map { try $0(idle) } ?? idle)
        }
        self.template = start
        self.decode = decode
        self.modelName = modelName
        modelParameters = parameters
        self.latentDimension = latentDimension
        self.geometry = geometry
        self.dataset = dataset
        shifts = dataset.shiftTensor
        self.truth = truth
        self.settings = settings
        regularizers = try Regularizers(template: centred)
        terms = try settings.regularization.terms(regularizers: regularizers, nodes: nodes, latentDimension: latentDimension)
        shard = DataShard(total: dataset.count)
        // Mean and standard deviation over the images that train the decoder, each rank reading only its own.
        let sums = try dataset.imageSums(split.partition(Array(shard.rows)).training)
        var totals = [sums.sum, sums.squares, sums.count]
        try World.sum(&totals)
        imageMean = totals[0] / totals[2]
        imageStd = Swift.max(1e-12, (totals[1] / totals[2] - imageMean * imageMean).squareRoot())
    }

    /// `template` (3N Å) relative to the rotation centre: its centroid, or `centre` (a fitted map's box centre).
    public static func placed(_ template: [Double], centre: [Double]?) -> [Double] {
        guard let centre else { return Superposition.centred(template) }
        return template.enumerated().map { $1 - centre[$0 % 3] }
    }

    /// The images of particles `picked`, standardised with the dataset's mean and standard deviation (read from
    /// memory or from the stacks; no standardised copy of the dataset is kept).
    func targets(_ picked: [Int]) throws -> Tensor {
        return try dataset.imageRows(picked).affine(scale: Float(1 / imageStd), offset: Float(-imageMean / imageStd))
    }

    /// Decoded conformations (template + displacement) of `latents` [M, L] → [M, N, 3] in the placed frame (rotation
    /// centre at 0), without recording.
    public func conformations(_ latents: Tensor) throws -> Tensor {
        var out: [Float] = []
        let m = latents.shape[0]
        for start in stride(from: 0, to: m, by: 256) {
            let z = try latents.slice(axis: 0, start: start, end: Swift.min(m, start + 256)).detached()
            out += try decoded(z).storage
        }
        return Tensor(uncheckedShape: [m, nodes, 3], storage: out)
    }

    /// The conformations [B,N,3] (Å) of latents `z` [B,L]: the template plus the decoder's displacements, recorded when
    /// `z` or the decoder is. With unknown poses each displacement has its rigid part removed (beyond Docs/METHOD.md;
    /// see `RigidFreeDisplacements`): its mean with searched shifts (a rigid translation of a conformation and its
    /// image's origin are the same thing) and its infinitesimal rotation with searched poses (as are a rigid rotation
    /// and the pose); left free, the decoder drifts along them while the origins and poses follow it.
    func decoded(_ z: Tensor) throws -> Tensor {
        let displacement = try decode(z)
        return try (gauge.map { try $0(displacement) } ?? displacement) + template
    }

    /// Runs training from the start or from `settings.resume`: epochs of steps, each epoch closed by
    /// `evaluateEpoch` (histories, the kept epoch) and followed by a checkpoint and the plots (rank 0). `report` sees
    /// every step; returning false from `shouldContinue` interrupts (after a checkpoint is written, when one is
    /// configured) by throwing `TrainingInterrupted`.
    public func run(report: (Status) -> Void, shouldContinue: () -> Bool) throws -> Result {
        let state = try start()
        var progress = try settings.resume.map { try resume(state, from: $0) } ?? TrainingProgress(heldOut: split.heldOutCount)
        let startDate = Date()
        var imagesDone = 0
        while progress.epoch < settings.epochs {
            if let unknown = settings.unknownPoses {
                state.poses.local = unknown.local?.isActive(epoch: progress.epoch) ?? false
                if progress.step == 0, !state.poses.local, let research = unknown.research, research.isDue(epoch: progress.epoch) {
                    try researchCandidates(state, unknown, research)
                }
            }
            try trainEpoch(state, &progress, shouldContinue: shouldContinue) { now, images in
                imagesDone += images
                let elapsed = Date().timeIntervalSince(startDate)
                report(Status(epoch: now.epoch, step: now.step, stepsPerEpoch: stepsPerEpoch, loss: now.lossSum / Double(now.step),
                              imagesPerSecond: Double(imagesDone) / Swift.max(elapsed, 1e-9), history: now.history))
            }
            try evaluateEpoch(state, &progress)
            try save(state, progress)
            if let folder = settings.plots, World.isRoot { try TrainingPlots.write(progress.history, to: folder) }
        }
        return try result(state, progress, seconds: Date().timeIntervalSince(startDate))
    }

    /// Images per step (the batch, at most the dataset) and steps per epoch (the last step takes the remainder).
    var batchSize: Int { Swift.min(settings.batch, dataset.count) }
    var stepsPerEpoch: Int { (dataset.count + batchSize - 1) / batchSize }

    /// The remaining steps of epoch `progress.epoch` in its seeded shuffled order, each at the schedule's learning
    /// rate; `stepped` sees the progress and the image count after each step. Interrupted (`shouldContinue` false
    /// before a step, or a step failing once it is false), it saves a checkpoint and throws `TrainingInterrupted`.
    func trainEpoch(_ state: State, _ progress: inout TrainingProgress, shouldContinue: () -> Bool, stepped: (TrainingProgress, Int) -> Void) throws {
        let m = dataset.count, batch = batchSize
        var order = Array(0..<m)
        var shuffler = SeededGenerator(seed: settings.seed &+ 0x9E37_79B9 &* UInt64(progress.epoch + 1))
        order.shuffle(using: &shuffler)
        while progress.step < stepsPerEpoch {
            guard shouldContinue() else {
                try save(state, progress)
                throw TrainingInterrupted(epoch: progress.epoch, step: progress.step, checkpoint: settings.checkpoint)
            }
            let position = Double(progress.epoch) + Double(progress.step) / Double(stepsPerEpoch)
            state.adam.learningRate = settings.learningRate * Float(settings.schedule.factor(epoch: position, totalEpochs: settings.epochs))
            let picked = Array(order[(progress.step * batch)..<Swift.min(m, (progress.step + 1) * batch)])
            do {
                progress.lossSum += try step(state, images: picked)
            } catch where !shouldContinue() {
                // Stopped inside the step (a script decoder or loss term checks the same flag): nothing was updated yet.
                try save(state, progress)
                throw TrainingInterrupted(epoch: progress.epoch, step: progress.step, checkpoint: settings.checkpoint)
            }
            progress.step += 1
            stepped(progress, picked.count)
        }
    }

    /// What `run` returns: the kept epoch's state (else the last), the whole latent table gathered from every rank,
    /// its conformations, the histories, and every rule's pick.
    func result(_ state: State, _ progress: TrainingProgress, seconds: Double) throws -> Result {
        if let kept = state.kept { for (t, v) in zip(state.trainable, kept) { t.storage = v } }
        let table = Tensor(uncheckedShape: state.latents.shape, storage: try shard.gatherRows(state.latents.storage, width: latentDimension))
        let poses = movesPoses ? try state.poses.gathered(shard.rows) : nil
        let history = progress.history
        var picks: [EpochSelection: Int] = [:]
        for rule in EpochSelection.allCases { picks[rule] = rule.pick(history) }
        let origin = Tensor(uncheckedShape: [1, 1, 3], storage: placedOrigin)
        return Result(latents: table, conformations: try conformations(table) + origin, history: history.loss, rmsdHistory: history.rmsd,
                      bondDeviationHistory: history.bondRMS, validationHistory: history.validation, latentSpreadHistory: history.latentSpread,
                      heldOut: split.isHeldOut, seconds: seconds, scale: state.scale.storage[0], offset: state.offset.storage[0], epoch: progress.keptEpoch ?? settings.epochs,
                      selectedEpoch: picks[settings.select] ?? settings.epochs, picks: picks,
                      poses: poses?.rotations, origins: poses?.origins, poseErrorMedian: history.poseErrorMedian, poseErrorP90: history.poseErrorP90,
                      shiftErrorMedian: history.shiftErrorMedian, shiftErrorP90: history.shiftErrorP90)
    }

    /// Whether training moves the poses (unknown poses, or refined shifts), which are then checkpointed and returned.
    var movesPoses: Bool { settings.unknownPoses != nil || settings.shiftRefinement != nil
    }

    /// What a run trains and carries from step to step: the latent table [M, L], the image scale and offset, Adam over
    /// those and the model's parameters, each image's pose (its latest estimate with unknown poses), and the values of
    /// the kept epoch. Where the run stands is its `TrainingProgress`.
    public final class State {
        public let latents: Tensor, scale: Tensor, offset: Tensor
        public let adam: Adam
        let trainable: [Tensor]
        let rotations: Tensor
        var poses: TrainingPoses
        /// The trainable tensors' values at the epoch `TrainingProgress.keptEpoch`, when a rule keeps one.
        var kept: [[Float]]?

        init(latents: Tensor, scale: Tensor, offset: Tensor, trainable: [Tensor], poses: TrainingPoses, learningRate: Float) {
            (self.latents, self.scale, self.offset, self.trainable) = (latents, scale, offset, trainable)
            adam = Adam(trainable, learningRate: learningRate)
            rotations = Rotation.tensor(poses.rotations)
            self.poses = poses
        }
    }

    /// The state a run starts from: latents drawn from the seed (or the given table), the least-squares image scale
    /// and offset, and a fresh Adam at the peak learning rate.
    public func start() throws -> State {
        var generator = SeededGenerator(seed: settings.seed)
        let latents = (settings.initialLatents?.detached()
            ?? Tensor.randn([dataset.count, latentDimension], std: settings.latentInit, using: &generator)).asParameter()
        let (scale, offset) = try initialScaleAndOffset(rotations: Rotation.tensor(dataset.rotations))
        let unknown = settings.unknownPoses
        let poses = TrainingPoses(rotations: dataset.rotations, origins: dataset.shifts, candidates: unknown?.candidates ?? [], perImage: unknown?.perImage ?? 0)
        return State(latents: latents, scale: scale, offset: offset, trainable: modelParameters + [latents, scale, offset],
                     poses: poses, learningRate: settings.learningRate)
    }

    /// One optimisation step on the images `picked` (indices into the dataset) at `state.adam.learningRate`: the
    /// regularised loss recorded, its gradients, one Adam update. Returns the batch's loss.
    ///
    /// Held-out images (`ValidationSplit`) are a second recorded pass whose gradient is taken with respect to the
    /// latent table only, so the decoder and the image scale and offset learn from the other images alone; each
    /// pass weighs its images' loss by their share of the batch, so without held-out images this is one pass, and
    /// with them the work is the same images split over two passes (the held-out backward still runs through the
    /// decoder to reach the latents).
    ///
    /// Under MPI every rank gets the same global batch and computes the loss of the images it owns; one allreduce
    /// sums the gradients of the decoder and the image scale and offset (and the loss), so every rank applies the
    /// same Adam update. The latent rows of each image are updated only on its rank, from its own gradient, as in a
    /// world of one.
    public func step(_ state: State, images picked: [Int]) throws -> Double {
        let (training, heldOut) = split.partition(shard.local(picked))
        /// The recorded loss of images `rows` weighted by their share of the batch, and its gradients with respect to `wrt`.
        func pass(_ rows: [Int], wrt: [Tensor]) throws -> (Float, [Tensor]) {
            let indices = Tensor(rows.map(Float.init))
            let (total, tape) = try Tape.record {
                let l = try loss(indices: indices, latents: state.latents, scale: state.scale, offset: state.offset, rotations: state.rotations,
                                 poses: &state.poses)
                return rows.count == picked.count ? l : try l * (Float(rows.count) / Float(picked.count))
            }
            return (total.storage[0], try tape.gradients(of: total, wrt: wrt))
        }
        var gradients: [Tensor], value: Float = 0
        if training.isEmpty {
            gradients = state.trainable.map { Tensor.zeros($0.shape) }
        } else {
            (value, gradients) = try pass(training, wrt: state.trainable)
        }
        if !heldOut.isEmpty {
            let latentIndex = modelParameters.count
            let (held, latentGradient) = try pass(heldOut, wrt: [state.latents])
            gradients[latentIndex] = try gradients[latentIndex] + latentGradient[0]
            value += held
        }
        if !shard.isWhole {
            // One allreduce: every shared gradient, then the loss.
            let shared = state.trainable.indices.filter { state.trainable[$0] !== state.latents }
            var buffer = shared.flatMap { gradients[$0].storage } + [value]
            try World.sum(&buffer)
            var offset = 0
            for k in shared {
                gradients[k] = Tensor(uncheckedShape: gradients[k].shape, storage: Array(buffer[offset..<(offset + gradients[k].count)]))
                offset += gradients[k].count
            }
            value = buffer[offset]
        }
        try state.adam.step(gradients)
        return Double(value)
    }

    /// Least-squares scale and offset mapping template renderings onto the standardised images (up to 256 images),
    /// so training starts with the data term on the right scale. Held-out images take no part.
    /// Under MPI each rank sums over its own images among the first 256 that train and one allreduce adds the sums.
    func initialScaleAndOffset(rotations: Tensor) throws -> (Tensor, Tensor) {
        let rows = shard.local(Array(split.partition(Array(0..<dataset.count)).training.prefix(256)))
        var sums = [0.0, 0.0, 0.0, 0.0, 0.0]       // Σr, Σy, Σr², Σry, pixel count
        if !rows.isEmpty {
            let indices = Tensor(rows.map(Float.init))
            var images = try Projector.project(coords: template.broadcast(to: [rows.count, nodes, 3]), rotations: rotations.gather(indices),
                                               shifts: try shifts.gather(indices), geometry: geometry)
            if settings.applyCTF { images = try FourierFilter.applyCTF(images, parameters: rows.map { dataset.ctf[$0] }, pixel: geometry.pixel) }
            for (r, t) in zip(images.storage, try targets(rows).storage) {
                sums[0] += Double(r); sums[1] += Double(t); sums[2] += Double(r) * Double(r); sums[3] += Double(r) * Double(t)
            }
            sums[4] = Double(images.count)
        }
        try World.sum(&sums)
        let (sr, sy, srr, sry, n) = (sums[0], sums[1], sums[2], sums[3], sums[4])
        let variance = srr / n - (sr / n) * (sr / n)
        let scale = variance > 0 ? (sry / n - sr / n * sy / n) / variance : 1
        let offset = sy / n - scale * sr / n
        return (Tensor([Float(scale)]).asParameter(), Tensor([Float(offset)]).asParameter())
    }
}

/// Thrown when training is interrupted; says where a checkpoint was written, if anywhere.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public let epoch: Int, step: Int
    public let checkpoint: String?
    public var description: String {
        "training interrupted at epoch \(epoch + 1), step \(step)" + (checkpoint.map { "; checkpoint written to \($0) (resume with resume: \"\($0)\")" } ?? "")
    }
}
