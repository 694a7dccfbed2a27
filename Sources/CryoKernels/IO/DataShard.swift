/// The images one MPI rank owns in data-parallel training: a fixed contiguous block of the dataset, rank r of K
/// holding [r·M/K, (r+1)·M/K). Every rank walks the same shuffled global batches and computes only the images of
/// its block; the latents of those images live (and are optimised) only there. A world of one owns everything.
public struct DataShard: Sendable {
    public let rows: Range<Int>
    /// Number of images in the dataset.
    public let total: Int

    public init(total: Int, rank: Int = World.rank, size: Int = World.size) {
        self.total = total
        rows = (total * rank / size)..<(total * (rank + 1) / size)
    }

    /// Whether this rank owns everything (no communication needed).
    public var isWhole: Bool { rows.count == total }

    /// The images of a global batch that this rank owns, in batch order.
    public func local(_ picked: [Int]) -> [Int] { isWhole ? picked : picked.filter { rows.contains($0) } }

    /// Rows [lo, hi) of a row-major [M, width] table that this rank owns, gathered from every rank: the full table.
    public func gatherRows(_ table: [Float], width: Int) throws -> [Float] {
        if isWhole { return table }
        return try World.gather(Array(table[(rows.lowerBound * width)..<(rows.upperBound * width)]))
    }
}
