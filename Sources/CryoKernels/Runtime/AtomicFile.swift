import Foundation

/// Writes files atomically (to a temporary sibling, then renamed), so an interrupted write never leaves a
/// truncated output in place of a good one; missing parent folders are created. Under MPI only rank 0 writes
/// (the ranks of a job compute the same outputs), unless `everyRankWrites` is set.
public enum AtomicFile {
    nonisolated(unsafe) public static var everyRankWrites = false

    /// Writes `data` to `path`; errors name `op` and the path.
    public static func write(_ data: Data, to path: String, op: String) throws {
        guard World.isRoot || everyRankWrites else { return }
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw KernelError(op, "\(path): cannot write (\(error.localizedDescription))")
        }
    }
}
