import Foundation

/// Coarse-to-fine ESL (beyond Docs/METHOD.md): score every rotation of the 1,821 grid on images Fourier-cropped to half
/// size (a quarter of the work per render), keep each image's `keep` best, descend to their children on the
/// next level (about 8 each) and score those at full size, repeat down to the target level, and lift on the
/// union of the kept rotations and their children, re-scored at full size, with J, γ and Q^η of the target
/// level. Rotations never evaluated are taken to lie outside the support, which holds when the kept basins
/// contain the J best rotations of the full grid (true for unimodal measures; measured in Docs/UNKNOWN_POSES.md).
/// With a `ShiftSearch`, every rotation scored on either level is scored at its own best in-plane shift.
public enum CoarseToFinePoseSearch {
    /// ESL estimates for `images` of one structure `coords` (centred, 3N) on the grid of `level` (1 or 2), each image's
    /// evaluated rotations on the last level (best first), and how many distinct rotations were rendered at each size.
    public static func estimate(images: Tensor, coords: [Double], geometry: Projector.Geometry, ctf: [CTFParameters]?,
                                level: Int, keep: Int = 8, lifting: SupportLifting, search: ShiftSearch? = nil) throws -> PoseEstimator.Outcome {
        guard level >= 1, level < SO3Grid.sizes.count else {
            throw KernelError("esl", "coarse-to-fine needs grid level 1 or 2 (level 0 is the coarsest), got \(level)")
        }
        guard keep >= 1 else { throw KernelError("esl", "keep must be at least 1, got \(keep)") }
        let (batch, d) = try FourierFilter.imageBatch(images, op: "esl")
        let coarse = try SO3Grid.level(0)
        // Level 0 on images cropped to half size (when that leaves an even size of at least 16 pixels).
        let half = d / 2
        let cropped = half >= 16 && half % 2 == 0
        let coarseLosses = try Profiler.section("esl: coarse level") {
            let coarseImages = cropped ? try FourierFilter.downsample(images, to: half) : images
            let coarseGeometry = cropped ? try geometry.halved() : geometry
            if let search {
                let coarseSearch = cropped ? try search.resized(size: coarseGeometry.size, pixel: coarseGeometry.pixel) : search
                return try PoseScoring.shiftSearchedLosses(images: coarseImages, coords: coords, geometry: coarseGeometry, ctf: ctf, grid: coarse.rotations,
                                                           pairs: nil, search: coarseSearch).losses
            }
            let flat = try PoseScoring.losses(images: coarseImages, coords: coords, geometry: coarseGeometry, ctf: ctf, grid: coarse.rotations)
            return (0..<batch).map { b in Array(flat[(b * coarse.count)..<((b + 1) * coarse.count)]) }
        }
        var keptIndices: [[Int]] = (0..<batch).map { b in best(keep, of: coarseLosses[b]) }
        var kept: [[Rotation]] = keptIndices.map { $0.map { coarse.rotations[$0] } }
        var fullRenders = 0
        var final: [(rotations: [Rotation], losses: [Double], origins: [(Float, Float)]?)] = []
        for current in 0..<level {
            let grid = try SO3Grid.level(current), finer = try SO3Grid.level(current + 1)
            let children = try grid.children()
            let isLast = current + 1 == level
            // Each image's candidates: its kept rotations' children (and, on the last level, the kept rotations).
            let candidates: [[Rotation]] = (0..<batch).map { b in
                keptIndices[b].flatMap { children[$0].map { finer.rotations[$0] } } + (isLast ? kept[b] : [])
            }
            let (union, positions) = deduplicated(candidates)
            fullRenders += union.count
            let (perImage, origins): ([[Double]], [[(Float, Float)]]?) = try Profiler.section("esl: finer level") {
                if let search {
                    let scored = try PoseScoring.shiftSearchedLosses(images: images, coords: coords, geometry: geometry, ctf: ctf, grid: union,
                                                                     pairs: positions, search: search)
                    return (scored.losses.map { $0.map(Double.init) }, scored.origins)
                }
                let losses = try PoseScoring.losses(images: images, coords: coords, geometry: geometry, ctf: ctf, grid: union)
                return ((0..<batch).map { b in positions[b].map { Double(losses[b * union.count + $0]) } }, nil)
            }
            if isLast {
                final = (0..<batch).map { (candidates[$0], perImage[$0], origins?[$0]) }
            } else {
                let childIndices: [[Int]] = (0..<batch).map { b in keptIndices[b].flatMap { children[$0] } }
                keptIndices = (0..<batch).map { b in best(keep, of: perImage[b].map(Float.init)).map { childIndices[b][$0] } }
                kept = keptIndices.map { $0.map { finer.rotations[$0] } }
            }
        }
        let gridSize = SO3Grid.sizes[level]
        let estimates = Profiler.section("esl: lifting and barycentre") {
            PoseScoring.estimates(batch) { b in
                PoseScoring.estimate(losses: final[b].losses, rotations: final[b].rotations, lifting: lifting, gridSize: gridSize, origins: final[b].origins)
            }
        }
        let candidates: [[Rotation]] = final.map { f in f.losses.indices.sorted { f.losses[$0] < f.losses[$1] }.map { f.rotations[$0] } }
        return PoseEstimator.Outcome(estimates: estimates, candidates: candidates, coarseRenders: coarse.count, fullRenders: fullRenders)
    }

    /// Indices of the `count` smallest values, smallest first, equal values in index order (as a stable sort's prefix),
    /// by insertion into a sorted list of at most `count`: one comparison for most values.
    static func best(_ count: Int, of values: [Float]) -> [Int] {
        var chosen: [Int] = []
        chosen.reserveCapacity(count + 1)
        for (i, value) in values.enumerated() {
            if chosen.count == count, let last = chosen.last, !(value < values[last]) { continue }
            var position = chosen.count
            while position > 0, value < values[chosen[position - 1]] { position -= 1 }
            chosen.insert(i, at: position)
            if chosen.count > count { chosen.removeLast() }
        }
        return chosen
    }

    /// The distinct rotations of all lists (compared exactly) and, for each list, the position of each entry.
    static func deduplicated(_ lists: [[Rotation]]) -> (union: [Rotation], positions: [[Int]]) {
        var union: [Rotation] = [], index: [[Double]: Int] = [:]
        let positions = lists.map { list in
            list.map { r -> Int in
                let key = r.m
                if let i = index[key] { return i }
                index[key] = union.count
                union.append(r)
                return union.count - 1
            }
        }
        return (union, positions)
    }
}
