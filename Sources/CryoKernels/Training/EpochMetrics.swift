/// What `AutodecoderTrainer` measures after every epoch, over every image of the dataset.
struct EpochMetrics {
    /// RMS deviation (Å) of the decoded consecutive-Cα distances from the template's.
    var bondRMS: Double
    /// Mean per-image Kabsch RMSD (Å) to the ground truth, when it is known.
    var rmsd: Double?
    /// Mean data term of the held-out images (the loss's data part, see `TrainingHistory.validation`), when some are held out.
    var validation: Double?
    /// Mean over latent dimensions of the latents' standard deviation across images.
    var latentSpread: Double
}

extension AutodecoderTrainer {
    /// Closes epoch `progress.epoch` after its steps: records its mean loss, the pose errors (unknown poses with the
    /// true rotations), the `measure`d figures, keeps the state when `keeper` now picks this epoch, and moves the
    /// progress to the start of the next epoch.
    func evaluateEpoch(_ state: State, _ progress: inout TrainingProgress) throws {
        progress.history.loss.append(progress.lossSum / Double(stepsPerEpoch))
        try state.poses.recordErrors(rows: shard.rows, truth: settings.unknownPoses?.truth, truthOrigins: settings.unknownPoses?.truthOrigins,
                                     into: &progress.history)
        let metrics = try measure(state)
        progress.history.bondRMS.append(metrics.bondRMS)
        progress.history.latentSpread.append(metrics.latentSpread)
        if let rmsd = metrics.rmsd { progress.history.rmsd.append(rmsd) }
        if let validation = metrics.validation { progress.history.validation.append(validation) }
        progress.epoch += 1
        if keeper != .last, keeper.pick(progress.history) == progress.epoch {
            state.kept = state.trainable.map(\.storage)
            progress.keptEpoch = progress.epoch
            progress.keptBy = keeper.rawValue
            progress.keptRMSD = keeper == .oracle ? progress.history.rmsd[progress.epoch - 1] : nil
        }
        progress.step = 0
        progress.lossSum = 0
    }

    /// Measures the state after an epoch without recording: each MPI rank decodes its own images and sums the
    /// squared bond deviations, the RMSDs, the held-out images' data terms and the latents' first and second moments;
    /// one allreduce adds the sums. The held-out data term renders the held-out images once more (a forward pass
    /// over `validate` × the dataset, no gradient).
    func measure(_ state: State) throws -> EpochMetrics {
        let rows = Array(shard.rows), width = latentDimension
        // Σ bond² × images, Σ RMSD, images, Σ held-out data term, held-out images, then Σz and Σz² per latent dimension.
        var sums = [Double](repeating: 0, count: 5 + 2 * width)
        sums[2] = Double(rows.count)
        if !rows.isEmpty {
            let latents = try state.latents.gather(Tensor(rows.map(Float.init)))
            let predicted = try conformations(latents)
            sums[0] = Double(try regularizers.bond(predicted).storage[0]) * Double(rows.count)
            let per = nodes * 3
            if let truth {
                sums[1] = ReconstructionMetrics(predicted: rows.indices.map { i in predicted.storage[(i * per)..<((i + 1) * per)].map(Double.init) },
                                                truth: Array(truth[shard.rows])).mean * Double(rows.count)
            }
            let heldOut = rows.indices.filter { split.isHeldOut[rows[$0]] }
            var poses = state.poses   // a held-out measurement must not move the pose estimates
            for start in stride(from: 0, to: heldOut.count, by: 256) {
                let chunk = Array(heldOut[start..<Swift.min(heldOut.count, start + 256)])
                let local = Tensor(chunk.map(Float.init))
                let (_, term) = try dataTerm(indices: Tensor(chunk.map { Float(rows[$0]) }), latents: try latents.gather(local), coords: try predicted.gather(local),
                                             scale: state.scale, offset: state.offset, rotations: state.rotations, poses: &poses)
                sums[3] += Double(term.storage[0]) * Double(dataWeight) * Double(chunk.count)
            }
            sums[4] = Double(heldOut.count)
            for (k, z) in latents.storage.enumerated() {
                sums[5 + k % width] += Double(z)
                sums[5 + width + k % width] += Double(z) * Double(z)
            }
        }
        try World.sum(&sums)
        let images = sums[2]
        var spread = 0.0
        for d in 0..<width {
            let mean = sums[5 + d] / images
            spread += Swift.max(0, sums[5 + width + d] / images - mean * mean).squareRoot()
        }
        return EpochMetrics(bondRMS: (sums[0] / images).squareRoot(), rmsd: truth == nil ? nil : sums[1] / images,
                            validation: sums[4] > 0 ? sums[3] / sums[4] : nil, latentSpread: spread / Double(width))
    }
}
