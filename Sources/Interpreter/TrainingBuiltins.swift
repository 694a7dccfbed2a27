import CryoKernels
import Foundation

/// Training: the paper's autodecoder experiment and a generic mini-batch loop for script-defined objectives.
enum TrainingBuiltins {
    static let topic = "training"

    static var all: [Builtin] {
        [
            builtin("train_autodecoder", topic: topic, [
                required("model"), required("dataset"), required("like"), optional("epochs", .number(60)), optional("batch", .number(32)),
                optional("lr", .number(1e-3)), optional("warmup", .number(20)), optional("schedule", .string("warmup")), optional("poses", .string("known")),
                optional("grid", .number(1)), optional("candidates", .number(32)), optional("keep", .number(8)), optional("reg", .record(Record())),
                optional("seed", .number(0)), optional("checkpoint", .null), optional("resume", .null), optional("ctf", .bool(true)),
                optional("sigma", .string("residue")), optional("weights", .string("residue")), optional("quiet", .bool(false)),
                optional("keep_best", .bool(true)), optional("latent_init", .number(0.1)), optional("latents", .null),
                optional("normalize", .string("particle")), optional("centre", .string("centroid")), optional("map", .null), optional("truth", .null),
                optional("validate", .number(0)), optional("select", .null), optional("plots", .null), optional("data", .null),
                optional("max_shift", .number(0)), optional("refine", .number(3)), optional("refine_shifts", .bool(false)), optional("research", .null),
                optional("centroids", .number(0)), optional("centroid_choices", .number(1)), optional("local", .number(0)), optional("gauge", .string("rigid")),
                optional("half_size", .bool(false)), optional("research_shifts", .null), optional("local_poses", .string("esl"))],
                    doc: "Trains model (gnn, mlp(like:), or {decode, params, latent}) as an autodecoder on dataset with known poses (or poses: \"esl\": the data term is the ESL expectation Σβ·L over each image's candidates best rotations, found by coarse-to-fine ESL (grid:, keep:) on the template and again every research: k epochs (default 10; 0 never) against each image's own decoded conformation, or with centroids: K against the nearest of K k-means centroids of the conformations (centroid_choices: m scores each image against its m nearest and keeps the best-scoring, as a 3D classification would; default 1); max_shift: r (Å) scores each candidate at its best in-plane shift within r of the box centre by FFT cross-correlation (the dataset's shifts are then unknown to training and serve only as the truth); gauge: \"rigid\" (default) removes from each decoded displacement the rigid part that the images cannot tell from the pose: its infinitesimal rotation about the rotation centre (a rotation of the conformation and of its pose are the same thing) and, with max_shift, its mean (as are a translation and the origin), so conformations stay in the template's frame; \"translation\" removes only the mean, with max_shift (the code before, for comparison); refine: n (default 3; 0 none) gradient steps per batch on each image's rotation (tangent space of SO(3)) and, with max_shift, its origin, beyond the grid; local: e (epoch, 1-based; 0 none, the default) starts a last phase where re-search rounds stop and each image's candidates are its current pose and its 6 neighbours at half the grid's mesh (7 renders per image and step instead of candidates:), and the candidates are scored at the image's current origin (refinement moves it); local_poses: \"refine\" takes each image's pose alone there (its loss is the data term) and refines it after every step, \"fixed\" holds the poses and origins the global phase found while the decoder trains at full size (\"esl\", the default, is the 7-rotation measure above); research_shifts (default true with max_shift) searches shifts about the box centre in the re-search rounds too, as before training, rather than centring each image by its current origin (an origin fitted to a wrong pose held the image there); half_size: true (needs local:) trains the global phase before it on images Fourier-cropped to half size, as the pose search's coarse level scores them (about half the time of a global epoch; the local phase works at full size); returns poses, shifts, pose_error_median/p90 and shift_error_median/p90 (Å) per epoch, and pose_error_initial_median/p90 and shift_error_initial_median/p90 before training. With known poses, refine_shifts: true refines the given shifts by refine: steps per batch and returns the same fields): per-image latents, template (like:) + displacement, Gaussian projection, CTF, learnable scale/offset, image MSE + regularisers. reg: {key: weight, …} overrides the built-in terms' weights (reference weights in brackets; each term is a mean over its per-particle terms): " + LossTerm.documentation + ". " + ScriptLossTerms.documentation + " normalize: \"particle\" (default) sums the squared error over each image's pixels and each regulariser over its bonds, angles, pairs or latent components (per-particle energies, averaged over the batch); \"pixel\" uses the pixel MSE and means over bonds (a chain prior 19× stronger for AdK at D = 64). Choosing the returned epoch: validate: f holds out a seeded fraction f of the images from the decoder (their latents are still fitted, the decoder frozen) and records their mean data term after each epoch as validation_history (held_out [M] marks them with 1); select: \"last\", \"validation\" (lowest held-out data term), \"loss\", \"bond\" (lowest bond RMS), \"spread\" (largest latent spread) or \"oracle\" (default \"validation\" with validate: > 0, else \"last\") picks the returned epoch without ground truth (README: \"Choosing the epoch without ground truth\"); picks gives the epoch every rule would choose. keep_best is the ORACLE: with ground truth (simulations) it returns the epoch of lowest mean RMSD to the truth, as the paper keeps its best validation checkpoint; real data has none, and with it rmsd_selected and selected_epoch report the select rule's figure beside the oracle's rmsd_mean and best_epoch. plots: a folder for loss.png, bond_rms.png, validation.png, latent_spread.png (and rmsd.png with ground truth), rewritten after every epoch. Returns {latents, parameter_count, scale and offset (the learnt image scale and offset), rmsd ([M] per image, with ground truth), conformations ([M,N,3] Å in the template's own coordinates, so they overlay the template and the map it was fitted into), history, rmsd_history, bond_rms_history (per epoch, the RMS deviation in Å of the decoded consecutive-Cα distances from the template's: a chain check without ground truth), validation_history, held_out, latent_spread_history (mean per-dimension standard deviation of the latents), best_epoch (the returned epoch), selected_epoch, picks, rmsd_selected, rmsd_last, rmsd_mean, rmsd_median, rmsd_p90, rmsd_template, rmsd_unaligned (centred, no superposition: Docs/METHOD.md's metric), rmsd_unaligned_template, frac_within_3A, latent_pc1_corr, seconds}. schedule: \"warmup\" (linear over warmup epochs) or \"one_cycle\". centre: \"centroid\" (default: poses rotate the template about its centroid, as simulations render) or \"map\" with map: read_mrc(consensus map) or {box, pixel} (a template fitted into the consensus map rotates about the map's box centre, as RELION's poses do); a warning names any template that does not fit inside the image box. truth: the ground-truth conformations (a multi-model structure or [K,N,3]) indexed by the dataset's conformation labels (rlnClassNumber in a STAR file), in place of the dataset record's own. Also: latent_init (the latents' initial std, 0.1), latents (initial latents [M,L]), sigma/weights as in project, ctf: false (no CTF in the forward model), seed, checkpoint/resume (a file written after every epoch, and one to continue from), quiet, candidates (32) and keep (8) for the ESL search.",
                    example: "let r = train_autodecoder(model, data, like: s, epochs: 60, batch: 32, lr: 1e-3)") { a in
                try trainAutodecoder(a)
            },
            builtin("train", topic: topic, [required("loss_fn"), required("params"), required("data"), optional("epochs", .number(10)),
                                            optional("batch", .number(32)), optional("lr", .number(1e-3)), optional("seed", .number(0))],
                    doc: "Mini-batch Adam on a script objective: loss_fn(batch) gets rows of data (a tensor, or a record of tensors sharing their first axis); returns the per-epoch mean losses.",
                    example: "let history = train(|b| mse(model(b.x), b.y), params: model, data: {x: x, y: y}, epochs: 20)") { a in
                try trainGeneric(a)
            },
        ]
    }

