import XCTest

/// Every script in Scripts/ runs to completion in its quick mode (the arguments below).
final class ScriptsTests: XCTestCase {
    /// Quick-mode arguments per script; every script accepts `--quick` unless listed here.
    static let quickArguments: [String: [String]] = [:]

    func testEveryScriptRuns() throws {
        let scripts = try FileManager.default.contentsOfDirectory(atPath: BinaryLocator.packageRoot.appendingPathComponent("Scripts").path)
            .filter { $0.hasSuffix(".cryo") }.sorted()
        XCTAssertFalse(scripts.isEmpty)
        let root = BinaryLocator.packageRoot.appendingPathComponent("Scripts")
        if try scripts.contains(where: { try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8).contains("fetch_adk") }) { try fetchAdK() }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-scripts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        for name in scripts {
            let process = Process()
            process.executableURL = BinaryLocator.cryorepl
            process.arguments = [BinaryLocator.packageRoot.appendingPathComponent("Scripts/\(name)").path] + (Self.quickArguments[name] ?? ["--quick"])
            process.currentDirectoryURL = work
            try? FileManager.default.createSymbolicLink(at: work.appendingPathComponent("data"),
                                                        withDestinationURL: BinaryLocator.packageRoot.appendingPathComponent("data"))
            let err = Pipe(), out = Pipe()
            process.standardError = err
            process.standardOutput = out
            try process.run()
            let o = out.fileHandleForReading.readDataToEndOfFile()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "\(name) failed:\n\(String(decoding: e, as: UTF8.self))\n\(String(decoding: o, as: UTF8.self).suffix(2000))")
            print("ran Scripts/\(name) (\(o.count) bytes of output)")
        }
    }

    /// Runs Scripts/fetch_adk.sh (a pip install into a private venv; a no-op once data/adk exists).
    private func fetchAdK() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [BinaryLocator.packageRoot.appendingPathComponent("Scripts/fetch_adk.sh").path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "Scripts/fetch_adk.sh failed")
    }
}
