import CryoKernels

/// Unknown orientations: SO(3) grids and ellipsoidal support lifting (ESL).
enum PoseBuiltins {
    static let topic = "poses"

    static var all: [Builtin] {
        [
            builtin("so3_grid", topic: topic, [optional("level", .number(1))],
                    doc: "A near-uniform SO(3) grid (super-Fibonacci): level 0, 1, 2 → 1,821, 14,761, 114,564 rotations [Q,3,3] (mesh ≈ 17°, 8.4°, 4.2°).",
                    example: "let grid = so3_grid(level: 0)") { a in
                .tensor(Rotation.tensor(try SO3Grid.level(try a.int("level")).rotations))
            },
            builtin("grid_coverage", topic: topic, [optional("level", .number(1)), optional("samples", .number(2000)), optional("seed", .number(0))],
                    doc: "Distances (degrees) from random rotations to the nearest grid rotation: {radius (the largest), median}.",
                    example: "grid_coverage(level: 0)") { a in
                let (radius, median) = try SO3Grid.level(try a.int("level")).coverage(samples: Swift.max(1, try a.int("samples")),
                                                                                       seed: UInt64(bitPattern: Int64(try a.int("seed"))))
                return .record(Record([("radius", .number(radius)), ("median", .number(median))]))
            },
            builtin("esl", topic: topic, [required("images"), required("like"), optional("ctf", .null), optional("grid", .number(1)),
                                          optional("eta", .number(2.0 / 3.0)), optional("j0", .number(15)), optional("pixel", .null),
                                          optional("sigma", .string("residue")), optional("weights", .string("residue")),
                                          optional("coarse_to_fine", .bool(true)), optional("keep", .number(16)), optional("conformations", .null),
                                          optional("states", .null), optional("labels", .null), optional("shifts", .null), optional("max_shift", .number(0)), optional("refine", .number(0)),
                                          optional("blur", .number(0)), optional("classify", .string("hard")), optional("centre", .string("centroid")),
                                          optional("map", .null)],
                    doc: "Poses of images [B,D,D] (or a streamed stack, read_star(..., stream: true): only the images searched are read) of one structure (like:) by ESL over the SO(3) grid of level grid: the sparse measure's barycentre. ctf: a dataset, record or ctf(...) (one CTF, or one per image); pixel: (Å) unless ctf: is a dataset; sigma:, weights: as in project; eta, j0: the ESL measure's parameters. coarse_to_fine (default on levels 1–2) scores the 1,821 grid on half-size images (when half the size is even and at least 16 px; else at full size) and descends into the children of each image's keep best rotations; false scores the whole grid as the paper does. conformations: [B,N,3] scores each image against its own conformation (as training does; nothing is shared between images). states: [K,N,3] structures shared by all images (k-means states, centroids, classes), each rendered once for all of them: with labels: [B] (0-based) each image is scored against its own state; without, against every state, keeping the search whose pose scores lowest (pose_loss), as a 3D classification assigns a particle (K searches' cost); classify: \"soft\" returns instead the states' poses and origins averaged with their posterior weights (state_weights [B,K]), exp(−D²·(ρ_best² − ρ_k²)/(2·(1 − ρ_best²))) with ρ = 1 − pose_loss/2 the correlation and the noise estimated from the best state's fit (nothing tuned), over the states whose pose lies within 20° of the best one's, as RELION marginalises over classes. shifts: [B,2] RELION origins (Å) of the images, which are centred (moved by +origin) before scoring; without it the images are taken as centred. max_shift: r (Å) scores every rotation at its best in-plane shift within r of that centre, found by FFT cross-correlation (one inverse FFT per image and rotation), and returns the estimated origins. refine: n takes n gradient steps on each image's rotation (and, with max_shift, its origin, kept within max_shift) from the barycentre, beyond the grid's mesh, as training refines its poses. blur: b (Å, a number or [N] per atom) widens every atom's Gaussian to √(σ² + b²): with states, their spread (states(...).spread) blurs each state where its members scatter about its centre, a reference low-pass filtered where it is uncertain. centre: \"centroid\" (default) rotates every structure about its own centroid, as simulations render; \"map\" with map: read_mrc(consensus map) or {box, pixel} rotates them about the map's box centre, as RELION's poses and train_autodecoder's centre: \"map\" do, so the origins found are RELION's for a model fitted into that map. Returns {rotations (refined with refine:), argmin, loss (argmin's), pose_loss (the loss at the returned pose: the refined one's with refine:, else loss), support, confidence (spread, degrees; large = unreliable), shifts ([B,2] RELION origins, Å: the given ones, plus the search's), state ([B], with states: each image's best-scoring state), state_weights, coarse_renders, full_renders}. Under mpirun each rank searches its own block of the images and every rank gets every result (each image's search is its own: one process's, up to the rounding of images resampled on read in other batches).",
                    example: "let est = esl(data.images, like: s, ctf: data, grid: 1, max_shift: 8); median(angular_error(est.rotations, data.rotations))") { a in
                let images = try ImageRows(a)
                let batch = images.count
                let structure = try a.structure("like")
                guard structure.count > 0 else { throw ScriptFailure(message: "esl: the structure has no atoms") }
                let (pixel, ctf) = try DatasetValue.pixelAndCTF(a, images: batch)
                let geometry = try Projector.Geometry(
                    size: images.size, pixel: Float(pixel), sigma: try a.blurredWidths(count: structure.count, template: structure),
                    weight: try a.atomValues("weights", count: structure.count, template: structure, residue: { $0.electrons }, unit: 1))
                let origins = try DatasetValue.origins(a, images: batch)
                let maxShift = try a.number("max_shift")
                var estimator = try PoseEstimator(level: try a.int("grid"), coarseToFine: try a.bool("coarse_to_fine"), keep: try a.int("keep"),
                                                  lifting: try SupportLifting(eta: try a.number("eta"), j0: try a.number("j0")),
                                                  search: maxShift > 0 ? try ShiftSearch(size: images.size, pixel: Float(pixel), maxShift: maxShift) : nil)
                let refineSteps = try a.int("refine")
                guard refineSteps >= 0 else { throw ScriptFailure(message: "esl: refine: must be a number of steps ≥ 0, got \(refineSteps)") }
                if refineSteps > 0 {
                    estimator.refinement = try PoseRefinement(steps: refineSteps, rotations: true, origins: maxShift > 0, shiftBound: maxShift > 0 ? maxShift : nil)
                }
                // One structure for every image, (conformations:) one per image, each scored alone, or (states:) a few shared
                // ones, each image scored against its labelled state or against all of them; each placed about the
                // rotation centre.
                let centre = try RotationCentreArgument.parse(a, op: "esl")
                var structures = [AutodecoderTrainer.placed(structure.models[0], centre: centre)], choices = [[Int](repeating: 0, count: batch)]
                let per = structure.count * 3
                if !a.isNull("conformations") {
                    guard a.isNull("states") else { throw ScriptFailure(message: "esl: give conformations: (one per image) or states: (shared), not both") }
                    let conformations = try a.tensor("conformations")
                    guard conformations.shape == [batch, structure.count, 3] else {
                        throw a.fail("conformations", "conformations [\(batch),\(structure.count),3] (one per image)", a["conformations"])
                    }
                    structures = (0..<batch).map { b in AutodecoderTrainer.placed(conformations.storage[(b * per)..<((b + 1) * per)].map(Double.init), centre: centre) }
                    choices = [Array(0..<batch)]
                }
                if !a.isNull("states") {
                    let states = try a.tensor("states")
                    guard states.rank == 3, states.shape[0] >= 1, states.shape[1] == structure.count, states.shape[2] == 3 else {
                        throw a.fail("states", "states [K,\(structure.count),3] (shared structures)", a["states"])
                    }
                    structures = (0..<states.shape[0]).map { k in AutodecoderTrainer.placed(states.storage[(k * per)..<((k + 1) * per)].map(Double.init), centre: centre) }
                    choices = structures.indices.map { [Int](repeating: $0, count: batch) }
                    if !a.isNull("labels") {
                        let labels = try a.tensor("labels").storage
                        guard labels.count == batch, labels.allSatisfy({ $0 >= 0 && $0 < Float(structures.count) && $0 == $0.rounded() }) else {
                            throw a.fail("labels", "[\(batch)] state numbers from 0 to \(structures.count - 1)", a["labels"])
                        }
                        choices = [labels.map { Int($0) }]
                    }
                } else if !a.isNull("labels") {
                    throw ScriptFailure(message: "esl: labels: numbers each image's state among states:, which is missing")
                }
                let classification = try a.choice("classify", PoseEstimator.Classification.self)
                if classification == .soft, a.isNull("states") || !a.isNull("labels") {
                    throw ScriptFailure(message: "esl: classify: \"soft\" weighs each image's searches against several states: give states: without labels:")
                }
                let soft = classification == .soft ? try SoftClassification(pixels: images.size * images.size) : nil
                // Under MPI each rank searches its own block of the images; the results are then gathered.
                let shard = DataShard(total: batch)
                let rows = Array(shard.rows)
                let bar = ProgressBar(choices.count > 1 ? "esl, \(choices.count) states" : "esl", total: rows.count * choices.count)
                let classified = try estimator.estimateBest(rows: rows, images: images.read, structures: structures,
                                                            choices: choices.map { c in rows.map { c[$0] } }, geometry: geometry,
                                                            ctf: ctf.map { c in { c[c.count == 1 ? 0 : $0] } },
                                                            origins: origins.map { o in rows.flatMap { [o[2 * $0], o[2 * $0 + 1]] } }, soft: soft,
                                                            progress: { bar.update($0) })
                let found = try SearchedPoses(classified).gathered(over: shard)
                let rotation = { (values: [Float]) in try Tensor(shape: [batch, 3, 3], storage: values) }
                return .record(Record([
                    ("rotations", .tensor(try rotation(found.rotations))), ("argmin", .tensor(try rotation(found.argmins))),
                    ("loss", .tensor(Tensor(found.losses))), ("pose_loss", .tensor(Tensor(found.poseLosses))),
                    ("support", .tensor(Tensor(found.supports))), ("confidence", .tensor(Tensor(found.spreads))),
                    ("shifts", .tensor(try Tensor(shape: [batch, 2], storage: found.origins))),
                    ("state", a.isNull("states") ? .null : .tensor(Tensor(found.chosen))),
                    ("state_weights", soft == nil ? .null : .tensor(try Tensor(shape: [batch, choices.count], storage: found.weights))),
                    ("coarse_renders", .number(found.coarseRenders)), ("full_renders", .number(found.fullRenders)),
                ]))
            },
            builtin("esl_loss", topic: topic, [required("losses"), optional("eta", .number(2.0 / 3.0)), optional("j0", .number(15))],
                    doc: "Expected loss Σ_q β_q L_q under the ESL measure for each row of losses [B,Q] → [B]; differentiable through β.",
                    example: "mean(esl_loss(L))") { a in
                .tensor(try SupportLifting(eta: try a.number("eta"), j0: try a.number("j0")).expectedLoss(try a.tensor("losses")))
            },
        ]
    }
}
