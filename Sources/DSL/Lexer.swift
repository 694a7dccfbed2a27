import Foundation

/// Turns source text into tokens. Newlines are tokens (they end statements) except inside `(...)` and
/// `[...]`, where expressions may span lines; `#` starts a comment that runs to the end of the line.
public struct Lexer {
    private let file: SourceFile
    private let bytes: [UInt8]
    private var i = 0
    private var nesting: [Symbol] = []

    /// A lexer over `file`.
    public init(file: SourceFile) {
        self.file = file
        bytes = file.bytes
    }

    /// All tokens of the file, ending with `.end`; throws a `Diagnostic` on a malformed token.
    public static func tokenize(_ file: SourceFile) throws -> [Token] {
        var lexer = Lexer(file: file)
        var tokens: [Token] = []
        while true {
            let t = try lexer.next()
            tokens.append(t)
            if t.kind == .end { return tokens }
        }
    }

    private func range(_ start: Int) -> SourceRange { SourceRange(file: file, start: start, end: i) }

    private func peek(_ k: Int = 0) -> UInt8? { i + k < bytes.count ? bytes[i + k] : nil }

    private static func isIdentifierStart(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95 || c >= 0x80
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    private mutating func next() throws -> Token {
        while let c = peek() {
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") {
                i += 1
            } else if c == UInt8(ascii: "#") {
                while let d = peek(), d != UInt8(ascii: "\n") { i += 1 }
            } else if c == UInt8(ascii: "\n") && (nesting.last == .lparen || nesting.last == .lbracket) {
                i += 1
            } else {
                break
            }
        }
        let start = i
        guard let c = peek() else { return Token(kind: .end, range: range(start)) }
        if c == UInt8(ascii: "\n") {
            i += 1
            return Token(kind: .newline, range: range(start))
        }
        if Lexer.isIdentifierStart(c) {
            while let d = peek(), Lexer.isIdentifierStart(d) || Lexer.isDigit(d) { i += 1 }
            let word = String(decoding: bytes[start..<i], as: UTF8.self)
            if let k = Keyword(rawValue: word) { return Token(kind: .keyword(k), range: range(start)) }
            return Token(kind: .identifier(word), range: range(start))
        }
        if Lexer.isDigit(c) { return try number(start) }
        if c == UInt8(ascii: "\"") { return try string(start) }
        return try symbol(start)
    }

    private mutating func number(_ start: Int) throws -> Token {
        func digits() { while let d = peek(), Lexer.isDigit(d) || d == UInt8(ascii: "_") { i += 1 } }
        digits()
        if peek() == UInt8(ascii: "."), let d = peek(1), Lexer.isDigit(d) {
            i += 1
            digits()
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var k = 1
            if let s = peek(1), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { k = 2 }
            guard let d = peek(k), Lexer.isDigit(d) else {
                i += k
                throw Diagnostic("malformed number: expected digits after the exponent", at: range(start))
            }
            i += k
            digits()
        }
        if let d = peek(), Lexer.isIdentifierStart(d) {
            while let d = peek(), Lexer.isIdentifierStart(d) || Lexer.isDigit(d) { i += 1 }
            throw Diagnostic("malformed number: letters right after digits", at: range(start))
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self).replacingOccurrences(of: "_", with: "")
        guard let value = Double(text) else { throw Diagnostic("malformed number '\(text)'", at: range(start)) }
        return Token(kind: .number(value), range: range(start))
    }

    private mutating func string(_ start: Int) throws -> Token {
        i += 1
        var scalars: [UInt8] = []
        while true {
            guard let c = peek(), c != UInt8(ascii: "\n") else {
                throw Diagnostic("unterminated string: expected a closing '\"'", at: range(start), incompleteInput: peek() == nil)
            }
            i += 1
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                guard let e = peek() else { continue }
                i += 1
                switch e {
                case UInt8(ascii: "n"): scalars.append(10)
                case UInt8(ascii: "t"): scalars.append(9)
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): scalars.append(e)
                default:
                    throw Diagnostic("unknown escape '\\\(Character(UnicodeScalar(e)))' in string (use \\n, \\t, \\\" or \\\\)",
                                     at: SourceRange(file: file, start: i - 2, end: i))
                }
            } else {
                scalars.append(c)
            }
        }
        return Token(kind: .string(String(decoding: scalars, as: UTF8.self)), range: range(start))
    }

    private mutating func symbol(_ start: Int) throws -> Token {
        let c = bytes[i]
        for length in [2, 1] where i + length <= bytes.count {
            let text = String(decoding: bytes[i..<(i + length)], as: UTF8.self)
            guard let s = Symbol(rawValue: text) else { continue }
            i += length
            switch s {
            case .lparen, .lbracket, .lbrace: nesting.append(s)
            case .rparen, .rbracket, .rbrace: if !nesting.isEmpty { nesting.removeLast() }
            default: break
            }
            return Token(kind: .symbol(s), range: range(start))
        }
        i += 1
        let shown = c < 0x80 ? "'\(Character(UnicodeScalar(c)))'" : "a non-ASCII character"
        var hint = ""
        if c == UInt8(ascii: "!") { hint = " (use 'not' for negation)" }
        if c == UInt8(ascii: "&") { hint = " (use 'and')" }
        if c == UInt8(ascii: "'") { hint = " (strings use double quotes)" }
        throw Diagnostic("unexpected character \(shown)\(hint)", at: range(start))
    }
}
