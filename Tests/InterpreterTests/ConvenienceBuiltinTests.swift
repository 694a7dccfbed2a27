import XCTest
@testable import Interpreter

/// Small builtins a script writer reaches for: flags and options from `args`, number formatting, ceil, floor, log10,
/// a record with some fields changed.
final class ConvenienceBuiltinTests: XCTestCase {
    private func run(_ text: String, args: [String] = []) throws -> Value {
        let interpreter = Interpreter()
        interpreter.scriptArguments = args
        return try interpreter.run(text, name: "t.cryo") ?? .null
    }

    private func text(_ program: String, args: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let value = try run(program, args: args)
        guard case .string(let s) = value else {
            XCTFail("expected text from \(program), got \(value.typeName)", file: file, line: line)
            return ""
        }
        return s
    }

    private func assertError(_ program: String, args: [String] = [], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try run(program, args: args), file: file, line: line) { error in
            XCTAssertTrue("\(error)".hasPrefix(expected), "expected '\(expected)…', got:\n\(error)", file: file, line: line)
        }
    }

    func testFlagsAndOptionsReadTheScriptsArguments() throws {
        let args = ["--quick", "--size", "64", "--name=adk", "0.03"]
        guard case .list(let flags) = try run("[flag(\"--quick\"), flag(\"--full\"), flag(\"64\")]", args: args) else { return XCTFail() }
        XCTAssertEqual(flags.map(ValueFormatter.repr), ["true", "false", "true"])
        guard case .number(64) = try run("option(\"--size\", 32)", args: args) else { return XCTFail("a number default gives a number") }
        guard case .number(32) = try run("option(\"--size\", 32)") else { return XCTFail("absent: the default") }
        XCTAssertEqual(try text("option(\"--size\")", args: args), "64", "no default: the text")
        XCTAssertEqual(try text("option(\"--name\", \"toy\")", args: args), "adk")
        guard case .null = try run("option(\"--missing\")", args: args) else { return XCTFail() }
        assertError("option(\"--name\", 1)", args: args, "t.cryo:1:1: error: option: --name expects a number, got \"adk\"")
        assertError("option(\"--size\")", args: ["--size"], "t.cryo:1:1: error: option: --size needs a value after it")
        assertError("option(\"--size\", true)", "t.cryo:1:1: error: option: argument 'default' must be a number, a string or nil")
    }

    /// `read_csv` gives back what `write_csv` wrote, to the last bit (nan included); a bad file is one clear error.
    func testReadCSVGivesBackWhatWriteCSVWrote() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-csv-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("t.csv").path
        let back = try run("""
        let t = cat([randn([5, 2], seed: 1) * 1e-7, reshape(tensor([1, 2, 3, 4, 5]) / 3, [5, 1]), reshape(log(tensor([1, 1, 1, 1, -1])), [5, 1])], axis: 1)
        write_csv("\(path)", t, header: ["a", "b", "c", "d"])
        let r = read_csv("\(path)")
        write_csv("\(path)", t)
        [item(max(abs(r.table[0..4] - t[0..4]))), r.header, read_csv("\(path)").header, r.table.shape, item(r.table[4][3])]
        """)
        XCTAssertEqual(ValueFormatter.repr(back), "[0, [\"a\", \"b\", \"c\", \"d\"], nil, [5, 4], nan]")
        try "x,y\n1,2\n3,oops\n".write(toFile: path, atomically: true, encoding: .utf8)
        assertError("read_csv(\"\(path)\")", "t.cryo:1:1: error: read_csv: \(path):3:3: \"oops\" is not a number")
        try "1,2\n3\n".write(toFile: path, atomically: true, encoding: .utf8)
        assertError("read_csv(\"\(path)\")", "t.cryo:1:1: error: read_csv: \(path):2: 1 cell, where the lines before have 2")
        assertError("read_csv(\"\(folder.path)/none.csv\")", "t.cryo:1:1: error: read_csv: \(folder.path)/none.csv: no such file or not readable")
    }

    func testFormatGivesDecimalsOrOnePrintfConversion() throws {
        XCTAssertEqual(try text("format(pi, digits: 2)"), "3.14")
        XCTAssertEqual(try text("format(2, digits: 0)"), "2")
        XCTAssertEqual(try text("format(1234.5, \"%.3g\")"), "1.23e+03")
        XCTAssertEqual(try text("format(0.5, \"loss %6.3f (100%%)\")"), "loss  0.500 (100%)")
        XCTAssertEqual(try text("format(12, \"epoch %03d\")"), "epoch 012")
        XCTAssertEqual(try text("format(3, \"%%d %.1f\")"), "%d 3.0", "%% is a literal percent sign, not a conversion")
        XCTAssertEqual(try text("format(-1e-5, \"%+.1e\")"), "-1.0e-05")
        XCTAssertEqual(try text("format(item(sum(ones([3]))), digits: 1)"), "3.0", "a one-element tensor counts as a number")
        assertError("format(1, \"%s\")", "t.cryo:1:1: error: format: pattern \"%s\" must hold exactly one conversion")
        assertError("format(1, \"%f %f\")", "t.cryo:1:1: error: format: pattern \"%f %f\" must hold exactly one conversion")
        assertError("format(1, \"100%\")", "t.cryo:1:1: error: format: pattern \"100%\" must hold exactly one conversion")
        assertError("format(1, \"%999f\")", "t.cryo:1:1: error: format: pattern")
        assertError("format(1.5, \"%d\")", "t.cryo:1:1: error: format: %d needs a whole number, got 1.5")
        assertError("format(1)", "t.cryo:1:1: error: format: give either digits:")
        assertError("format(1, \"%f\", digits: 2)", "t.cryo:1:1: error: format: give either digits:")
        assertError("format(1, digits: -1)", "t.cryo:1:1: error: format: argument 'digits' must be a whole number from 0 to 99")
        assertError("format(\"a\", digits: 1)", "t.cryo:1:1: error: format: argument 'x' must be a number")
    }

    func testCeilFloorAndLog10() throws {
        guard case .list(let numbers) = try run("[ceil(1.2), ceil(-1.2), floor(1.8), floor(-1.2), log10(1000)]") else { return XCTFail() }
        XCTAssertEqual(numbers.map(ValueFormatter.repr), ["2", "-1", "1", "-2", "3"])
        guard case .tensor(let t) = try run("[ceil(tensor([0.5, 2])), log10(tensor([10, 0.01]))] |> cat") else { return XCTFail() }
        XCTAssertEqual(t.storage[0..<2], [1, 2])
        XCTAssertEqual(t.storage[2], 1, accuracy: 1e-6)
        XCTAssertEqual(t.storage[3], -2, accuracy: 1e-6)
    }

    /// `updated` replaces fields in place, appends new ones, keeps the rest, and leaves the original record alone.
    func testUpdatedChangesSomeFieldsAndKeepsTheRest() throws {
        let program = "let data = {images: 1, rotations: 2, ctf: \"c\"}\nlet changed = updated(data, {rotations: 5, state: 7})\n[changed, data]"
        guard case .list(let both) = try run(program), case .record(let changed) = both[0], case .record(let original) = both[1] else { return XCTFail() }
        XCTAssertEqual(changed.keys, ["images", "rotations", "ctf", "state"])
        XCTAssertEqual(changed.fields.map { ValueFormatter.repr($0.1) }, ["1", "5", "\"c\"", "7"])
        XCTAssertEqual(original.fields.map { ValueFormatter.repr($0.1) }, ["1", "2", "\"c\""])
        assertError("updated(3, {a: 1})", "t.cryo:1:1: error: updated: argument 'record' must be a record")
        assertError("updated({a: 1}, [2])", "t.cryo:1:1: error: updated: argument 'changes' must be a record")
    }

    func testEveryNewBuiltinHasHelp() throws {
        let interpreter = Interpreter()
        for name in ["flag", "option", "format", "ceil", "floor", "log10", "updated"] {
            let help = try HelpText.text(for: name, registry: interpreter.registry)
            XCTAssertTrue(help.hasPrefix(name + "("), help)
            XCTAssertTrue(help.contains("example: "), help)
        }
    }
}
