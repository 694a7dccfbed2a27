import CFFTW
import CKernels
import Foundation

extension PoseScoring {
    /// Each image's losses and best origins at chosen rotations of a grid, one structure shared by all images:
    /// `PoseScoring.losses` with every (image, rotation) pair's rendering moved by its best offset within `search`
    /// of the box centre (`ShiftSearch`). The grid is rendered in chunks, each projection once and transformed as it is
    /// drawn; each pair then costs one correlation window.
    /// - Parameters:
    ///   - pairs: for each image, the grid indices to score (nil: the whole grid for every image).
    /// - Returns: for each image, the loss of each of its pairs and that pair's origin (x, y Å; RELION's).
    static func shiftSearchedLosses(images: Tensor, coords: [Double], geometry: Projector.Geometry, ctf: [CTFParameters]?, grid: [Rotation],
                                    pairs: [[Int]]?, search: ShiftSearch, chunk: Int = 256) throws -> (losses: [[Float]], origins: [[(Float, Float)]]) {
        let (batch, d) = try FourierFilter.imageBatch(images, op: "esl")
        guard d == geometry.size, search.size == d else {
            throw KernelError("esl", "images are \(d) px but the forward model renders \(geometry.size) px and the shift search \(search.size) px")
        }
        guard !grid.isEmpty else { throw KernelError("esl", "the rotation grid is empty") }
        guard coords.count / 3 == geometry.sigma.count, !coords.isEmpty else {
            throw KernelError("esl", "the structure has \(coords.count / 3) atoms but the forward model \(geometry.sigma.count)")
        }
        let ctfs: [CTFParameters]? = try ctf.map { c in
            guard c.count == batch || c.count == 1 else { throw KernelError("esl", "got \(c.count) CTFs for \(batch) images") }
            return c.count == batch ? c : Array(repeating: c[0], count: batch)
        }
        let targets = try CandidateScoring.Targets(images: images, ctf: ctfs, geometry: geometry, spectra: true, op: "esl")
        // Each image's pairs as (grid index, position in its list), sorted by grid index.
        let wanted: [[(Int, Int)]] = (0..<batch).map { b in
            guard let pairs else { return grid.indices.map { ($0, $0) } }
            return pairs[b].enumerated().map { ($1, $0) }.sorted { $0.0 < $1.0 }
        }
        for list in wanted where list.contains(where: { $0.0 < 0 || $0.0 >= grid.count }) {
            throw KernelError("esl", "a rotation index lies outside the grid of \(grid.count)")
        }
        // Flat tables: image b's pairs start at `first[b]`.
        var first = [0]
        for list in wanted { first.append(first.last! + list.count) }
        var losses = [Float](repeating: 0, count: first[batch])
        var origins = [(Float, Float)](repeating: (0, 0), count: first[batch])
        var cursors = [Int](repeating: 0, count: batch)
        let template = coords.map(Float.init)
        let pixels = d * d, per = search.planeFloats
        // Each image's Parseval weights laid out as a split plane, for the energies the search computes.
        let powers = targets.image.map { ShiftSearch.paddedPower($0.power, size: d) }
        for start in stride(from: 0, to: grid.count, by: chunk) {
            let count = Swift.min(chunk, grid.count - start)
            // Skip chunks no image needs.
            guard (0..<batch).contains(where: { cursors[$0] < wanted[$0].count && wanted[$0][cursors[$0]].0 < start + count }) else { continue }
            let planes = renderedPlanes(coords: template, rotations: Array(grid[start..<(start + count)]), geometry: geometry, search: search)
            let ends: [Int] = (0..<batch).map { b in
                var end = cursors[b]
                while end < wanted[b].count && wanted[b][end].0 < start + count { end += 1 }
                return end
            }
            losses.withUnsafeMutableBufferPointer { l in origins.withUnsafeMutableBufferPointer { o in planes.withUnsafeBufferPointer { p in
                let (lossOut, originOut) = (SharedPointer(base: l.baseAddress!), SharedPointer(base: o.baseAddress!))
                let cursorsNow = cursors
                Parallel.forRanges(batch, grain: 1) { range in
                    let scratch = ShiftSearch.Scratch(search)
                    for b in range {
                        targets.planes.withUnsafeBufferPointer { z in powers[b].withUnsafeBufferPointer { power in
                            for (q, position) in wanted[b][cursorsNow[b]..<ends[b]] {
                                let rendering = p.baseAddress! + (q - start) * per
                                let (offset, dot, energy) = search.best(z: z.baseAddress! + b * per, p: rendering, power: power.baseAddress, scratch)
                                // The rendering's sum is its spectrum's zero frequency, the first entry of its real plane.
                                let score = CandidateScoring.Score(dot: dot, energy: energy, total: rendering[0], dc: targets.image[b].dc, pixels: pixels)
                                lossOut.base[first[b] + position] = score.loss(size: d)
                                originOut.base[first[b] + position] = search.originChange(offset)
                            }
                        } }
                    }
                }
            } } }
            cursors = ends
        }
        return ((0..<batch).map { Array(losses[first[$0]..<first[$0 + 1]]) }, (0..<batch).map { Array(origins[first[$0]..<first[$0 + 1]]) })
    }

    /// The unnormalised half spectra of the atoms `coords` (N·3 floats, Å) rendered at each of `rotations`, as the split
    /// planes of `search` (`planeFloats` each), each rendering transformed as it is drawn (in parallel over the
    /// rotations; the renderings are not kept).
    static func renderedPlanes(coords: [Float], rotations: [Rotation], geometry: Projector.Geometry, search: ShiftSearch) -> [Float] {
        let (d, atoms, per) = (geometry.size, coords.count / 3, search.planeFloats)
        let kernel = Projector.Kernel(geometry: geometry, rotations: rotations, shifts: [Float](repeating: 0, count: 2 * rotations.count), atoms: atoms,
                                      shared: true)
        // Every plane is written whole.
        var out = [Float](unsafeUninitializedCapacity: rotations.count * per) { _, count in count = rotations.count * per }
        coords.withUnsafeBufferPointer { c in out.withUnsafeMutableBufferPointer { o in
            let result = SharedPointer(base: o.baseAddress!)
            Parallel.forRanges(rotations.count, grain: 4) { range in
                let (scratch, w) = (Projector.Kernel.Scratch(size: d, atoms: atoms), FFT.Workspace(size: d))
                for q in range {
                    kernel.render(q, c.baseAddress!, w.real, scratch)
                    FFT.shared.forward(w)
                    cryo_split_spectrum(UnsafeRawPointer(w.spectrum).assumingMemoryBound(to: Float.self), d, d / 2 + 1, result.base + q * per)
                }
            }
        } }
        return out
    }
}
