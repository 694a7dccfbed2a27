/// The images held out from the decoder's gradient, to choose the returned epoch without ground truth.
///
/// A fixed fraction of the dataset, drawn from the training seed (the same images on every run, every rank and
/// after resuming). Held-out images keep their latents, which are still fitted every step with the decoder frozen;
/// the decoder, the image scale and offset, the standardisation of the images and the initial scale and offset
/// learn from the other images only, so the held-out images' data term measures how well the decoder explains
/// images it was not fitted to.
public struct ValidationSplit: Sendable {
    /// The fraction asked for, in [0, 1).
    public let fraction: Double
    /// Whether each image (by dataset index) is held out.
    public let isHeldOut: [Bool]
    /// Number of held-out images: round(fraction × images), at least one when the fraction is positive.
    public let heldOutCount: Int

    /// Holds out `round(fraction × images)` images (at least one when `fraction > 0`) drawn with `seed`; at least
    /// one image always trains the decoder.
    public init(images: Int, fraction: Double, seed: UInt64) throws {
        guard fraction.isFinite, fraction >= 0, fraction < 1 else {
            throw KernelError("train_autodecoder", "validate must be a fraction in [0, 1), got \(fraction)")
        }
        let count = fraction == 0 ? 0 : Swift.max(1, Int((fraction * Double(images)).rounded()))
        guard count < images || count == 0 else {
            throw KernelError("train_autodecoder", "validate: \(fraction) would hold out all \(images) images; at least one must train the decoder")
        }
        var order = Array(0..<images)
        var generator = SeededGenerator(seed: seed ^ 0x5641_4C49_4441_5445)   // "VALIDATE"
        order.shuffle(using: &generator)
        var mask = [Bool](repeating: false, count: images)
        for i in order.prefix(count) { mask[i] = true }
        self.fraction = fraction
        isHeldOut = mask
        heldOutCount = count
    }

    /// `rows` (dataset indices) split into those that train the decoder and those held out, each in the given order.
    public func partition(_ rows: [Int]) -> (training: [Int], heldOut: [Int]) {
        guard heldOutCount > 0 else { return (rows, []) }
        return (rows.filter { !isHeldOut[$0] }, rows.filter { isHeldOut[$0] })
    }
}
