extension AutodecoderTrainer {
    /// Writes `settings.checkpoint` (when set) from rank 0: the progress as the header, then every trainable tensor,
    /// Adam's moments, the kept epoch's values and, when poses move, every image's pose state. Under MPI each rank holds only its own latent rows; they are
    /// gathered first, so the file holds the whole state and resumes on any number of ranks.
    func save(_ state: State, _ progress: TrainingProgress) throws {
        guard let path = settings.checkpoint else { return }
        let adam = state.adam.state
        var header = Checkpoint.Header(model: modelName, progress: progress, adamStep: adam.step, shapes: state.trainable.map(\.shape))
        (header.imageSize, header.pixel, header.whitened) = (dataset.size, Double(dataset.pixel), dataset.isWhitened)
        let checkpoint = Checkpoint(header: header,
                                    values: try whole(state.trainable.map(\.storage), state), firstMoments: try whole(adam.m, state),
                                    secondMoments: try whole(adam.v, state), bestValues: try state.kept.map { try whole($0, state) },
                                    poseValues: movesPoses ? try World.gather(state.poses.values(shard.rows)) : nil)
        if World.isRoot { try checkpoint.write(path) }
    }

    /// Loads the checkpoint at `path` into `state` (values, Adam, the kept epoch's values) and returns the progress it
    /// recorded, after checking that it belongs to this run: the same model and shapes, images of the same size and
    /// pixel, whitened or not as they were, the same held-out images and the same rule choosing the kept epoch, and
    /// written with this version's CTF sign when the CTF is applied.
    func resume(_ state: State, from path: String) throws -> TrainingProgress {
        let c = try Checkpoint.read(path, expecting: state.trainable.map(\.shape), model: modelName)
        let progress = c.header.progress
        if c.header.version < 2 && settings.applyCTF {
            throw KernelError("resume", "\(path) was written before CryoScript's CTF took RELION's sign (checkpoint version \(c.header.version); RELION's particles are white on black), so with the CTF applied its learnt image scale (images read from a file) or image offset (images simulated by CryoScript) has the wrong sign for this version's images; train afresh rather than resume it")
        }
        if let size = c.header.imageSize, let pixel = c.header.pixel, size != dataset.size || abs(pixel - Double(dataset.pixel)) > 1e-4 * pixel {
            throw KernelError("resume", "\(path) was trained on images of \(size) px at \(Float(pixel)) Å/px but this run's are \(dataset.size) px at \(dataset.pixel) Å/px; resume with the same images (the same size: when reading them)")
        }
        if let recorded = c.header.whitened, recorded != dataset.isWhitened {
            throw KernelError("resume", "\(path) was trained on \(recorded ? "whitened" : "unwhitened") images but this run's are \(dataset.isWhitened ? "whitened" : "not whitened"); resume with the images prepared the same way (whiten, --whiten)")
        }
        guard progress.heldOut == split.heldOutCount else {
            throw KernelError("resume", "\(path) held out \(progress.heldOut) images from the decoder but this run holds out \(split.heldOutCount); resume with the same validate: and seed:")
        }
        if let keptBy = progress.keptBy, progress.keptEpoch != nil, keptBy != keeper.rawValue {
            throw KernelError("resume", "\(path) kept the epoch chosen by \"\(keptBy)\" but this run selects by \"\(keeper.rawValue)\"; resume with the same select: and keep_best:")
        }
        for (t, v) in zip(state.trainable, c.values) { t.storage = v }
        try state.adam.restore(step: c.header.adamStep, m: c.firstMoments, v: c.secondMoments)
        if progress.keptEpoch != nil { state.kept = c.bestValues }
        if let values = c.poseValues { try state.poses.restore(values) }
        return progress
    }

    /// `values` (one array per trainable tensor, this rank's latent rows only) with the latent table gathered whole.
    private func whole(_ values: [[Float]], _ state: State) throws -> [[Float]] {
        let latentIndex = state.trainable.firstIndex { $0 === state.latents } ?? modelParameters.count
        var out = values
        out[latentIndex] = try shard.gatherRows(values[latentIndex], width: latentDimension)
        return out
    }
}
