import Foundation

/// Byte-level lexing shared by the STAR (RELION) and mmCIF readers, which use the same syntax: values separated
/// by spaces or tabs, `'…'`/`"…"` quoting (a quote closes only when a blank or the end of the line follows it),
/// and `#` comments. Positions are byte offsets into one UTF-8 buffer.
enum STARLexer {
    /// A value's bytes `start..<end` (quotes excluded).
    struct Token {
        var start: Int
        var end: Int
        var quoted: Bool
    }

    /// A quote opened at byte `position` that its line does not close.
    struct UnterminatedQuote: Error {
        let position: Int
    }

    /// Space, tab, or the carriage return of a CRLF line end.
    @inline(__always) static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    /// The offset of the line feed ending the line that contains `i` (or `bytes.count` on the last line).
    @inline(__always) static func lineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        guard i < bytes.count, let base = bytes.baseAddress, let hit = memchr(base + i, 0x0A, bytes.count - i) else { return bytes.count }
        return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
    }

    /// The first non-blank offset in `i..<end` (`end` if none).
    @inline(__always) static func skipBlanks(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var p = i
        while p < end && isBlank(bytes[p]) { p += 1 }
        return p
    }

    /// The next value in `bytes[i..<end]` (part of one line), moving `i` past it; nil at the end of the line or at
    /// a comment (a `#` where a value would start).
    @inline(__always)
    static func next(_ bytes: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ end: Int) throws(UnterminatedQuote) -> Token? {
        let p = skipBlanks(bytes, i, end)
        guard p < end, bytes[p] != UInt8(ascii: "#") else {
            i = end
            return nil
        }
        let first = bytes[p]
        if first == UInt8(ascii: "'") || first == UInt8(ascii: "\"") {
            var q = p + 1
            while q < end {
                if bytes[q] == first && (q + 1 == end || isBlank(bytes[q + 1])) {
                    i = q + 1
                    return Token(start: p + 1, end: q, quoted: true)
                }
                q += 1
            }
            throw UnterminatedQuote(position: p)
        }
        var q = p + 1
        while q < end && !isBlank(bytes[q]) { q += 1 }
        i = q
        return Token(start: p, end: q, quoted: false)
    }

    /// Whether `bytes[p..<end]` starts with the ASCII `word`.
    static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ p: Int, _ end: Int, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard end - p >= n else { return false }
        let w = word.utf8Start
        for k in 0..<n where bytes[p + k] != w[k] { return false }
        return true
    }

    /// Whether the unquoted value at `p` is exactly the reserved word `word` (e.g. `loop_`): it is followed by a blank
    /// or the end of the line.
    static func isKeyword(_ bytes: UnsafeBufferPointer<UInt8>, _ p: Int, _ end: Int, _ word: StaticString) -> Bool {
        let after = p + word.utf8CodeUnitCount
        return hasPrefix(bytes, p, end, word) && (after == end || isBlank(bytes[after]))
    }

    /// The token's text.
    @inline(__always) static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ t: Token) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[t.start..<t.end]), as: UTF8.self)
    }

    /// The 1-based line number of byte `offset` (counts line feeds before it; for error messages only).
    static func lineNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Int {
        var line = 1, i = 0
        let limit = Swift.min(offset, bytes.count)
        while i < limit {
            let e = lineEnd(bytes, from: i)
            guard e < limit else { break }
            line += 1
            i = e + 1
        }
        return line
    }
}
