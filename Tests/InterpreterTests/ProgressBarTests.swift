import XCTest
@testable import Interpreter

/// The progress bar in a batch job's log (standard error not a terminal): a line at most once per interval and one
/// at the end, each ending its line; on a terminal it redraws in place.
final class ProgressBarTests: XCTestCase {
    func testALogGetsALinePerIntervalAndTheEnd() {
        var lines: [String] = []
        let bar = ProgressBar("train gcn", total: 10, interactive: false, logInterval: 0.2, write: { lines.append($0) })
        bar.update(1, status: "epoch 1/10")
        XCTAssertEqual(lines, [], "nothing before the first interval")
        Thread.sleep(forTimeInterval: 0.25)
        bar.update(2, status: "epoch 2/10")
        bar.update(3, status: "epoch 3/10")
        XCTAssertEqual(lines.count, 1, "one line per interval: \(lines)")
        XCTAssertTrue(lines[0].hasPrefix("train gcn [") && lines[0].contains("2/10 epoch 2/10 ETA") && lines[0].hasSuffix("\n"), lines[0])
        bar.update(10, status: "epoch 10/10")
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[1].contains("10/10 epoch 10/10") && lines[1].hasSuffix("s\n") && !lines[1].contains("\u{1B}"), lines[1])
    }

    func testATerminalRedrawsInPlace() {
        var lines: [String] = []
        let bar = ProgressBar("esl", total: 4, interactive: true, write: { lines.append($0) })
        bar.update(1)
        bar.update(4)
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("\r\u{1B}[K") && !lines[0].hasSuffix("\n"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("\r\u{1B}[K") && lines[1].hasSuffix("\n"), lines[1])
    }
}
