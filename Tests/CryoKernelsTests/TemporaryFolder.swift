import Foundation

/// A fresh folder under the system's temporary directory for one test's files.
struct TemporaryFolder {
    let url: URL

    /// Creates `<tmp>/<prefix>-<UUID>`.
    init(_ prefix: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// `name` inside the folder.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Deletes the folder and its files.
    func remove() { try? FileManager.default.removeItem(at: url) }
}
