/// The STAR file a dataset was read from, kept so that `write_star` can write every block and column it read
/// (unknown ones too) with only the values CryoScript owns replaced.
public struct StarMetadata: Sendable {
    /// Every block of the source file, in file order.
    public var blocks: [StarBlock]
    /// Index in `blocks` of the particles table and of the optics table (nil for RELION 3.0 and earlier).
    public var particlesBlock: Int
    public var opticsBlock: Int?
    /// For each particle of the dataset, its row in the particles table (subsets keep their rows).
    public var rows: [Int]
    /// The file it came from.
    public var path: String

    public init(blocks: [StarBlock], particlesBlock: Int, opticsBlock: Int?, rows: [Int], path: String) {
        self.blocks = blocks
        self.particlesBlock = particlesBlock
        self.opticsBlock = opticsBlock
        self.rows = rows
        self.path = path
    }

    /// The particles table.
    public var particles: StarBlock { blocks[particlesBlock] }

    /// Each particle's half (1 or 2) from `_rlnRandomSubset`, as RELION's gold-standard refinement assigned it; nil
    /// when the table has no such column. A value other than 1 or 2 is an error naming the file and the row.
    public func randomSubsets() throws -> [Int]? {
        guard let column = particles.column("rlnRandomSubset") else { return nil }
        return try rows.map { row in
            let text = particles.rows[row][column]
            guard let half = Int(text), half == 1 || half == 2 else {
                throw KernelError("read_star", "\(path): particle row \(row + 1) has _rlnRandomSubset \"\(text)\"; RELION's halves are 1 and 2")
            }
            return half
        }
    }
}