    private static func trainAutodecoder(_ a: Arguments) throws -> Value {
        let template = try a.structure("like")
        let nodes = template.count
        let poseMode = try a.string("poses")
        guard poseMode == "known" || poseMode == "esl" else {
            throw ScriptFailure(message: "train_autodecoder: poses must be \"known\" or \"esl\", got \"\(poseMode)\"")
        }
        // The decoder: a native model, or a script record {decode, params, latent}.
        let decode: (Tensor) throws -> Tensor, parameters: [Tensor], latentDimension: Int, name: String
        switch a["model"] {
        case .object(let model as ModelObject):
            if let d = model.decoder {
                guard d.nodes == nodes else {
                    throw ScriptFailure(message: "train_autodecoder: the model has \(d.nodes) nodes but the template has \(nodes) residues; build the graph from the same structure")
                }
                latentDimension = d.latentDimension
            } else {
                guard let first = model.parameters.first, first.rank == 2 else { throw ScriptFailure(message: "train_autodecoder: cannot tell this model's latent size") }
                latentDimension = first.shape[0]
            }
            decode = model.forward
            parameters = model.parameters
            name = model.name
        case .record(let r):
            guard let fn = r["decode"], case .number(let latent)? = r["latent"], let params = r["params"] else {
                throw ScriptFailure(message: "train_autodecoder: a script model is a record {decode: fn(z), params: …, latent: L}")
            }
            let interpreter = a.interpreter
            decode = { z in try ValueConversion.tensor(try interpreter.callValue(fn, [.tensor(z)])) }
            parameters = try ValueConversion.tensorLeaves(params).tensors
            latentDimension = Int(latent)
            name = "script"
        default:
            throw a.fail("model", "a model (gnn, mlp) or a record {decode, params, latent}", a["model"])
        }
        let shapedDecode: (Tensor) throws -> Tensor = { z in
            let out = try decode(z)
            guard out.count == z.shape[0] * nodes * 3 else {
                throw ScriptFailure(message: "train_autodecoder: the model maps [\(z.shape[0]),\(latentDimension)] latents to \(formatShape(out.shape)), expected [\(z.shape[0]),\(nodes),3] displacements")
            }
            return out.shape == [z.shape[0], nodes, 3] ? out : try out.reshape([z.shape[0], nodes, 3])
        }
        var dataset = try DatasetValue.dataset(a["dataset"], op: "train_autodecoder")
        let truth = try DatasetValue.perImageTruth(a, dataset: dataset, nodes: nodes)
        let geometry = try Projector.Geometry(
            size: dataset.size, pixel: dataset.pixel,
            sigma: try a.atomValues("sigma", count: nodes, template: template, residue: { $0.sigma }, unit: 1.5),
            weight: try a.atomValues("weights", count: nodes, template: template, residue: { $0.electrons }, unit: 1))
        var settings = AutodecoderTrainer.Settings()
        settings.epochs = try a.int("epochs")
        settings.batch = try a.int("batch")
        settings.learningRate = Float(try a.number("lr"))
        settings.schedule = try LearningRateSchedule(name: try a.string("schedule"), warmupEpochs: try a.int("warmup"))
        settings.applyCTF = try a.bool("ctf")
        settings.seed = UInt64(bitPattern: Int64(try a.int("seed")))
        settings.checkpoint = a.isNull("checkpoint") ? nil : try a.string("checkpoint")
        settings.resume = a.isNull("resume") ? nil : try a.string("resume")
        settings.keepBest = try a.bool("keep_best")
        settings.validate = try a.number("validate")
        settings.select = a.isNull("select") ? (settings.validate > 0 ? .validation : .last) : try EpochSelection(name: try a.string("select"))
        settings.plots = a.isNull("plots") ? nil : try a.string("plots")
        settings.latentInit = Float(try a.number("latent_init"))
        settings.normalization = try a.choice("normalize", AutodecoderTrainer.Normalization.self)
        settings.initialLatents = a.isNull("latents") ? nil : try a.tensor("latents")
        settings.rotationCentre = try RotationCentreArgument.parse(a, op: "train_autodecoder")
        var scriptConstants: ScriptLossTerms.Constants?
        let constants = {
            if let scriptConstants { return scriptConstants }
            let placed = AutodecoderTrainer.placed(template.models[0], centre: settings.rotationCentre)
            let made = ScriptLossTerms.Constants(template: try Tensor(shape: [nodes, 3], storage: placed.map(Float.init)),
                                                 graph: GraphObject(try ResidueGraph.build(template)))
            scriptConstants = made
            return made
        }
        settings.regularization = try ScriptLossTerms.regularization(a, constants: constants, nodes: nodes)
        settings.dataTerm = try ScriptLossTerms.dataTerm(a, constants: constants)
        warnIfTemplateLeavesBox(a, template: template, centre: settings.rotationCentre, dataset: dataset, sigma: geometry.sigma)
        var initialPoseErrors: [Double]?
        let maxShift = try a.number("max_shift"), refineSteps = try a.int("refine")
        guard maxShift >= 0, refineSteps >= 0 else { throw ScriptFailure(message: "train_autodecoder: max_shift and refine must not be negative, got \(maxShift) and \(refineSteps)") }
        var initialShiftErrors: [Double]?
        if poseMode == "esl" {
            let gauge = try a.string("gauge")
            guard gauge == "rigid" || gauge == "translation" else {
                throw ScriptFailure(message: "train_autodecoder: gauge: must be \"rigid\" or \"translation\", got \"\(gauge)\"")
            }
            let halfSize = try a.bool("half_size")
            if halfSize {
                guard try a.int("local") > 0 else { throw ScriptFailure(message: "train_autodecoder: half_size: true trains the global phase on half-size images and needs a local phase at full size after it (local: an epoch ≥ 2)") }
                guard geometry.size % 4 == 0 else { throw ScriptFailure(message: "train_autodecoder: half_size: true needs an image size divisible by 4 (so that half of it is even), got \(geometry.size)") }
                guard settings.dataTerm == nil else { throw ScriptFailure(message: "train_autodecoder: half_size: true applies to the built-in data term; a script data term (data:) sees full-size images") }
            }
            if maxShift > 0, settings.dataTerm != nil {
                throw ScriptFailure(message: "train_autodecoder: max_shift: searches shifts with the built-in pose score; a script data term (data:) is scored at the dataset's shifts, so give one or the other")
            }
            let shiftSearch = maxShift > 0 ? try ShiftSearch(size: dataset.size, pixel: dataset.pixel, maxShift: maxShift) : nil
            let search = try eslCandidates(a, dataset: dataset, template: template.models[0], centre: settings.rotationCentre, geometry: geometry, ctf: settings.applyCTF,
                                           search: shiftSearch, quiet: try a.bool("quiet"))
            let truthRotations = truth == nil ? nil : dataset.rotations
            let truthOrigins = truth == nil || shiftSearch == nil ? nil : dataset.shifts
            initialPoseErrors = truthRotations.map { zip(search.poses, $0).map { $0.angle(to: $1) } }
            initialShiftErrors = truthOrigins.map { t in (0..<dataset.count).map { i in Double(hypotf(search.origins[2 * i] - t[2 * i], search.origins[2 * i + 1] - t[2 * i + 1])) } }
            dataset.rotations = search.poses
            if shiftSearch != nil { dataset.shifts = search.origins }
            var unknown = try UnknownPoses(candidates: search.candidates, perImage: search.perImage, images: dataset.count,
                                           lifting: try SupportLifting(), gridSize: SO3Grid.sizes[try a.int("grid")], truth: truthRotations)
            unknown.truthOrigins = truthOrigins
            unknown.search = shiftSearch
            unknown.refinement = refineSteps > 0 ? try PoseRefinement(steps: refineSteps, rotations: true, origins: shiftSearch != nil, shiftBound: shiftSearch.map { _ in maxShift }) : nil
            let interval = a.isNull("research") ? 10 : try a.int("research")
            if interval == 0, !a.isNull("research_shifts"), try a.bool("research_shifts") {
                throw ScriptFailure(message: "train_autodecoder: research_shifts: applies to re-search rounds, and research: 0 has none")
            }
            if interval > 0 {
                let researchShifts = a.isNull("research_shifts") ? shiftSearch != nil : try a.bool("research_shifts")
                if researchShifts, shiftSearch == nil {
                    throw ScriptFailure(message: "train_autodecoder: research_shifts: true searches shifts in the re-search rounds and needs max_shift: > 0")
                }
                unknown.research = try CandidateResearch(interval: interval, centroids: try a.int("centroids"), choices: try a.int("centroid_choices"),
                                                         estimator: try PoseEstimator(level: try a.int("grid"), keep: try a.int("keep"), lifting: try SupportLifting(),
                                                                                      search: researchShifts ? shiftSearch : nil))
            }
            let localStart = try a.int("local")
            guard localStart >= 0 else { throw ScriptFailure(message: "train_autodecoder: local: must be an epoch ≥ 1 (or 0 for none), got \(localStart)") }
            let localPoses = try a.choice("local_poses", LocalCandidates.Poses.self)
            if localStart > 0 {
                unknown.local = try LocalCandidates(start: localStart - 1, spacing: SO3Grid.mesh[try a.int("grid")] / 2 * Double.pi / 180)
                unknown.local?.poses = localPoses
            } else if localPoses != .esl {
                throw ScriptFailure(message: "train_autodecoder: local_poses: applies to the local phase, and local: 0 has none (give local: an epoch ≥ 1)")
            }
            unknown.removesRotation = gauge == "rigid"
            unknown.halfSizeGlobalPhase = halfSize
            settings.unknownPoses = unknown
        } else {
            for (key, given) in [("max_shift", maxShift > 0), ("research", !a.isNull("research")), ("centroids", try a.int("centroids") != 0), ("centroid_choices", try a.int("centroid_choices") != 1),
                                 ("local", try a.int("local") != 0), ("gauge", try a.string("gauge") != "rigid"),
                                 ("half_size", try a.bool("half_size")), ("research_shifts", !a.isNull("research_shifts")),
                                 ("local_poses", try a.string("local_poses") != "esl")] where given {
                throw ScriptFailure(message: "train_autodecoder: \(key): applies to poses: \"esl\"; with known poses the shifts are given (refine_shifts: true refines them)")
            }
            if try a.bool("refine_shifts") {
                guard refineSteps > 0 else { throw ScriptFailure(message: "train_autodecoder: refine_shifts: true needs refine: ≥ 1 steps") }
                settings.shiftRefinement = try PoseRefinement(steps: refineSteps, rotations: false, origins: true)
            }
        }
        let trainer = try AutodecoderTrainer(decode: shapedDecode, modelName: name, parameters: parameters, latentDimension: latentDimension,
                                             template: template.models[0], geometry: geometry, dataset: dataset, truth: truth, settings: settings)
        let quiet = try a.bool("quiet")
        if !quiet, trainer.chainBreaks > 0 {
            a.interpreter.output("train_autodecoder: the template's chain breaks between \(trainer.chainBreaks) pair(s) of consecutive residues whose Cα lie farther apart than \(ResidueGraph.peptideReach) Å (chain ends, missing residues); the bond and angle terms and bond_rms_history leave those pairs out")
        }
        let bar = ProgressBar("train \(name)", total: settings.epochs * ((dataset.count + Swift.min(settings.batch, dataset.count) - 1) / Swift.min(settings.batch, dataset.count)))
        let interpreter = a.interpreter
        let result: AutodecoderTrainer.Result
        do {
            result = try trainer.run(report: { s in
                guard !quiet else { return }
                let done = s.epoch * s.stepsPerEpoch + s.step
                bar.update(done, status: String(format: "epoch %d/%d loss %.4f %@%.0f img/s", s.epoch + 1, settings.epochs, s.loss,
                                                lastEpochSummary(s.history), s.imagesPerSecond))
            }, shouldContinue: { !interpreter.shouldInterrupt() })
        } catch let e as TrainingInterrupted {
            throw ScriptFailure(message: e.description)
        }
        if poseMode == "known", result.scale < 0 {
            a.interpreter.warn(String(format: "train_autodecoder: the learnt image scale is negative (%.3g): the images correlate negatively with the model's renderings at their poses, as black particles do with RELION's CTF (white particles). If the particles were extracted without inverting their contrast, read them with read_star(..., invert: true).", Double(result.scale)))
        }
        var fields: [(String, Value)] = [
            ("latents", .tensor(result.latents)), ("conformations", .tensor(result.conformations)),
            ("history", .list(result.history.map { .number($0) })), ("rmsd_history", .list(result.rmsdHistory.map { .number($0) })),
            ("bond_rms_history", .list(result.bondDeviationHistory.map { .number($0) })),
            ("seconds", .number(result.seconds)), ("parameter_count", .number(Double(parameters.reduce(0) { $0 + $1.count }))),
            ("scale", .number(Double(result.scale))), ("offset", .number(Double(result.offset))), ("best_epoch", .number(Double(result.epoch))),
            ("rmsd_last", result.rmsdHistory.last.map { .number($0) } ?? .null),
            ("validation_history", .list(result.validationHistory.map { .number($0) })),
            ("held_out", .tensor(Tensor(result.heldOut.map { $0 ? 1 : 0 }))),
            ("latent_spread_history", .list(result.latentSpreadHistory.map { .number($0) })),
            ("selected_epoch", .number(Double(result.selectedEpoch))),
            ("picks", .record(Record(EpochSelection.allCases.compactMap { rule in result.picks[rule].map { (rule.rawValue, .number(Double($0))) } }))),
            ("rmsd_selected", result.rmsdHistory.indices.contains(result.selectedEpoch - 1) ? .number(result.rmsdHistory[result.selectedEpoch - 1]) : .null),
        ]
        if let poses = result.poses, let origins = result.origins {
            fields += [("poses", .tensor(Rotation.tensor(poses))), ("shifts", .tensor(try Tensor(shape: [dataset.count, 2], storage: origins))),
                       ("pose_error_median", .list(result.poseErrorMedian.map { .number($0) })),
                       ("pose_error_p90", .list(result.poseErrorP90.map { .number($0) })),
                       ("shift_error_median", .list(result.shiftErrorMedian.map { .number($0) })),
                       ("shift_error_p90", .list(result.shiftErrorP90.map { .number($0) }))]
            if let initial = initialPoseErrors {
                fields += [("pose_error_initial_median", .number(ReconstructionMetrics.percentile(initial, 50))),
                           ("pose_error_initial_p90", .number(ReconstructionMetrics.percentile(initial, 90)))]
            }
            if let initial = initialShiftErrors {
                fields += [("shift_error_initial_median", .number(ReconstructionMetrics.percentile(initial, 50))),
                           ("shift_error_initial_p90", .number(ReconstructionMetrics.percentile(initial, 90)))]
            }
        }
        if let truth {
            let per = nodes * 3
            let predicted = (0..<dataset.count).map { i in result.conformations.storage[(i * per)..<((i + 1) * per)].map(Double.init) }
            let metrics = ReconstructionMetrics(predicted: predicted, truth: truth)
            let baseline = ReconstructionMetrics(predicted: [[Double]](repeating: template.models[0], count: dataset.count), truth: truth)
            fields += [("rmsd", .tensor(Tensor(metrics.rmsd.map(Float.init)))), ("rmsd_mean", .number(metrics.mean)), ("rmsd_median", .number(metrics.median)),
                       ("rmsd_p90", .number(metrics.p90)), ("rmsd_template", .number(baseline.mean)), ("frac_within_3A", .number(metrics.fractionWithin3)),
                       ("rmsd_unaligned", .number(metrics.unalignedMean)), ("rmsd_unaligned_template", .number(baseline.unalignedMean))]
            if let labels = dataset.conformation {
                fields.append(("latent_pc1_corr", .number(ReconstructionMetrics.principalComponentCorrelation(
                    latents: result.latents.storage, dimension: latentDimension, labels: labels))))
            }
        }
        return .record(Record(fields))
    }

