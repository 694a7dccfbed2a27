import Foundation

/// Each training image's scoring targets (`CandidateScoring.Targets.Row`: the image standardised and filtered by its
/// CTF, its split planes for the shift search, its CTF's factors), made once per image and image size and kept for
/// the rest of the run: a step of pose-marginalised training (or of known-pose training that refines shifts) then
/// neither re-filters nor re-transforms its images (about a quarter of a local-phase step of 32 images at 64²). Rows are kept while they fit in `budget` bytes; past
/// it they are made again at every visit, with the same values. Safe to use from several threads.
final class ScoringTargetCache: @unchecked Sendable {
    /// Bytes of rows kept at most.
    let budget: Int
    private var rows: [Int: [Int: CandidateScoring.Targets.Row]] = [:]
    private var bytes = 0
    private let lock = NSLock()

    init(budget: Int = 1 << 30) { self.budget = budget }

    /// The targets of dataset images `picked` at `size` pixels, with their split planes when `planes`; `make` gives the
    /// targets of the images at the positions (into `picked`) it is passed, those not kept yet, with planes when asked;
    /// `op` names the caller in errors.
    func targets(_ picked: [Int], size: Int, planes: Bool, op: String,
                 make: (_ positions: [Int]) throws -> CandidateScoring.Targets) throws -> CandidateScoring.Targets {
        let kept: [CandidateScoring.Targets.Row?] = lock.withLock { picked.map { rows[size]?[$0] } }
        let missing = kept.indices.filter { kept[$0] == nil }
        let fresh = missing.isEmpty ? nil : try make(missing)
        if let fresh, fresh.size != size || fresh.image.count != missing.count {
            throw KernelError(op, "scoring targets were made for \(fresh.image.count) images of \(fresh.size) px, not \(missing.count) of \(size) px")
        }
        // The kept rows, and the fresh ones in the order of `missing`.
        var complete: [CandidateScoring.Targets.Row] = [], made = 0
        complete.reserveCapacity(picked.count)
        for row in kept {
            if let row {
                complete.append(row)
            } else if let fresh {
                complete.append(fresh.row(made))
                made += 1
            }
        }
        // Rows kept without planes (made for a use that needed none) gain them when a search needs them.
        let unplanned = planes ? complete.indices.filter { complete[$0].planes.isEmpty } : []
        if !unplanned.isEmpty {
            let planesMade = ShiftSearch.planes(unplanned.flatMap { complete[$0].filtered }, batch: unplanned.count, size: size)
            let per = planesMade.count / unplanned.count
            for (n, position) in unplanned.enumerated() { complete[position].planes = Array(planesMade[(n * per)..<((n + 1) * per)]) }
        }
        lock.withLock {
            for position in Set(missing + unplanned).sorted() {
                let row = complete[position], previous = rows[size]?[picked[position]]?.bytes ?? 0
                guard bytes - previous + row.bytes <= budget else { continue }
                rows[size, default: [:]][picked[position]] = row
                bytes += row.bytes - previous
            }
        }
        return CandidateScoring.Targets(rows: complete, size: size)
    }

    /// The targets of dataset images `picked`, whose batch is `images` [B,D,D] with CTFs `ctf` (B, or nil), at
    /// `geometry`: those not kept are made from their images passed through `prepare` (a Fourier crop to `geometry`'s
    /// size, say); `op` names the caller in errors.
    func targets(_ picked: [Int], images: Tensor, ctf: [CTFParameters]?, geometry: Projector.Geometry, planes: Bool, op: String,
                 prepare: (Tensor) throws -> Tensor = { $0 }) throws -> CandidateScoring.Targets {
        try targets(picked, size: geometry.size, planes: planes, op: op) { positions in
            let part = positions.count == picked.count ? images : try images.gather(Tensor(positions.map(Float.init)))
            return try CandidateScoring.Targets(images: try prepare(part), ctf: ctf.map { c in positions.map { c[$0] } }, geometry: geometry,
                                                spectra: planes, op: op)
        }
    }
}
