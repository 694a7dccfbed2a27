import XCTest

/// Scripts/custom_regularizer.cryo in its quick mode: the script's contact-map term passes its gradient check and
/// every row of the comparison (reference, two built-in terms, the script term) trains both models to figures in range.
final class CustomRegularizerScriptTests: XCTestCase {
    func testQuickModePrintsTheComparison() throws {
        let process = Process()
        process.executableURL = BinaryLocator.cryorepl
        process.arguments = [BinaryLocator.packageRoot.appendingPathComponent("Scripts/custom_regularizer.cryo").path, "--quick"]
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(errors)\n\(output)")
        XCTAssertTrue(output.contains("gradient check of the contact-map term: {passed: true"), output)
        let template = try XCTUnwrap(output.components(separatedBy: "template (no training) RMSD ").dropFirst().first
            .flatMap { Double($0.prefix { !$0.isWhitespace }) }, output)
        XCTAssertGreaterThan(template, 1)
        // Rows: a name, then GCN RMSD, bond RMS, ms/step and MLP RMSD, bond RMS, ms/step.
        let rows = output.split(separator: "\n").filter { $0.hasPrefix("reference") || $0.hasPrefix("+ ") }
        XCTAssertEqual(rows.map { String($0.prefix(14)) }, ["reference (bon", "+ angle 1e-2 (", "+ log_distance", "+ contact map "], output)
        for row in rows {
            let figures = row.split(separator: " ").suffix(6).compactMap { Double($0) }
            XCTAssertEqual(figures.count, 6, String(row))
            guard figures.count == 6 else { continue }
            for rmsd in [figures[0], figures[3]] {
                XCTAssertTrue(rmsd.isFinite && rmsd > 0 && rmsd < 1.5 * template, "RMSD \(rmsd) Å against the template's \(template) Å: \(row)")
            }
            for bond in [figures[1], figures[4]] { XCTAssertTrue(bond >= 0 && bond < 5, "bond RMS \(bond) Å: \(row)") }
            for ms in [figures[2], figures[5]] { XCTAssertGreaterThan(ms, 0, String(row)) }
        }
    }
}