    /// The progress line's figures of the last completed epoch, none of them needing ground truth but the RMSD:
    /// "bond 0.12 Å val 4.1e+03 spread 0.094 rmsd 1.90 Å " (empty during the first epoch).
    private static func lastEpochSummary(_ h: TrainingHistory) -> String {
        var parts: [String] = []
        if let bond = h.bondRMS.last { parts.append(String(format: "bond %.2f Å", bond)) }
        if let validation = h.validation.last { parts.append(String(format: "val %.4g", validation)) }
        if let spread = h.latentSpread.last { parts.append(String(format: "spread %.3g", spread)) }
        if let rmsd = h.rmsd.last { parts.append(String(format: "rmsd %.2f Å", rmsd)) }
        return parts.map { $0 + " " }.joined()
    }

    /// Warns once when some residue of the placed template (plus 3σ of its Gaussian) lies farther from the
    /// rotation centre than half the image box: for some poses it is then cut off at the box edge.
    private static func warnIfTemplateLeavesBox(_ a: Arguments, template: Structure, centre: [Double]?, dataset: ParticleDataset, sigma: [Float]) {
        let placed = AutodecoderTrainer.placed(template.models[0], centre: centre)
        var reach = 0.0
        for n in 0..<(placed.count / 3) {
            let (x, y, z) = (placed[3 * n], placed[3 * n + 1], placed[3 * n + 2])
            reach = Swift.max(reach, (x * x + y * y + z * z).squareRoot() + 3 * Double(sigma[n]))
        }
        let half = Double(dataset.size) * Double(dataset.pixel) / 2
        if reach > half {
            a.interpreter.warn(String(format: "train_autodecoder: the template reaches %.1f Å from its rotation centre (%@) but the box's half-width is %.1f Å (%d px at %.3g Å); parts of it leave the image for some poses. Use a larger box (read_star size:), or check centre:.",
                                      reach, centre == nil ? "its centroid" : "the map's box centre", half, dataset.size, Double(dataset.pixel)))
        }
    }

