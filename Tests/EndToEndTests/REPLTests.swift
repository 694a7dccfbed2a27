import XCTest

/// The real `cryorepl` binary in a pseudo-terminal: multi-line input, errors that do not end the session,
/// and Ctrl-C interrupting a running evaluation.
final class REPLTests: XCTestCase {
    private func session() throws -> TerminalSession {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let s = try TerminalSession(BinaryLocator.cryorepl, environment: ["HOME": home.path])
        XCTAssertTrue(s.waitFor("cryo> "), "no prompt:\n\(s.transcript)")
        return s
    }

    func testMultiLineDefinitionThenErrorThenMoreInput() throws {
        let s = try session()
        s.type("fn twice(x) {\n")
        XCTAssertTrue(s.waitFor("... "), "no continuation prompt:\n\(s.transcript)")
        s.type("  2 * x\n}\n")
        s.type("twice(21)\n")
        XCTAssertTrue(s.waitFor("42"), s.transcript)
        s.type("twice(undefined_thing)\n")
        XCTAssertTrue(s.waitFor("error: undefined name 'undefined_thing'"), s.transcript)
        XCTAssertTrue(s.waitFor("^~~~"), "no caret:\n\(s.transcript)")
        s.type("twice(5) + 1\n")
        XCTAssertTrue(s.waitFor("11"), "REPL did not continue after the error:\n\(s.transcript)")
        s.type(":quit\n")
        XCTAssertEqual(s.finish(), 0)
    }

    func testCtrlCInterruptsEndlessLoopAndKeepsVariables() throws {
        let s = try session()
        s.type("var kept = 5\n")
        // The loop announces itself (the concatenation keeps the echoed input from matching), so Ctrl-C
        // is typed only once evaluation is really running.
        s.type("print(\"spin\" + \"ning\"); while true {}\n")
        XCTAssertTrue(s.waitFor("spinning"), "the loop did not start:\n\(s.transcript)")
        Thread.sleep(forTimeInterval: 0.3)
        s.type("\u{3}")
        XCTAssertTrue(s.waitFor("interrupted"), "Ctrl-C did not interrupt:\n\(s.transcript)")
        s.type("kept * 2\n")
        XCTAssertTrue(s.waitFor("10"), "no working prompt after the interrupt:\n\(s.transcript)")
        s.type(":vars\n")
        XCTAssertTrue(s.waitFor("var kept: number = 5"), s.transcript)
        s.type(":quit\n")
        XCTAssertEqual(s.finish(), 0)
    }

    func testCtrlCAtThePromptAbandonsTheLine() throws {
        let s = try session()
        s.type("fn half(x) {\n")
        XCTAssertTrue(s.waitFor("... "), s.transcript)
        s.type("\u{3}")
        XCTAssertTrue(s.waitFor("cryo> ", count: 2), "no fresh prompt after Ctrl-C:\n\(s.transcript)")
        s.type("20 + 1\n")
        XCTAssertTrue(s.waitFor("21"), "the abandoned entry leaked into the next one:\n\(s.transcript)")
        s.type(":quit\n")
        XCTAssertEqual(s.finish(), 0)
    }

    func testCommandsAndCtrlD() throws {
        let s = try session()
        s.type(":help\n")
        XCTAssertTrue(s.waitFor(":load FILE"), s.transcript)
        s.type(":time sum(ones([1000]))\n")
        XCTAssertTrue(s.waitFor("time: "), s.transcript)
        s.type("help(\"relu\")\n")
        XCTAssertTrue(s.waitFor("relu(x)"), s.transcript)
        s.type("\u{4}")
        XCTAssertEqual(s.finish(), 0)
    }
}
