import Foundation

/// MRC2014 image stacks (MRCS) and maps: reading modes 0 (int8), 1 (int16), 2 (float32), 6 (uint16) and
/// 12 (float16) in either byte order, memory-mapped so a stack larger than RAM can be streamed image by image;
/// writing mode 2 little-endian stacks (`ispg = 0`, `mz = 1`, the pixel size in the cell) and volumes (`ispg = 1`,
/// the voxel size in the cell, the origin in the header).
public final class MRCFile: @unchecked Sendable {
    /// Width, height and number of sections (images).
    public let nx: Int, ny: Int, nz: Int
    /// The data mode (2 = float32).
    public let mode: Int
    /// Pixel size in Å read from the cell (0 when the header has none).
    public let pixel: Float
    /// The file path.
    public let path: String
    /// Map header fields (for `MRCMapHeader`): which axis (1 = x, 2 = y, 3 = z) columns, rows and sections run
    /// along; the start index of columns, rows and sections; the sampling (mx, my, mz) and cell lengths (Å) along
    /// x, y, z; the header origin (Å, x, y, z).
    public let axisOrder: [Int], start: [Int], sampling: [Int], cell: [Float], headerOrigin: [Float]
    private let reader: BinaryReader
    private let dataOffset: Int

    /// Bytes per value of each supported mode.
    static let bytesPerValue: [Int: Int] = [0: 1, 1: 2, 2: 4, 6: 2, 12: 2]