    /// Unknown poses: coarse-to-fine ESL of every image against the template (`PoseEstimator`) gives each image a starting
    /// pose (the barycentre), origin and its `candidates` best rotations for the ESL data term. Without a shift search the
    /// images are centred by their given origins, which are kept.
    private static func eslCandidates(_ a: Arguments, dataset: ParticleDataset, template: [Double], centre: [Double]?, geometry: Projector.Geometry,
                                      ctf: Bool, search: ShiftSearch?, quiet: Bool) throws -> (poses: [Rotation], origins: [Float], candidates: [Rotation], perImage: Int) {
        guard dataset.hasImages else { throw ScriptFailure(message: "train_autodecoder: the dataset has no images") }
        let wanted = try a.int("candidates")
        guard wanted >= 2 else { throw ScriptFailure(message: "train_autodecoder: candidates must be at least 2, got \(wanted)") }
        let level = try a.int("grid")
        guard level >= 1 else { throw ScriptFailure(message: "train_autodecoder: coarse-to-fine needs grid level 1 or 2 (level 0 is the coarsest), got \(level)") }
        let estimator = try PoseEstimator(level: level, keep: try a.int("keep"), lifting: try SupportLifting(), search: search)
        // Under MPI each rank searches its own images; the poses and candidate lists are then gathered.
        let rows = Array(DataShard(total: dataset.count).rows)
        let bar = ProgressBar("ESL poses", total: rows.count)
        let outcome = try estimator.estimate(rows: rows, images: { try dataset.imageRows($0) }, structures: [AutodecoderTrainer.placed(template, centre: centre)],
                                             assignment: [Int](repeating: 0, count: rows.count), geometry: geometry, ctf: ctf ? { dataset.ctf[$0] } : nil,
                                             origins: search == nil ? rows.flatMap { [dataset.shifts[2 * $0], dataset.shifts[2 * $0 + 1]] } : nil,
                                             progress: { if !quiet { bar.update($0) } })
        var fewest = [Float](repeating: 0, count: World.size)
        fewest[World.rank] = Float(outcome.candidates.map(\.count).min() ?? Int.max)
        try World.sum(&fewest)
        let perImage = Swift.min(wanted, Int(fewest.min() ?? 0))
        let rotationFloats = { (rs: [Rotation]) in rs.flatMap { $0.m.map(Float.init) } }
        let allPoses = try World.gather(rotationFloats(outcome.estimates.map(\.rotation)))
        let allCandidates = try World.gather(rotationFloats(outcome.candidates.flatMap { $0.prefix(perImage) }))
        let allOrigins = try World.gather(outcome.estimates.flatMap { [Float($0.origin.x), Float($0.origin.y)] })
        let unpack = { (values: [Float]) in stride(from: 0, to: values.count, by: 9).map { Rotation(m: values[$0..<($0 + 9)].map(Double.init)) } }
        return (unpack(allPoses), allOrigins, unpack(allCandidates), perImage)
    }

