import Foundation

/// Bounds-checked reads of little- or big-endian numbers from file bytes; every read past the end throws
/// an error naming the file and what was being read.
struct BinaryReader {
    let data: Data
    let name: String
    let op: String
    var bigEndian = false

    /// Throws unless `count` bytes are available at `offset`.
    func require(_ offset: Int, _ count: Int, _ what: String) throws {
        guard offset >= 0, count >= 0, offset <= data.count, count <= data.count - offset else {
            throw KernelError(op, "\(name): file ends at byte \(data.count) while reading \(what) (needs \(count) bytes from byte \(offset)); truncated?")
        }
    }

    func uint32(_ offset: Int, _ what: String) throws -> UInt32 {
        try require(offset, 4, what)
        let raw = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }

    func int32(_ offset: Int, _ what: String) throws -> Int32 { Int32(bitPattern: try uint32(offset, what)) }

    func int64(_ offset: Int, _ what: String) throws -> Int64 {
        try require(offset, 8, what)
        let raw = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
        return Int64(bitPattern: bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw))
    }

    func float32(_ offset: Int, _ what: String) throws -> Float { Float(bitPattern: try uint32(offset, what)) }

    /// `count` consecutive float32 values starting at `offset`.
    func float32s(_ offset: Int, _ count: Int, _ what: String) throws -> [Float] {
        try require(offset, 4 * count, what)
        return data.withUnsafeBytes { raw in
            (0..<count).map { k in
                let v = raw.loadUnaligned(fromByteOffset: offset + 4 * k, as: UInt32.self)
                return Float(bitPattern: bigEndian ? UInt32(bigEndian: v) : UInt32(littleEndian: v))
            }
        }
    }

    func bytes(_ offset: Int, _ count: Int, _ what: String) throws -> [UInt8] {
        try require(offset, count, what)
        return [UInt8](data[(data.startIndex + offset)..<(data.startIndex + offset + count)])
    }
}

/// Little-endian byte output for writers.
struct BinaryWriter {
    private(set) var data = Data()

    mutating func int32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func float32(_ v: Float) { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
    mutating func zeros(_ n: Int) { data.append(contentsOf: [UInt8](repeating: 0, count: n)) }
    mutating func append(_ d: Data) { data.append(d) }
}
