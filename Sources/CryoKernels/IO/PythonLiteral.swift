/// The Python literals a NumPy `.npy` header is written in: a dict of strings, integers, booleans, `None`,
/// tuples and lists (tuples and lists both become `sequence`).
indirect enum PythonLiteral {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case none
    case sequence([PythonLiteral])
    case dictionary([(key: String, value: PythonLiteral)])

    /// Parses `text` as one literal (surrounding blanks allowed); nil if it is not one.
    static func parse(_ text: String) -> PythonLiteral? {
        var parser = Parser(bytes: Array(text.utf8))
        guard let value = parser.value() else { return nil }
        parser.skipBlanks()
        return parser.position == parser.bytes.count ? value : nil
    }

    /// The string, if this is one.
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The integer, if this is one.
    var integer: Int? { if case .integer(let n) = self { return n } else { return nil } }
    /// The elements, if this is a tuple or list.
    var sequence: [PythonLiteral]? { if case .sequence(let items) = self { return items } else { return nil } }
    /// The value under `key`, if this is a dict holding it.
    subscript(key: String) -> PythonLiteral? {
        if case .dictionary(let entries) = self { return entries.first { $0.key == key }?.value }
        return nil
    }

    /// A recursive-descent reader over the literal's bytes.
    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        mutating func skipBlanks() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        /// Consumes `byte` (after blanks) if it comes next.
        mutating func take(_ byte: UInt8) -> Bool {
            skipBlanks()
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func value() -> PythonLiteral? {
            skipBlanks()
            guard position < bytes.count else { return nil }
            switch bytes[position] {
            case UInt8(ascii: "'"), UInt8(ascii: "\""): return quoted().map(PythonLiteral.string)
            case UInt8(ascii: "("): return items(closing: UInt8(ascii: ")")).map(PythonLiteral.sequence)
            case UInt8(ascii: "["): return items(closing: UInt8(ascii: "]")).map(PythonLiteral.sequence)
            case UInt8(ascii: "{"): return dictionary()
            default: return word()
            }
        }

        /// A quoted string; a backslash keeps the next character as it is.
        mutating func quoted() -> String? {
            let quote = bytes[position]
            position += 1
            var text: [UInt8] = []
            while position < bytes.count {
                let b = bytes[position]
                position += 1
                if b == quote { return String(decoding: text, as: UTF8.self) }
                if b == UInt8(ascii: "\\") {
                    guard position < bytes.count else { return nil }
                    text.append(bytes[position])
                    position += 1
                } else {
                    text.append(b)
                }
            }
            return nil
        }

        /// Comma-separated values up to `closing` (a trailing comma allowed, as in `(3,)`).
        mutating func items(closing: UInt8) -> [PythonLiteral]? {
            position += 1
            var items: [PythonLiteral] = []
            while !take(closing) {
                guard let item = value() else { return nil }
                items.append(item)
                if !take(UInt8(ascii: ",")) {
                    guard take(closing) else { return nil }
                    break
                }
            }
            return items
        }

        mutating func dictionary() -> PythonLiteral? {
            position += 1
            var entries: [(key: String, value: PythonLiteral)] = []
            while !take(UInt8(ascii: "}")) {
                guard let key = value()?.string, take(UInt8(ascii: ":")), let item = value() else { return nil }
                entries.append((key, item))
                if !take(UInt8(ascii: ",")) {
                    guard take(UInt8(ascii: "}")) else { return nil }
                    break
                }
            }
            return .dictionary(entries)
        }

        /// An integer (Python 2's `L` suffix allowed), `True`, `False` or `None`.
        mutating func word() -> PythonLiteral? {
            let start = position
            while position < bytes.count, bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "_")
                    || (bytes[position] >= 0x30 && bytes[position] <= 0x39) || (bytes[position] | 0x20 >= 0x61 && bytes[position] | 0x20 <= 0x7A) {
                position += 1
            }
            var text = String(decoding: bytes[start..<position], as: UTF8.self)
            switch text {
            case "True": return .boolean(true)
            case "False": return .boolean(false)
            case "None": return PythonLiteral.none
            default:
                if text.hasSuffix("L") { text.removeLast() }
                return Int(text).map(PythonLiteral.integer)
            }
        }
    }
}
