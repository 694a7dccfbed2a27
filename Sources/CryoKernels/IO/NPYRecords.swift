import Foundation

/// A 1-D structured NumPy `.npy` array (format 1.0, 2.0 or 3.0), as cryoSPARC writes its `.cs` files: records of
/// named fields, each a number (`f4 f8`, `u1 u2 u4 u8`, `i1 i2 i4 i8`, `b1`; either byte order) or a byte string
/// (`|Sn`), optionally a sub-array such as `(3,)`. Other field types (unicode, void padding, dates) are skipped
/// unless read; object fields (`|O`, pickled Python objects) make the file unreadable.
struct NPYRecords {
    /// How a field's elements are stored.
    enum Kind {
        case float, unsigned, signed, bytes, other
    }

    /// One field of the record layout.
    struct Field {
        /// The field's name, e.g. `blob/path`.
        let name: String
        /// The NumPy type string, e.g. `<f4` or `|S61`.
        let type: String
        let kind: Kind
        let bigEndian: Bool
        /// Byte offset within a record.
        let offset: Int
        /// Bytes per element.
        let size: Int
        /// Elements per record (the product of the sub-array shape; 1 for a scalar).
        let count: Int
    }

    /// Where the array came from, for messages.
    let name: String
    let op: String
    /// Number of records.
    let count: Int
    /// Bytes per record.
    let stride: Int
    let fields: [Field]
    private let data: Data
    /// Offset of the first record in `data`.
    private let start: Int