    private static func trainGeneric(_ a: Arguments) throws -> Value {
        let lossFunction = try a.callable("loss_fn")
        let (params, _) = try AutodiffBuiltins.leaves(a, "params")
        let data = a["data"]
        let rows: Int
        switch data {
        case .tensor(let t) where t.rank >= 1: rows = t.shape[0]
        case .record(let r):
            let counts = try r.fields.map { try ValueConversion.tensor($0.1).shape.first ?? 0 }
            guard let first = counts.first, counts.allSatisfy({ $0 == first }) else { throw ScriptFailure(message: "train: data fields differ in their first axis") }
            rows = first
        default: throw a.fail("data", "a tensor or a record of tensors", data)
        }
        let epochs = try a.int("epochs"), batch = Swift.max(1, Swift.min(try a.int("batch"), Swift.max(rows, 1)))
        guard rows > 0, epochs > 0 else { throw ScriptFailure(message: "train: needs data rows and a positive number of epochs") }
        let adam = Adam(params, learningRate: Float(try a.number("lr")))
        let seed = UInt64(bitPattern: Int64(try a.int("seed")))
        let steps = (rows + batch - 1) / batch
        let bar = ProgressBar("train", total: epochs * steps)
        var history: [Value] = []
        for epoch in 0..<epochs {
            var order = Array(0..<rows)
            var g = SeededGenerator(seed: seed &+ UInt64(epoch))
            order.shuffle(using: &g)
            var total = 0.0
            for step in 0..<steps {
                try a.interpreter.checkInterrupt()
                let index = Tensor(order[(step * batch)..<Swift.min(rows, (step + 1) * batch)].map(Float.init))
                let slice: Value
                if case .record(let r) = data {
                    slice = .record(Record(try r.fields.map { ($0.0, .tensor(try ValueConversion.tensor($0.1).gather(index))) }))
                } else {
                    slice = .tensor(try ValueConversion.tensor(data).gather(index))
                }
                let (value, grads) = try valueAndGradient(wrt: params) {
                    let v = try a.interpreter.callValue(lossFunction, [slice])
                    guard case .tensor(let t) = v, t.count == 1 else { throw ScriptFailure(message: "train: loss_fn must return a one-element tensor, got \(v.typeName)") }
                    return t
                }
                guard value.storage[0].isFinite else { throw ScriptFailure(message: "train: the loss became \(value.storage[0]) at epoch \(epoch + 1), step \(step + 1); lower the learning rate") }
                try adam.step(grads)
                total += Double(value.storage[0])
                bar.update(epoch * steps + step + 1, status: String(format: "epoch %d loss %.4f", epoch + 1, total / Double(step + 1)))
            }
            history.append(.number(total / Double(steps)))
        }
        return .list(history)
    }
}