    /// Opens `path` (memory-mapped) and validates its header against the file size.
    public init(path: String, op: String = "read_mrcs") throws {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
            throw KernelError(op, "\(path): no such file or not readable")
        }
        guard data.count >= 1024 else {
            throw KernelError(op, "\(path): \(data.count) bytes is shorter than the 1024-byte MRC header; truncated or not an MRC file")
        }
        var r = BinaryReader(data: data, name: path, op: op)
        let stamp = try r.bytes(212, 4, "the machine stamp")
        let modeLittle = try r.int32(12, "the mode")
        if stamp[0] == 0x11 || (stamp[0] != 0x44 && stamp[0] != 0x41 && !(0...12).contains(modeLittle)) { r.bigEndian = true }
        let nx = Int(try r.int32(0, "nx")), ny = Int(try r.int32(4, "ny")), nz = Int(try r.int32(8, "nz"))
        let mode = Int(try r.int32(12, "the mode"))
        guard nx > 0, ny > 0, nz > 0, nx <= 1 << 16, ny <= 1 << 16 else {
            throw KernelError(op, "\(path): header dimensions \(nx)×\(ny)×\(nz) are not positive and plausible; not an MRC file?")
        }
        guard let width = MRCFile.bytesPerValue[mode] else {
            throw KernelError(op, "\(path): data mode \(mode) is not supported (supported: 0 int8, 1 int16, 2 float32, 6 uint16, 12 float16)")
        }
        let extended = Int(try r.int32(92, "the extended header size"))
        guard extended >= 0 else { throw KernelError(op, "\(path): negative extended header size \(extended)") }
        let (needed, overflow) = (nx * ny * width).multipliedReportingOverflow(by: nz)
        guard !overflow else { throw KernelError(op, "\(path): header dimensions \(nx)×\(ny)×\(nz) describe more data than can exist; not an MRC file?") }
        guard 1024 + extended <= data.count, needed <= data.count - 1024 - extended else {
            throw KernelError(op, "\(path): header promises \(nz) images of \(nx)×\(ny) mode-\(mode) values (\(needed) bytes after \(1024 + extended) header bytes) but the file holds \(data.count) bytes; truncated or the header lies")
        }
        let mx = Int(try r.int32(28, "mx")), cellX = try r.float32(40, "the cell size")
        axisOrder = try [64, 68, 72].map { Int(try r.int32($0, "the axis order")) }
        start = try [16, 20, 24].map { Int(try r.int32($0, "the start index")) }
        sampling = try [28, 32, 36].map { Int(try r.int32($0, "the sampling")) }
        cell = try [40, 44, 48].map { try r.float32($0, "the cell size") }
        headerOrigin = try [196, 200, 204].map { try r.float32($0, "the origin") }
        self.nx = nx
        self.ny = ny
        self.nz = nz
        self.mode = mode
        self.pixel = mx > 0 && cellX.isFinite && cellX > 0 ? cellX / Float(mx) : 0
        self.path = path
        reader = r
        dataOffset = 1024 + extended
    }

    /// Images `range` as Float32 values, row-major (each ny rows of nx values).
    public func images(_ range: Range<Int>) throws -> [Float] {
        guard range.lowerBound >= 0, range.upperBound <= nz else {
            throw KernelError("read_mrcs", "\(path): images \(range) out of range for a stack of \(nz)")
        }
        let perImage = nx * ny, count = range.count * perImage
        let width = MRCFile.bytesPerValue[mode] ?? 4
        let start = dataOffset + range.lowerBound * perImage * width
        try reader.require(start, count * width, "image data")
        let big = reader.bigEndian
        return reader.data.withUnsafeBytes { raw in
            (0..<count).map { k -> Float in
                let o = start + k * width
                switch mode {
                case 0: return Float(Int8(bitPattern: raw[o]))
                case 1:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)
                    return Float(Int16(bitPattern: big ? UInt16(bigEndian: v) : UInt16(littleEndian: v)))
                case 6:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)
                    return Float(big ? UInt16(bigEndian: v) : UInt16(littleEndian: v))
                case 12:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)
                    return Float(Float16(bitPattern: big ? UInt16(bigEndian: v) : UInt16(littleEndian: v)))
                default:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)
                    return Float(bitPattern: big ? UInt32(bigEndian: v) : UInt32(littleEndian: v))
                }
            }
        }
    }

    /// Lets the kernel drop the file pages holding images `range` (they are read again from disk if needed).
    public func release(_ range: Range<Int>) {
        let width = MRCFile.bytesPerValue[mode] ?? 4
        let start = dataOffset + range.lowerBound * nx * ny * width, length = range.count * nx * ny * width
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        reader.data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            // Only whole pages inside the range: a neighbouring image's page may still be wanted.
            let first = (Int(bitPattern: base) + start + page - 1) / page * page
            let last = (Int(bitPattern: base) + start + length) / page * page
            guard last > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
            _ = madvise(pointer, last - first, MADV_DONTNEED)
        }
    }

    /// The whole stack as a `[nz, ny, nx]` tensor.
    public func tensor() throws -> Tensor {
        Tensor(uncheckedShape: [nz, ny, nx], storage: try images(0..<nz))
    }

    /// Writes `images` ([B,D,D] or one [D,D]) as a mode-2 MRC stack with pixel size `pixel` Å.
    public static func write(_ path: String, images: Tensor, pixel: Float, op: String = "write_mrcs") throws {
        guard images.rank == 2 || images.rank == 3, images.count > 0 else {
            throw KernelError.shape(op, expected: "images [B,H,W] or [H,W]", got: images.shape)
        }
        guard pixel > 0, pixel.isFinite else { throw KernelError(op, "pixel size must be positive, got \(pixel)") }
        let nz = images.rank == 3 ? images.shape[0] : 1
        let ny = images.shape[images.rank - 2], nx = images.shape[images.rank - 1]
        try write(path, size: [nx, ny, nz], sampling: [nx, ny, 1], cell: [Float(nx) * pixel, Float(ny) * pixel, pixel],
                  spaceGroup: 0, origin: [0, 0, 0], values: images.storage, op: op)
    }

    /// Writes `map` as a mode-2 MRC2014 volume (`ispg = 1`, axes x, y, z, start indices 0) with its voxel size in
    /// the cell and its origin (Å of voxel 0) in the header, where ChimeraX and RELION read it.
    public static func write(_ path: String, map: DensityMap, op: String = "write_mrc") throws {
        let cell = (0..<3).map { Float(map.size[$0]) * map.spacing[$0] }
        try write(path, size: map.size, sampling: map.size, cell: cell, spaceGroup: 1, origin: map.origin, values: map.values, op: op)
    }

    /// Writes a little-endian mode-2 file of `size` (nx, ny, nz) values, the header's sampling (mx, my, mz), cell
    /// lengths (Å), space group and origin (Å) as given, and its statistics computed from `values`.
    private static func write(_ path: String, size: [Int], sampling: [Int], cell: [Float], spaceGroup: Int, origin: [Float],
                              values: [Float], op: String) throws {
        var w = BinaryWriter()
        var minimum = Float.infinity, maximum = -Float.infinity, sum = 0.0, squares = 0.0
        for v in values { minimum = Swift.min(minimum, v); maximum = Swift.max(maximum, v); sum += Double(v); squares += Double(v) * Double(v) }
        let n = Double(values.count), mean = sum / n
        for v in size + [2, 0, 0, 0] + sampling { w.int32(Int32(v)) }
        for v in cell + [90, 90, 90] { w.float32(v) }
        for v in [1, 2, 3] { w.int32(Int32(v)) }
        for v in [minimum, maximum, Float(mean)] { w.float32(v) }
        w.int32(Int32(spaceGroup))      // ispg: 0 image stack, 1 volume
        w.int32(0)                      // no extended header
        w.zeros(8)                      // extra
        w.bytes([0, 0, 0, 0])           // exttyp
        w.int32(20140)                  // nversion
        w.zeros(100 - 16)               // rest of extra
        for v in origin { w.float32(v) }
        w.bytes(Array("MAP ".utf8))
        w.bytes([0x44, 0x44, 0, 0])     // little-endian machine stamp
        w.float32(Float(Swift.max(0, squares / n - mean * mean).squareRoot()))
        w.int32(1)
        let label = Array("CryoScript".utf8)
        w.bytes(label + [UInt8](repeating: 32, count: 80 - label.count))
        w.zeros(9 * 80)
        values.withUnsafeBufferPointer { buffer in
            w.append(Data(buffer: buffer))
        }
        try AtomicFile.write(w.data, to: path, op: op)
    }
}
