import XCTest
@testable import Interpreter

/// The fuzz corpus (Tests/FuzzCorpus) through the interpreter in the fuzzing sandbox: every seed ends in a value, a
/// located diagnostic or an exhausted budget, and every input the fuzzer once crashed on does what its first line
/// (`# expect: …`) says.
final class FuzzCorpusTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus")

    /// The `.cryo` files of `folder` in the corpus, by name, with their text.
    private func files(_ folder: String) throws -> [(name: String, text: String)] {
        let url = Self.corpus.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".cryo") }.sorted().map {
            ($0, try String(contentsOf: url.appendingPathComponent($0), encoding: .utf8))
        }
    }

    func testSeedsEndInAValueALocatedDiagnosticOrABudget() throws {
        let seeds = try files("seeds")
        XCTAssertGreaterThan(seeds.count, 50)
        var counts: [String: Int] = [:]
        for (name, text) in seeds {
            let outcome = SandboxOutcome.of(text, name: name)
            if case .unexpected(let what) = outcome { XCTFail("\(name): \(what)") }
            counts[Self.kind(outcome), default: 0] += 1
        }
        print("fuzz corpus: \(seeds.count) seeds:", counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        XCTAssertGreaterThan(counts["value"] ?? 0, 10)
        XCTAssertGreaterThan(counts["runtime error"] ?? 0, 10)
    }

    func testCrashInputsDoWhatTheirFirstLineSays() throws {
        let regressions = try files("regressions")
        XCTAssertFalse(regressions.isEmpty, "no regression inputs in Tests/FuzzCorpus/regressions")
        for (name, text) in regressions {
            let header = text.prefix { $0 != "\n" }
            guard header.hasPrefix("# expect: ") else { XCTFail("\(name): the first line must be '# expect: …'"); continue }
            let expected = header.dropFirst("# expect: ".count)
            let outcome = SandboxOutcome.of(text, name: name, sandbox: Self.slowBuildSandbox)
            let kind = Self.kind(outcome)
            guard expected.hasPrefix(kind) else { XCTFail("\(name): expected \(expected), got \(outcome)"); continue }
            let fragment = expected.dropFirst(kind.count).drop { $0 == ":" || $0 == " " }
            if !fragment.isEmpty {
                XCTAssertTrue(Self.message(outcome).contains(fragment), "\(name): expected '\(fragment)' in \(outcome)")
            }
        }
    }

    /// The fuzzing sandbox with 60 s of wall time instead of 2: the regression inputs take milliseconds in the
    /// fuzzer's release build but far longer in a debug build under ThreadSanitizer, and what they test is their
    /// outcome, not their speed (the step, memory and size budgets stay the fuzzer's).
    static var slowBuildSandbox: Sandbox {
        var sandbox = Sandbox.fuzzing
        sandbox.seconds = 60
        return sandbox
    }

    /// The outcome's class as the `# expect:` lines name it.
    static func kind(_ outcome: SandboxOutcome) -> String {
        switch outcome {
        case .value: return "value"
        case .syntaxError: return "syntax error"
        case .runtimeError: return "runtime error"
        case .outOfBudget: return "out of budget"
        case .unexpected: return "unexpected"
        }
    }

    /// The outcome's message (empty for a value).
    static func message(_ outcome: SandboxOutcome) -> String {
        switch outcome {
        case .value: return ""
        case .syntaxError(let m), .runtimeError(let m), .outOfBudget(let m), .unexpected(let m): return m
        }
    }
}
