import Foundation

/// The byte-level STAR reader behind `STARFile.parse`. One sequential pass finds the blocks, labels and pairs;
/// the lines of each loop body are then parsed in parallel chunks split at line boundaries (rows are independent).
struct STARParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let name: String
    let op: String

    /// Loop bodies shorter than this many bytes are parsed on one thread.
    private static let parallelGrain = 1 << 20

    /// An error at byte `offset`, naming the file and line.
    private func failure(at offset: Int, _ message: String) -> KernelError {
        KernelError(op, "\(name):\(STARLexer.lineNumber(bytes, offset)): \(message)")
    }

    /// Why `;` and `stop_` lines are refused.
    private static let textFieldMessage = "a ';' at the start of a line opens a multi-line text value, which this reader does not support (RELION does not write them)"
    private static let stopMessage = "STAR 'stop_' is not supported (RELION does not write it); end a loop with a new data_ block instead"

    /// The values on the line `i..<end` (quotes removed).
    private func values(_ i: Int, _ end: Int) throws(KernelError) -> [STARLexer.Token] {
        var tokens: [STARLexer.Token] = [], p = i
        do throws(STARLexer.UnterminatedQuote) {
            while let t = try STARLexer.next(bytes, &p, end) { tokens.append(t) }
        } catch {
            throw failure(at: error.position, "unterminated quote")
        }
        return tokens
    }

    /// All blocks of the file.
    func blocks() throws -> [StarBlock] {
        var blocks: [StarBlock] = []
        var inLoopHeader = false
        var i = 0
        while i < bytes.count {
            let start = i, end = STARLexer.lineEnd(bytes, from: i)
            let p = STARLexer.skipBlanks(bytes, start, end)
            i = end + 1
            guard p < end, bytes[p] != UInt8(ascii: "#") else { continue }
            if bytes[start] == UInt8(ascii: ";") { throw failure(at: start, Self.textFieldMessage) }
            if STARLexer.hasPrefix(bytes, p, end, "data_") {
                var q = p + 5
                while q < end && !STARLexer.isBlank(bytes[q]) { q += 1 }
                blocks.append(StarBlock(name: STARLexer.string(bytes, .init(start: p + 5, end: q, quoted: false))))
                inLoopHeader = false
                continue
            }
            guard let last = blocks.indices.last else { throw failure(at: p, "content before the first data_ block") }
            if STARLexer.isKeyword(bytes, p, end, "loop_") {
                guard blocks[last].columns.isEmpty else {
                    throw failure(at: p, "a second loop_ in block data_\(blocks[last].name); one table per block is supported")
                }
                inLoopHeader = true
                continue
            }
            if STARLexer.isKeyword(bytes, p, end, "stop_") { throw failure(at: p, Self.stopMessage) }
            if bytes[p] == UInt8(ascii: "_") {
                let tokens = try values(p, end)
                let label = STARLexer.string(bytes, .init(start: p + 1, end: tokens[0].end, quoted: false))
                if inLoopHeader {
                    guard tokens.count == 1 else {
                        throw failure(at: tokens[1].start, "loop label _\(label) is followed by a value; each label of a loop_ goes on its own line (an optional #n comment may follow)")
                    }
                    blocks[last].columns.append(label)
                } else {
                    guard tokens.count == 2 else {
                        throw failure(at: p, tokens.count < 2 ? "label _\(label) has no value on its line"
                                                              : "label _\(label) has \(tokens.count - 1) values; one was expected")
                    }
                    blocks[last].pairs.append((label, STARLexer.string(bytes, tokens[1])))
                }
                continue
            }
            guard inLoopHeader else { throw failure(at: p, "a value line outside any loop_") }
            guard !blocks[last].columns.isEmpty else { throw failure(at: p, "loop_ in block data_\(blocks[last].name) has no _label lines before its values") }
            let bodyEnd = loopBodyEnd(from: start)
            blocks[last].rows = try rows(start..<bodyEnd, width: blocks[last].columns.count)
            inLoopHeader = false
            i = bodyEnd
        }
        return blocks
    }

    /// Where the loop body starting at line `i` ends: at the next line that starts a label, a `loop_` or a `data_` block.
    private func loopBodyEnd(from i: Int) -> Int {
        var j = i
        while j < bytes.count {
            let end = STARLexer.lineEnd(bytes, from: j)
            let p = STARLexer.skipBlanks(bytes, j, end)
            if p < end && (bytes[p] == UInt8(ascii: "_") || STARLexer.hasPrefix(bytes, p, end, "data_") || STARLexer.isKeyword(bytes, p, end, "loop_")) {
                return j
            }
            j = end + 1
        }
        return bytes.count
    }

    /// The rows of the loop body `body` (whole lines), `width` values each, parsed in parallel chunks.
    private func rows(_ body: Range<Int>, width: Int) throws -> [[String]] {
        let parts = Parallel.partCount(body.count, grain: Self.parallelGrain)
        var results = [Result<[[String]], KernelError>](repeating: .success([]), count: parts)
        // The first line start at or after `x` (chunk boundaries move forward to whole lines).
        func lineStart(_ x: Int) -> Int {
            x <= body.lowerBound ? body.lowerBound : Swift.min(body.upperBound, STARLexer.lineEnd(bytes, from: x - 1) + 1)
        }
        results.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let out = SharedPointer(base: base)
            Parallel.forParts(body.count, grain: Self.parallelGrain) { part, range in
                let chunk = lineStart(body.lowerBound + range.lowerBound)..<lineStart(body.lowerBound + range.upperBound)
                out.base[part] = Result { () throws(KernelError) in try rows(lines: chunk, width: width) }
            }
        }
        var all: [[String]] = []
        all.reserveCapacity(results.reduce(0) { $0 + ((try? $1.get().count) ?? 0) })
        for result in results { all += try result.get() }
        return all
    }

    /// The rows on the whole lines `lines` of a loop body; blank and comment lines are skipped.
    private func rows(lines: Range<Int>, width: Int) throws(KernelError) -> [[String]] {
        var rows: [[String]] = []
        var i = lines.lowerBound
        while i < lines.upperBound {
            let start = i, end = STARLexer.lineEnd(bytes, from: i)
            i = end + 1
            if bytes[start] == UInt8(ascii: ";") { throw failure(at: start, Self.textFieldMessage) }
            var row: [String] = []
            row.reserveCapacity(width)
            var p = start, count = 0, first: STARLexer.Token?
            do throws(STARLexer.UnterminatedQuote) {
                while let t = try STARLexer.next(bytes, &p, end) {
                    if count < width { row.append(STARLexer.string(bytes, t)) }
                    if count == 0 { first = t }
                    count += 1
                }
            } catch {
                throw failure(at: error.position, "unterminated quote")
            }
            guard let first else { continue }
            if !first.quoted && STARLexer.isKeyword(bytes, first.start, end, "stop_") { throw failure(at: first.start, Self.stopMessage) }
            guard count == width else { throw failure(at: start, "row has \(count) values for \(width) columns") }
            rows.append(row)
        }
        return rows
    }
}
