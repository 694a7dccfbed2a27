import Foundation

/// Particle images left in their MRC stacks and read a batch at a time, so a dataset larger than memory can be
/// trained on: each read copies the requested images out of the memory-mapped stacks, resamples them to the
/// dataset's grid (`ImageResampler`, one per optics group), and then tells the kernel it may drop those file
/// pages (`madvise(MADV_DONTNEED)`), so resident memory stays near one batch.
public final class StreamedImages: @unchecked Sendable {
    /// The stack and 0-based image index of every particle.
    public let locations: [(stack: MRCFile, index: Int)]
    /// Image side in pixels after resampling.
    public let size: Int
    /// The resamplers, and which one each particle's image goes through.
    let resamplers: [ImageResampler]
    let resamplerOf: [Int]
    /// The correction of each resampler's (optics group's) antisymmetric aberrations, applied to every image read right
    /// after resampling, and the pixel (Å) of the grid it is applied on; nil for none.
    public var demodulation: (groups: [PhaseDemodulation?], pixel: Float)?
    /// The whitening filter applied to every image read, after resampling, and the pixel (Å) it is applied at
    /// (`ParticleDataset.whitened`); nil for none.
    public var whitening: (filter: NoiseWhitening, pixel: Float)?
    /// The phase randomisation applied to every image read, after whitening (`ParticleDataset.phaseRandomized`): phases
    /// beyond `beyond` Å at `pixel` Å, each particle seeded by `seed`, its stack and its index; nil for none.
    public var phaseRandomization: (beyond: Float, pixel: Float, seed: UInt64)?

    /// Images at `locations`, resampled by `resamplers[resamplerOf[i]]` (none: the stacks hold `size`×`size` images).
    public init(locations: [(stack: MRCFile, index: Int)], size: Int, resamplers: [ImageResampler] = [], resamplerOf: [Int] = [],
                op: String = "read_star") throws {
        guard resamplerOf.isEmpty || resamplerOf.count == locations.count else {
            throw KernelError(op, "\(resamplerOf.count) resampler indices for \(locations.count) images")
        }
        for (k, (stack, index)) in locations.enumerated() {
            let source = resamplerOf.isEmpty ? size : resamplers[resamplerOf[k]].sourceSize
            guard stack.nx == source, stack.ny == source, index >= 0, index < stack.nz else {
                throw KernelError(op, "\(stack.path): image \(index + 1) is not one of its \(stack.nz) images of \(source)×\(source) px (the stack holds \(stack.nx)×\(stack.ny))")
            }
        }
        if let r = resamplers.first(where: { $0.targetSize != size }) {
            throw KernelError(op, "a resampler makes \(r.targetSize) px images for a dataset of \(size) px")
        }
        self.locations = locations
        self.size = size
        self.resamplers = resamplers
        self.resamplerOf = resamplerOf
    }

    /// Number of particles.
    public var count: Int { locations.count }

    /// The images of particles `rows`, concatenated (rows.count·size² values), resampled to the dataset's grid.
    public func read(_ rows: [Int]) throws -> [Float] {
        var out = [Float](repeating: 0, count: rows.count * size * size)
        var byResampler: [Int: [Int]] = [:]           // resampler → positions in `rows`
        for (k, row) in rows.enumerated() {
            guard locations.indices.contains(row) else { throw KernelError("read_star", "particle \(row) is out of range for \(count) particles") }
            byResampler[resamplerOf.isEmpty ? -1 : resamplerOf[row], default: []].append(k)
        }
        for (r, positions) in byResampler {
            var raw: [Float] = []
            for k in positions {
                let (stack, index) = locations[rows[k]]
                raw += try stack.images(index..<(index + 1))
                stack.release(index..<(index + 1))
            }
            var images = r < 0 ? raw : resamplers[r].apply(raw, count: positions.count)
            if let demodulation, r >= 0, r < demodulation.groups.count, let d = demodulation.groups[r] {
                images = d.apply(images, count: positions.count, size: size, pixel: demodulation.pixel)
            }
            if let whitening { images = whitening.filter.apply(images, count: positions.count, size: size, pixel: whitening.pixel) }
            if let p = phaseRandomization {
                let seeds = positions.map { k in NoiseSubstitution.seed(path: locations[rows[k]].stack.path, index: locations[rows[k]].index, seed: p.seed) }
                images = try NoiseSubstitution.randomizedPhases(images, count: positions.count, size: size, pixel: p.pixel, beyond: p.beyond, seeds: seeds)
            }
            let d2 = size * size
            for (j, k) in positions.enumerated() { out.replaceSubrange((k * d2)..<((k + 1) * d2), with: images[(j * d2)..<((j + 1) * d2)]) }
        }
        return out
    }

    /// The particles `rows` as a stream of their own.
    public func subset(_ rows: [Int]) throws -> StreamedImages {
        let out = try StreamedImages(locations: rows.map { locations[$0] }, size: size, resamplers: resamplers,
                                     resamplerOf: resamplerOf.isEmpty ? [] : rows.map { resamplerOf[$0] })
        out.demodulation = demodulation
        out.whitening = whitening
        out.phaseRandomization = phaseRandomization
        return out
    }
}
