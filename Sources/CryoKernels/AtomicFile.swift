import Foundation

/// Writes files atomically (to a temporary sibling, then renamed), so an interrupted write never leaves a
/// truncated output in place of a good one; missing parent folders are created.
public enum AtomicFile {
    /// Writes `data` to `path`; errors name `op` and the path.
    public static func write(_ data: Data, to path: String, op: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw KernelError(op, "\(path): cannot write (\(error.localizedDescription))")
        }
    }
}
