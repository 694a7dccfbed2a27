import XCTest
@testable import CryoKernels

/// `STARFile.parse`: the RELION layout (blocks, loops, pairs, quotes, comments, CRLF), parallel parsing of long loops,
/// and errors that name the file and line.
final class STARParserTests: XCTestCase {
    private func assertThrows(_ fragment: String, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try STARFile.parse(text, name: "t.star"), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks '\(fragment)'", file: file, line: line)
        }
    }

    func testReadsTheRelionLayout() throws {
        let text = "# written by hand\r\n\r\ndata_\r\n_rlnVersion 30001\r\n\r\ndata_optics\r\nloop_\r\n_rlnOpticsGroup #1\r\n_rlnOpticsGroupName\t#2\r\n"
            + "1\topticsGroup1\r\n  2   'group two'  \r\n\r\n# version 30001\r\ndata_particles\r\n\r\nloop_ \r\n_rlnImageName #1\r\n"
            + "_rlnDefocusU #2\r\n_rlnMicrographName #3\r\n000001@a.mrcs 12000.5 \"mic 1.mrc\"\r\n# a comment between rows\r\n\r\n"
            + "000002@a.mrcs\t11000 it's  # trailing comment\r\n_rlnAfterLoop \"x y\"\r\ndata_images\r\n"
        let blocks = try STARFile.parse(text, name: "t.star")
        XCTAssertEqual(blocks.map(\.name), ["", "optics", "particles", "images"])
        XCTAssertEqual(blocks[0].pairs.map(\.0), ["rlnVersion"])
        XCTAssertEqual(blocks[0].pairs.map(\.1), ["30001"])
        XCTAssertEqual(blocks[1].columns, ["rlnOpticsGroup", "rlnOpticsGroupName"])
        XCTAssertEqual(blocks[1].rows, [["1", "opticsGroup1"], ["2", "group two"]])
        XCTAssertEqual(blocks[2].columns, ["rlnImageName", "rlnDefocusU", "rlnMicrographName"])
        XCTAssertEqual(blocks[2].rows, [["000001@a.mrcs", "12000.5", "mic 1.mrc"], ["000002@a.mrcs", "11000", "it's"]])
        XCTAssertEqual(blocks[2].column("rlnDefocusU"), 1)
        XCTAssertEqual(blocks[2].pairs.first?.1, "x y")
        XCTAssertTrue(blocks[3].columns.isEmpty && blocks[3].rows.isEmpty)
        XCTAssertEqual(try STARFile.parse(Data(), name: "empty.star").count, 0)
    }

    func testFormatRoundTripsAwkwardValues() throws {
        let block = StarBlock(name: "particles", columns: ["a", "b", "c"],
                              rows: [["", "x y", "#hash"], ["_under", "'q'", "tab\there"]], pairs: [("rlnKey", "two words")])
        let back = try STARFile.parse(STARFile.format([block]), name: "f.star")
        XCTAssertEqual(back.first?.rows, block.rows)
        XCTAssertEqual(back.first?.pairs.first?.1, "two words")
    }

    /// A loop long enough to be split across threads reads the same rows in order, and a bad row deep in the second
    /// half is reported at its own line.
    func testLongLoopsParseInParallelChunks() throws {
        let rows = 60_000
        var text = "data_particles\nloop_\n_rlnImageName #1\n_rlnDefocusU #2\n_rlnAngleRot #3\n"
        for i in 0..<rows { text += String(format: "%06d@Extract/job012/Movies/mic_%04d.mrcs %12.6f %12.6f\n", i + 1, i / 100, 10000 + Double(i), Double(i % 360)) }
        XCTAssertGreaterThan(text.utf8.count, 2 << 20, "the loop must exceed the parallel grain")
        let block = try XCTUnwrap(STARFile.parse(text, name: "big.star").first)
        XCTAssertEqual(block.rows.count, rows)
        for i in [0, 1, rows / 2 - 1, rows / 2, rows / 2 + 1, rows - 1] {
            XCTAssertEqual(block.rows[i][0], String(format: "%06d@Extract/job012/Movies/mic_%04d.mrcs", i + 1, i / 100))
            XCTAssertEqual(Double(block.rows[i][1]), 10000 + Double(i))
        }
        let bad = 45_000
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[5 + bad] += " extra"
        assertThrows("t.star:\(6 + bad): row has 4 values for 3 columns", lines.joined(separator: "\n"))
    }

    func testErrorsNameTheFileAndLine() {
        assertThrows("t.star:6: row has 1 values for 2 columns", "data_\nloop_\n_a\n_b\n1 2\n3\n")
        assertThrows("t.star:5: row has 3 values for 2 columns", "data_\nloop_\n_a\n_b\n1 2 3\n")
        assertThrows("t.star:6: STAR 'stop_' is not supported", "data_\nloop_\n_a\n_b\n1 2\nstop_\n")
        assertThrows("t.star:2: a ';' at the start of a line opens a multi-line text value", "data_\n;\nsome text\n;\n")
        assertThrows("t.star:5: a ';' at the start of a line", "data_\nloop_\n_a\n1\n;text\n;\n")
        assertThrows("t.star:4: unterminated quote", "data_\nloop_\n_a\n'open\n")
        assertThrows("t.star:1: content before the first data_ block", "loop_\n")
        assertThrows("t.star:5: a second loop_ in block data_x", "data_x\nloop_\n_a\n1\nloop_\n_b\n2\n")
        assertThrows("t.star:2: a value line outside any loop_", "data_\n1 2\n")
        assertThrows("t.star:2: label _a has no value on its line", "data_\n_a\n")
        assertThrows("t.star:2: label _a has 2 values", "data_\n_a 1 2\n")
        assertThrows("t.star:3: loop_ in block data_ has no _label lines", "data_\nloop_\n1 2\n")
        assertThrows("t.star:3: loop label _a is followed by a value", "data_\nloop_\n_a 1\n")
    }
}
