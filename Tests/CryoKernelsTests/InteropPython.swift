import XCTest

/// The Python of `.venv-interop` (mrcfile, starfile, gemmi, NumPy; made by `Scripts/setup.sh --interop`, which CI
/// runs) and a fresh temporary folder, for tests whose fixtures the field's own libraries write or check.
/// Without the venv the test is skipped with that hint, and fails under `CI=true`.
struct InteropPython {
    let python: String
    let folder: TemporaryFolder

    init() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidate = root.appendingPathComponent(".venv-interop/bin/python3").path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("CI must create .venv-interop (Scripts/setup.sh --interop)") }
            throw XCTSkip("no .venv-interop: run Scripts/setup.sh --interop to test against mrcfile, starfile, gemmi and NumPy")
        }
        python = candidate
        folder = try TemporaryFolder("cryo-interop")
    }

    /// Runs `code` inside the folder (or `directory`); returns standard output, failing the test on a Python error.
    func run(_ code: String, in directory: URL? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", code]
        process.currentDirectoryURL = directory ?? folder.url
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: e, as: UTF8.self), file: file, line: line)
        return String(decoding: o, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `name` inside the folder.
    func path(_ name: String) -> String { folder.path(name) }

    /// Deletes the folder.
    func remove() { folder.remove() }
}
