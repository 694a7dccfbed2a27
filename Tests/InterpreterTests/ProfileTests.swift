import XCTest
@testable import Interpreter

/// `profile(f)`: exclusive time per builtin and per backward pass, adding up to the total.
final class ProfileTests: XCTestCase {
    func testProfileChargesBuiltinsAndTheirBackwardPasses() throws {
        let interpreter = Interpreter()
        var printed = ""
        interpreter.output = { printed += $0 }
        let value = try interpreter.run("""
        let w = param(randn([64, 64], seed: 1))
        let x = randn([256, 64], seed: 2)
        profile(|| grad(|| sum(silu(x @ w)), [w]))
        """, name: "p.cryo")
        guard case .record(let r)? = value, case .list(let rows)? = r["rows"], case .number(let total)? = r["total_ms"] else {
            return XCTFail("\(String(describing: value))")
        }
        var labels: [String: Double] = [:]
        for row in rows {
            guard case .record(let fields) = row, case .string(let label)? = fields["label"], case .number(let ms)? = fields["ms"] else { return XCTFail() }
            labels[label] = ms
        }
        for label in ["grad", "silu", "silu (backward)", "sum", "script"] { XCTAssertNotNil(labels[label], "no row for \(label): \(labels.keys)") }
        XCTAssertEqual(labels.values.reduce(0, +), total, accuracy: 0.05 * total + 0.05, "exclusive times add up to the total")
        XCTAssertTrue(printed.contains("silu (backward)"), printed)
        XCTAssertThrowsError(try interpreter.run("profile(3)", name: "p.cryo"))
    }

    func testPeakMemoryGrowsWithAllocation() throws {
        let interpreter = Interpreter()
        guard case .list(let v)? = try interpreter.run("let before = peak_memory()\nlet big = ones([320, 1024, 1024])\n[before, peak_memory()]", name: "m.cryo"),
              case .number(let before) = v[0], case .number(let after) = v[1] else { return XCTFail() }
        XCTAssertGreaterThan(before, 1)
        XCTAssertGreaterThanOrEqual(after, before)
        XCTAssertGreaterThan(after, 1280, "a resident 1.25 GB tensor puts the peak above 1.25 GB")
    }
}
