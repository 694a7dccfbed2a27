import XCTest

/// `cryorepl FILE.cryo`, `cryorepl -e`, and piped standard input, run as a user would run them.
final class BatchTests: XCTestCase {
    private func run(_ arguments: [String], stdin: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = BinaryLocator.cryorepl
        process.arguments = arguments
        process.currentDirectoryURL = BinaryLocator.packageRoot
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testExpression() throws {
        let r = try run(["-e", "let x = 3\nx * 14"])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.out, "42\n")
    }

    func testScriptErrorExitsNonZeroWithDiagnostic() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = dir.appendingPathComponent("bad.cryo")
        try "print(\"start\", args)\nlet x = zeros([2, 3])\nlet y = x @ x\n".write(to: script, atomically: true, encoding: .utf8)
        let r = try run([script.path, "alpha", "7"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.out, "start [\"alpha\", \"7\"]\n")
        XCTAssertTrue(r.err.hasPrefix("\(script.path):3:9: error: matmul: inner extents differ: [2,3] @ [2,3] (3 vs 2)"), r.err)
        XCTAssertTrue(r.err.contains("3 | let y = x @ x\n            ^~~~~"), r.err)
    }

    func testMissingScriptIsAClearError() throws {
        let r = try run(["/no/such/script.cryo"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("cannot read script '/no/such/script.cryo'"), r.err)
    }

    func testPipedInputIsReadPlainly() throws {
        let r = try run([], stdin: "let a = 2\nfn f(x) {\n  x + a\n}\nf(40)\nnope\nf(1)\n")
        XCTAssertEqual(r.out, "42\n3\n", "no prompts or echo when stdin is not a terminal")
        XCTAssertTrue(r.err.contains("undefined name 'nope'"), r.err)
        XCTAssertEqual(r.status, 1)
    }

    func testVersionAndUsage() throws {
        let v = try run(["--version"])
        XCTAssertTrue(v.out.hasPrefix("0."), v.out)
        let h = try run(["--help"])
        XCTAssertTrue(h.out.contains("USAGE"), h.out)
    }
}
