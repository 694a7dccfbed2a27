extension AutodecoderTrainer {
    /// Terms per particle of the data term: each image's D² pixels for the built-in image MSE, or the script data
    /// term's own count.
    var dataCount: Double { settings.dataTerm?.count ?? Double(geometry.size * geometry.size) }

    /// The factor the normalisation puts on the data term (D² with `.particle`: the summed squared error per image).
    var dataWeight: Float { settings.normalization.factor(count: dataCount) }

    /// The unweighted data term of conformations `coords` [B,N,3] decoded from `latents` [B,L] of images `indices`,
    /// named for error messages: a mean over the batch of the image MSE (known poses), of the ESL expectation Σβ·L
    /// (unknown poses), or of a script data term's per-image losses. With unknown poses, the pose estimates of the
    /// batch's images are stored into `poses`.
    func dataTerm(indices: Tensor, latents: Tensor, coords: Tensor, scale: Tensor, offset: Tensor, rotations: Tensor,
                  poses: inout [Rotation]) throws -> (String, Tensor) {
        let picked = indices.storage.map { Int($0) }
        if let unknown = settings.unknownPoses {
            let (value, estimates) = try settings.dataTerm.map { loss in
                try unknown.dataTerm(picked: picked, coords: coords, latents: latents, images: try targets(picked), shifts: shifts, dataset: dataset,
                                     geometry: geometry, applyCTF: settings.applyCTF, loss: loss)
            } ?? unknown.dataTerm(picked: picked, coords: coords, images: try targets(picked), shifts: shifts,
                                  dataset: dataset, geometry: geometry, applyCTF: settings.applyCTF)
            for (i, r) in zip(picked, estimates) { poses[i] = r }
            return (settings.dataTerm == nil ? "data term (ESL expected image MSE)" : "script data term (ESL expectation)", value)
        }
        var images = try Projector.project(coords: coords, rotations: try rotations.gather(indices),
                                           shifts: try shifts.gather(indices), geometry: geometry)
        if settings.applyCTF { images = try FourierFilter.applyCTF(images, parameters: picked.map { dataset.ctf[$0] }, pixel: geometry.pixel) }
        let rendered = try images * scale + offset
        if let loss = settings.dataTerm {
            let batch = ImageLoss.Batch(rendered: rendered, images: try targets(picked), latents: latents, indices: picked, candidates: 1)
            return ("script data term", try loss.losses(batch).mean())
        }
        let residual = try rendered - targets(picked)
        return ("data term (image MSE)", try (residual * residual).mean())
    }

    /// The regularised loss of one batch: the data term and every `LossTerm`, each weighted and scaled by the
    /// normalisation's factor for its count, each checked for NaN/Inf. With unknown poses, the pose estimates of the
    /// batch's images are stored into `poses`.
    func loss(indices: Tensor, latents: Tensor, scale: Tensor, offset: Tensor, rotations: Tensor, poses: inout [Rotation]) throws -> Tensor {
        let z = try latents.gather(indices)
        let coords = try decode(z) + template
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
