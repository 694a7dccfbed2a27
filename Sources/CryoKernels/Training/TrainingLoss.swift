extension AutodecoderTrainer {
    /// Terms per particle of the data term: each image's D² pixels for the built-in image MSE, or the script data
    /// term's own count.
    var dataCount: Double { settings.dataTerm?.count ?? Double(geometry.size * geometry.size) }

    /// The factor the normalisation puts on the data term (D² with `.particle`: the summed squared error per image).
    var dataWeight: Float { settings.normalization.factor(count: dataCount) }

    /// The unweighted data term of conformations `coords` [B,N,3] decoded from `latents` [B,L] of images `indices`,
    /// named for error messages: a mean over the batch of the image MSE (known poses), of the ESL expectation Σβ·L
    /// (unknown poses), or of a script data term's per-image losses. With unknown poses or refined shifts, the batch's
    /// images' poses in `poses` are updated.
    func dataTerm(indices: Tensor, latents: Tensor, coords: Tensor, scale: Tensor, offset: Tensor, rotations: Tensor,
                  poses: inout TrainingPoses) throws -> (String, Tensor) {
        let picked = indices.storage.map { Int($0) }
        let ctf = settings.applyCTF ? picked.map { dataset.ctf[$0] } : nil
        if let unknown = settings.unknownPoses {
            if let loss = settings.dataTerm {
                let images = try targets(picked)
                let (value, estimates, worst) = try unknown.dataTerm(picked: picked, coords: coords, latents: latents, images: images, poses: poses,
                                                              dataset: dataset, geometry: geometry, applyCTF: settings.applyCTF, loss: loss)
                try unknown.update(&poses, picked: picked, estimates: estimates, origins: picked.flatMap { [poses.origins[2 * $0], poses.origins[2 * $0 + 1]] },
                                   worst: worst, coords: coords,
                                   targets: { try self.scoringTargets.targets(picked, images: images, ctf: ctf, geometry: self.geometry, planes: false, op: "refine") },
                                   geometry: geometry)
                return ("script data term (ESL expectation)", value)
            }
            let value = try unknown.dataTerm(picked: picked, coords: coords, images: try targets(picked), poses: &poses, ctf: ctf, geometry: geometry,
                                             cache: scoringTargets)
            return ("data term (ESL expected image MSE)", value)
        }
        if let refinement = settings.shiftRefinement {
            let kept = try scoringTargets.targets(picked, images: try targets(picked), ctf: ctf, geometry: geometry, planes: false, op: "refine")
            let refined = try refinement.refine(coords: coords.detached(), targets: kept, geometry: geometry,
                                                rotations: picked.map { dataset.rotations[$0] }, origins: picked.flatMap { [poses.origins[2 * $0], poses.origins[2 * $0 + 1]] })
            for (n, i) in picked.enumerated() { (poses.origins[2 * i], poses.origins[2 * i + 1]) = (refined.origins[2 * n], refined.origins[2 * n + 1]) }
        }
        let origins = Tensor(uncheckedShape: [picked.count, 2], storage: picked.flatMap { [poses.origins[2 * $0], poses.origins[2 * $0 + 1]] })
        var images = try Projector.project(coords: coords, rotations: try rotations.gather(indices), shifts: origins, geometry: geometry)
        if settings.applyCTF { images = try FourierFilter.applyCTF(images, parameters: picked.map { dataset.ctf[$0] }, pixel: geometry.pixel) }
        if let loss = settings.dataTerm {
            let batch = ImageLoss.Batch(rendered: try images * scale + offset, images: try targets(picked), latents: latents, indices: picked,
                                        candidates: 1)
            return ("script data term", try loss.losses(batch).mean())
        }
        return ("data term (image MSE)", try images.scaledSquaredError(scale: scale, offset: offset, target: targets(picked)))
    }

    /// The regularised loss of one batch: the data term and every `LossTerm`, each weighted and scaled by the
    /// normalisation's factor for its count, each checked for NaN/Inf. With unknown poses, the pose estimates of the
    /// batch's images are stored into `poses`.
    func loss(indices: Tensor, latents: Tensor, scale: Tensor, offset: Tensor, rotations: Tensor, poses: inout TrainingPoses) throws -> Tensor {
        let z = try latents.gather(indices)
        let coords = try decoded(z)
        let (name, data) = try dataTerm(indices: indices, latents: z, coords: coords, scale: scale, offset: offset, rotations: rotations, poses: &poses)
        var total = try weighted(data, by: dataWeight, name: name)
        let batch = LossTerm.Batch(coords: coords, latents: z, images: indices.storage.map { Int($0) })
        for term in terms {
            let factor = term.weight * settings.normalization.factor(count: term.count)
            total = try total + weighted(try term.value(batch), by: factor, name: "reg.\(term.key) term")
        }
        return total
    }

    /// `value` × `factor` after checking that `value` is one finite number (named `name` in the error).
    private func weighted(_ value: Tensor, by factor: Float, name: String) throws -> Tensor {
        guard value.count == 1 else {
            throw KernelError("train_autodecoder", "the \(name) must be one number, got a tensor of shape \(formatShape(value.shape))")
        }
        let v = value.storage[0]
        guard v.isFinite else {
            throw KernelError("train_autodecoder", "the \(name) became \(v.isNaN ? "NaN" : "infinite"); lower the learning rate or the regulariser weights")
        }
        return factor == 1 ? value : try value * factor
    }
}
