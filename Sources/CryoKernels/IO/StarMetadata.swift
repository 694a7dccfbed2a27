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
}
