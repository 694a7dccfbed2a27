import XCTest

/// Every script in Scripts/ runs to completion in its quick mode (the arguments below), in one folder and in
/// name order, so `make_relion_project` lays out the RELION project that `relion_known_poses` then trains on.
final class ScriptsTests: XCTestCase {
    /// Quick-mode arguments per script; every script accepts `--quick` unless listed here.
    static let quickArguments: [String: [String]] = [
        "make_relion_project.cryo": ["project", "--quick"],
        "relion_known_poses.cryo": ["project", "Refine3D/job025/run_data.star", "project/template.pdb", "--quick", "--truth", "project/truth.pdb"],
    ]

    /// The number printed after `label` in `output`.
    static func figure(_ label: String, in output: String) -> Double? {
        guard let range = output.range(of: label + " ") else { return nil }
        return Double(output[range.upperBound...].prefix { !$0.isWhitespace })
    }

    func testEveryScriptRuns() throws {
        let scripts = try FileManager.default.contentsOfDirectory(atPath: BinaryLocator.packageRoot.appendingPathComponent("Scripts").path)
            .filter { $0.hasSuffix(".cryo") }.sorted()
        XCTAssertFalse(scripts.isEmpty)
        let root = BinaryLocator.packageRoot.appendingPathComponent("Scripts")
        if try scripts.contains(where: { try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8).contains("fetch_adk") }) { try fetchAdK() }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-scripts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var outputs: [String: String] = [:]
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
            outputs[name] = String(decoding: o, as: UTF8.self)
        }
        // Training on the RELION project's files (streamed, cropped on read, two optics groups, origins as RELION
        // has them) recovers the conformations as well as the same run on the images in memory.
        let inMemory = Self.figure("in-memory RMSD", in: outputs["make_relion_project.cryo"] ?? "")
        let fromFiles = Self.figure("files RMSD", in: outputs["relion_known_poses.cryo"] ?? "")
        let template = Self.figure("(template", in: outputs["relion_known_poses.cryo"] ?? "")
        XCTAssertNotNil(inMemory)
        XCTAssertNotNil(fromFiles)
        if let inMemory, let fromFiles, let template {
            XCTAssertLessThanOrEqual(abs(fromFiles - inMemory), 0.1 * inMemory, "files \(fromFiles) Å against in memory \(inMemory) Å")
            XCTAssertLessThan(fromFiles, 0.6 * template, "training on the files must beat the template (\(template) Å)")
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
