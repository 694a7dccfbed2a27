/// A data term given as a function (a script's `data:`): a loss for each rendering against its image, which
/// replaces the image MSE with known poses and the candidate scores L_q inside the ESL expectation with unknown ones.
///
/// Like a `LossTerm` it is a mean: each rendering's loss is a mean over `count` terms per particle (nil: the D²
/// pixels, as the image MSE), and the normalisation multiplies the batch mean by that count with `.particle`.
public struct ImageLoss: Sendable {
    /// What the function sees of one batch of B images.
    public struct Batch {
        /// Renderings [R,D,D] of the batch's decoded conformations through each image's CTF. Known poses (R = B): on the
        /// images' scale (× the learnt image scale, + offset). Unknown poses (R = B·K): each image's K candidate
        /// rotations, image-major, each rendering standardised to zero mean and unit variance as the pose search
        /// compares them. Recorded: gradients reach the decoder, the latents (and the scale and offset).
        public let rendered: Tensor
        /// The images [R,D,D] standardised over the dataset (known poses), or each image standardised on its own and
        /// repeated for its K candidates (unknown poses).
        public let images: Tensor
        /// The batch's latents [B,L] (recorded).
        public let latents: Tensor
        /// The dataset index of each of the B images.
        public let indices: [Int]
        /// Renderings per image: 1 with known poses, K with unknown ones.
        public let candidates: Int
    }

    /// Terms per particle each rendering's loss averages over; nil for the D² pixels.
    public let count: Double?
    /// Each rendering's loss: [R], or [R,D,D] per pixel (then averaged over each rendering's pixels).
    public let value: @Sendable (Batch) throws -> Tensor

    public init(count: Double?, value: @escaping @Sendable (Batch) throws -> Tensor) {
        (self.count, self.value) = (count, value)
    }

    /// The losses [R] of `batch`'s renderings: `value` checked for its shape, per-pixel values averaged per rendering.
    func losses(_ batch: Batch) throws -> Tensor {
        let r = batch.rendered.shape[0], d = batch.rendered.shape[1]
        let out = try value(batch)
        if out.shape == [r] { return out }
        if out.shape == [r, d, d] { return try out.reshape([r, d * d]).mean(axis: 1) }
        throw KernelError("train_autodecoder", "the script data term returned a tensor of shape \(formatShape(out.shape)); it must give one loss per rendering, [\(r)], or one per pixel, [\(r),\(d),\(d)]")
    }
}

extension UnknownPoses {
    /// The ESL data term with a script's losses in place of the fused scores (`dataTerm(picked:coords:images:…)`):
    /// every image's conformation rendered at its current candidates (`poses`) and origin through its CTF and
    /// standardised, each image standardised and repeated for its candidates, L [B,K] from `loss`, then the mean over
    /// the batch of Σβ·L, each image's barycentre and its worst-scored candidate (shifts are not searched here). The
    /// renderings are taped as [B·K,D,D] tensors, so this costs far more than the fused op.
    func dataTerm(picked: [Int], coords: Tensor, latents: Tensor, images targets: Tensor, poses: TrainingPoses, dataset: ParticleDataset,
                  geometry: Projector.Geometry, applyCTF: Bool, loss: ImageLoss) throws -> (Tensor, [Rotation], worst: [Int]) {
        let (rotations, k) = candidates(picked, poses), b = picked.count, d = geometry.size
        let rows = Tensor((0..<(b * k)).map { Float($0 / k) })
        let origins = Tensor(uncheckedShape: [b * k, 2], storage: picked.flatMap { i in (0..<k).flatMap { _ in [poses.origins[2 * i], poses.origins[2 * i + 1]] } })
        var rendered = try Projector.project(coords: try coords.gather(rows), rotations: Rotation.tensor(rotations), shifts: origins, geometry: geometry)
        if applyCTF { rendered = try FourierFilter.applyCTF(rendered, parameters: picked.flatMap { i in Array(repeating: dataset.ctf[i], count: k) }, pixel: geometry.pixel) }
        let flat = try rendered.reshape([b * k, d * d])
        let centred = try flat - flat.mean(axis: 1, keepDims: true)
        let deviation = try ((centred * centred).mean(axis: 1, keepDims: true) + 1e-24).sqrt()
        let standardised = try (centred / deviation).reshape([b * k, d, d])
        let images = Tensor(uncheckedShape: [b, d, d], storage: PoseScoring.standardisedRows(targets.storage, length: d * d))
        let batch = ImageLoss.Batch(rendered: standardised, images: try images.gather(rows), latents: latents, indices: picked, candidates: k)
        let losses = try loss.losses(batch).reshape([b, k])
        let expected = try lifting.expectedLoss(losses, gridSize: gridSize).mean()
        let poses = (0..<b).map { i -> Rotation in
            let l = (0..<k).map { Double(losses.storage[i * k + $0]) }
            return SupportLifting.barycentre(Array(rotations[(i * k)..<((i + 1) * k)]), lifting.measure(l, gridSize: gridSize))
        }
        return (expected, poses, UnknownPoses.worst(losses))
    }
}