    /// Reads the `.npy` file at `path`.
    init(path: String, op: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw KernelError(op, "\(path): no such file or not readable") }
        try self.init(data: data, name: path, op: op)
    }

    /// Parses `.npy` bytes; errors name `name`.
    init(data: Data, name: String, op: String) throws {
        self.data = data
        self.name = name
        self.op = op
        let reader = BinaryReader(data: data, name: name, op: op)
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard data.count >= 6, try reader.bytes(0, 6, "the magic string") == magic else {
            throw KernelError(op, "\(name): not a NumPy .npy file (a .cs file starts with the bytes \\x93NUMPY)")
        }
        let version = try reader.bytes(6, 2, "the format version")
        let headerLength: Int, headerStart: Int
        switch version[0] {
        case 1:
            headerLength = Int(try reader.bytes(8, 2, "the header length").reversed().reduce(0) { $0 << 8 | Int($1) })
            headerStart = 10
        case 2, 3:
            headerLength = Int(try reader.uint32(8, "the header length"))
            headerStart = 12
        default:
            throw KernelError(op, "\(name): .npy format version \(version[0]).\(version[1]) is not supported (1.0, 2.0 and 3.0 are)")
        }
        let headerText = String(decoding: try reader.bytes(headerStart, headerLength, "the header"), as: UTF8.self)
        guard let header = PythonLiteral.parse(headerText) else {
            throw KernelError(op, "\(name): the .npy header is not a Python dict literal: \(headerText.prefix(200))")
        }
        guard let shape = header["shape"]?.sequence, shape.count == 1, let count = shape[0].integer, count >= 0 else {
            throw KernelError(op, "\(name): the .npy header's shape must be one dimension (N,) of records, got \(headerText.prefix(200))")
        }
        guard let descr = header["descr"]?.sequence else {
            let plain = header["descr"]?.string.map { "a plain \($0) array" } ?? "no record description"
            throw KernelError(op, "\(name): holds \(plain), not a structured array of named fields (a cryoSPARC .cs file)")
        }
        var fields: [Field] = [], offset = 0
        for item in descr {
            let field = try Self.field(item, offset: offset, name: name, op: op)
            fields.append(field)
            offset = try Self.checked(offset, plus: Self.checked(field.size, times: field.count, name, op), name, op)
        }
        self.count = count
        self.stride = offset
        self.fields = fields
        self.start = headerStart + headerLength
        try reader.require(start, Self.checked(count, times: stride, name, op), "\(count) records of \(stride) bytes")
    }

    /// a·b, or an error if the header's sizes overflow.
    private static func checked(_ a: Int, times b: Int, _ name: String, _ op: String) throws -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw KernelError(op, "\(name): the .npy header describes more data than can exist (\(a) × \(b) bytes)") }
        return product
    }

    /// a + b, or an error if the header's sizes overflow.
    private static func checked(_ a: Int, plus b: Int, _ name: String, _ op: String) throws -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw KernelError(op, "\(name): the .npy header describes more data than can exist (\(a) + \(b) bytes)") }
        return sum
    }

    /// The field described by one `descr` entry, `(name, type)` or `(name, type, shape)`, at byte `offset`.
    private static func field(_ item: PythonLiteral, offset: Int, name: String, op: String) throws -> Field {
        guard let parts = item.sequence, parts.count == 2 || parts.count == 3, let fieldName = parts[0].string else {
            throw KernelError(op, "\(name): a field of the record description is not a (name, type[, shape]) tuple of strings")
        }
        guard let type = parts[1].string else {
            throw KernelError(op, "\(name): field '\(fieldName)' is itself a structure; nested records are not supported")
        }
        var count = 1
        if parts.count == 3 {
            guard let dims = parts[2].sequence?.compactMap(\.integer), dims.count == parts[2].sequence?.count, dims.allSatisfy({ $0 >= 0 }) else {
                throw KernelError(op, "\(name): field '\(fieldName)' has a sub-array shape that is not a tuple of sizes")
            }
            count = try dims.reduce(1) { try checked($0, times: $1, name, op) }
        }
        var chars = Array(type.utf8)
        let order = chars.first.flatMap { "<>|=".utf8.contains($0) ? $0 : nil }
        if order != nil { chars.removeFirst() }
        guard let letter = chars.first else { throw KernelError(op, "\(name): field '\(fieldName)' has an empty type") }
        let digits = chars.dropFirst().prefix { $0 >= 0x30 && $0 <= 0x39 }
        let width = Int(String(decoding: digits, as: UTF8.self))
        let kind: Kind, size: Int
        switch (letter, width) {
        case (UInt8(ascii: "O"), _):
            throw KernelError(op, "\(name): field '\(fieldName)' has object type \(type) (pickled Python objects), which cannot be read without Python")
        case (UInt8(ascii: "f"), 4), (UInt8(ascii: "f"), 8): (kind, size) = (.float, width ?? 0)
        case (UInt8(ascii: "u"), 1), (UInt8(ascii: "u"), 2), (UInt8(ascii: "u"), 4), (UInt8(ascii: "u"), 8),
             (UInt8(ascii: "b"), 1): (kind, size) = (.unsigned, width ?? 0)
        case (UInt8(ascii: "i"), 1), (UInt8(ascii: "i"), 2), (UInt8(ascii: "i"), 4), (UInt8(ascii: "i"), 8): (kind, size) = (.signed, width ?? 0)
        case (UInt8(ascii: "S"), .some(let n)): (kind, size) = (.bytes, n)
        case (UInt8(ascii: "U"), .some(let n)): (kind, size) = (.other, 4 * n)
        case (_, .some(let n)): (kind, size) = (.other, n)
        default:
            throw KernelError(op, "\(name): field '\(fieldName)' has type \(type), whose size this reader does not know")
        }
        return Field(name: fieldName, type: type, kind: kind, bigEndian: order == UInt8(ascii: ">"), offset: offset, size: size, count: count)
    }

    /// The field called `field`, if present.
    func field(_ field: String) -> Field? { fields.first { $0.name == field } }

    /// A numeric field's values as Double, `count × field.count` of them, record after record.
    func numbers(_ field: Field) throws -> [Double] {
        guard [.float, .unsigned, .signed].contains(field.kind) else {
            throw KernelError(op, "\(name): field '\(field.name)' has type \(field.type), not a number")
        }
        return data.withUnsafeBytes { raw in
            var values: [Double] = []
            values.reserveCapacity(count * field.count)
            for i in 0..<count {
                for k in 0..<field.count {
                    values.append(Self.number(raw, at: start + i * stride + field.offset + k * field.size, field))
                }
            }
            return values
        }
    }

    /// One element of a numeric field at byte `offset`.
    private static func number(_ raw: UnsafeRawBufferPointer, at offset: Int, _ field: Field) -> Double {
        var bits: UInt64 = 0
        for b in 0..<field.size {
            let byte = UInt64(raw[offset + (field.bigEndian ? field.size - 1 - b : b)])
            bits |= byte << (8 * UInt64(b))
        }
        switch (field.kind, field.size) {
        case (.float, 4): return Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
        case (.float, _): return Double(bitPattern: bits)
        case (.signed, _):
            let shift = UInt64(64 - 8 * field.size)
            return Double(Int64(bitPattern: bits << shift) >> shift)
        default: return Double(bits)
        }
    }

    /// A byte-string field's values (each up to its first NUL, as UTF-8), one per record; sub-arrays are refused.
    func strings(_ field: Field) throws -> [String] {
        guard field.kind == .bytes, field.count == 1 else {
            throw KernelError(op, "\(name): field '\(field.name)' has type \(field.type)\(field.count == 1 ? "" : " ×\(field.count)"), not a byte string")
        }
        return data.withUnsafeBytes { raw in
            (0..<count).map { i in
                let from = start + i * stride + field.offset
                let bytes = raw[from..<(from + field.size)]
                return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
    }
}
