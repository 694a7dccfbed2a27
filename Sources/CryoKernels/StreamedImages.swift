import Foundation

/// Particle images left in their MRC stacks and read a batch at a time, so a dataset larger than memory can be
/// trained on: each read copies the requested images out of the memory-mapped stacks and then tells the kernel it
/// may drop those file pages (`madvise(MADV_DONTNEED)`), so resident memory stays near one batch.
public final class StreamedImages: @unchecked Sendable {
    /// The stack and 0-based image index of every particle.
    public let locations: [(stack: MRCFile, index: Int)]
    /// Image side in pixels.
    public let size: Int

    /// Images at `locations`, all `size`×`size`.
    public init(locations: [(stack: MRCFile, index: Int)], size: Int) throws {
        for (stack, index) in locations where stack.nx != size || stack.ny != size || index < 0 || index >= stack.nz {
            throw KernelError("read_star", "\(stack.path): image \(index + 1) is not one of its \(stack.nz) images of \(size)×\(size)")
        }
        self.locations = locations
        self.size = size
    }

    /// Number of particles.
    public var count: Int { locations.count }

    /// The images of particles `rows`, concatenated (rows.count·size² values).
    public func read(_ rows: [Int]) throws -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(rows.count * size * size)
        for row in rows {
            guard locations.indices.contains(row) else { throw KernelError("read_star", "particle \(row) is out of range for \(count) particles") }
            let (stack, index) = locations[row]
            out += try stack.images(index..<(index + 1))
            stack.release(index..<(index + 1))
        }
        return out
    }
}
