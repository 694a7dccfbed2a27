import Foundation

/// CHARMM/NAMD DCD trajectories (Fortran unformatted records, either byte order, 4- or 8-byte record markers).
/// Frames are read with a PDB as topology: its atom count must equal the trajectory's, and the atoms it
/// selected are picked out of every frame. Written as CHARMM writes them: little-endian, 4-byte markers,
/// no unit cell, float32 coordinates in Å.
public enum DCDFile {
    /// Reads every frame of `path` as models of `topology`'s selected atoms.
    public static func read(_ path: String, like topology: Structure) throws -> Structure {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
            throw KernelError("read_dcd", "\(path): no such file or not readable")
        }
        var r = BinaryReader(data: data, name: path, op: "read_dcd")
        guard data.count >= 8 else { throw KernelError("read_dcd", "\(path): only \(data.count) bytes; not a DCD file") }
        // The 84-byte header record's leading and trailing markers: 4 bytes, or 8 (some 64-bit Fortran
        // compilers), in either byte order.
        var marker = 0
        search: for width in [4, 8] {
            for big in [false, true] {
                r.bigEndian = big
                let read = { (at: Int) -> Int? in width == 4 ? (try? r.int32(at, "the header marker")).map(Int.init) : (try? r.int64(at, "the header marker")).map(Int.init) }
                if read(0) == 84, read(width + 84) == 84 {
                    marker = width
                    break search
                }
            }
        }
        guard marker > 0 else {
            throw KernelError("read_dcd", "\(path): does not start with an 84-byte header record; not a CHARMM/NAMD DCD file")
        }
        var offset = 0
        /// Reads one record's bounds, checking that its leading and trailing markers agree.
        func record(_ what: String) throws -> (start: Int, length: Int) {
            let length = marker == 4 ? Int(try r.int32(offset, "the marker of \(what)")) : Int(try r.int64(offset, "the marker of \(what)"))
            let start = offset + marker
            guard length >= 0 else { throw KernelError("read_dcd", "\(path): \(what) has a negative record length \(length); corrupt file") }
            try r.require(start, length, what)
            let trailing = marker == 4 ? Int(try r.int32(start + length, "the end marker of \(what)")) : Int(try r.int64(start + length, "the end marker of \(what)"))
            guard trailing == length else {
                throw KernelError("read_dcd", "\(path): \(what) has mismatched record markers (\(length) vs \(trailing)); corrupt file")
            }
            offset = start + length + marker
            return (start, length)
        }
        let header = try record("the header")
        guard header.length == 84, try r.bytes(header.start, 4, "the CORD tag") == Array("CORD".utf8) else {
            throw KernelError("read_dcd", "\(path): header record lacks the CORD tag; not a coordinate DCD file")
        }
        let control = try (0..<20).map { try r.int32(header.start + 4 + 4 * $0, "the control words") }
        let fixedAtoms = Int(control[8]), charmm = control[19] != 0
        let hasUnitCell = charmm && control[10] != 0, hasFourthDimension = charmm && control[11] != 0
        guard fixedAtoms == 0 else {
            throw KernelError("read_dcd", "\(path): \(fixedAtoms) fixed atoms; trajectories with fixed atoms are not supported")
        }
        _ = try record("the title")
        let atomsRecord = try record("the atom count")
        let atoms = Int(try r.int32(atomsRecord.start, "the atom count"))
        guard atoms > 0 else { throw KernelError("read_dcd", "\(path): atom count \(atoms) is not positive") }
        if let expected = topology.sourceAtomCount, expected != atoms {
            throw KernelError("read_dcd", "\(path) has \(atoms) atoms per frame but the topology \(topology.origin) has \(expected); they do not describe the same system")
        }
        if topology.sourceAtomCount == nil && topology.count != atoms {
            throw KernelError("read_dcd", "\(path) has \(atoms) atoms per frame but the topology has \(topology.count)")
        }
        var models: [[Double]] = []
        while offset < data.count {
            if hasUnitCell { _ = try record("the unit cell of frame \(models.count + 1)") }
            var axes: [[Float]] = []
            for axis in ["x", "y", "z"] {
                let rec = try record("the \(axis) coordinates of frame \(models.count + 1)")
                guard rec.length == 4 * atoms else {
                    throw KernelError("read_dcd", "\(path): frame \(models.count + 1) \(axis) record holds \(rec.length / 4) values for \(atoms) atoms")
                }
                axes.append(try r.float32s(rec.start, atoms, "coordinates"))
            }
            if hasFourthDimension { _ = try record("the fourth dimension of frame \(models.count + 1)") }
            models.append(topology.sourceIndices.flatMap { i in [Double(axes[0][i]), Double(axes[1][i]), Double(axes[2][i])] })
        }
        guard !models.isEmpty else { throw KernelError("read_dcd", "\(path): no frames") }
        var result = topology
        result.models = models
        result.origin = path
        return result
    }

    /// Writes `models` (each 3·N Å values, x y z per atom) as a CHARMM DCD: the 84-byte header record ("CORD",
    /// 20 control words: frames, first step 0, step interval 1, total steps, no fixed atoms, timestep 1 as float32,
    /// no unit cell, CHARMM version 24 in the last word), one 80-byte title line, the atom count, then the x, y
    /// and z records of each frame.
    public static func write(_ path: String, models: [[Double]], title: String = "WRITTEN BY CRYOSCRIPT") throws {
        guard let atoms = models.first?.count, atoms > 0, atoms % 3 == 0 else { throw KernelError("write_dcd", "\(path): no frames or no atoms to write") }
        for (k, m) in models.enumerated() where m.count != atoms {
            throw KernelError("write_dcd", "\(path): frame \(k + 1) has \(m.count / 3) atoms, frame 1 has \(atoms / 3)")
        }
        var bytes: [UInt8] = []
        func int32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        func record(_ body: () -> Void) {
            let start = bytes.count
            int32(0)
            body()
            let length = Int32(bytes.count - start - 4)
            withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(start..<(start + 4), with: $0) }
            int32(length)
        }
        var control = [Int32](repeating: 0, count: 20)
        control[0] = Int32(models.count)
        control[2] = 1
        control[3] = Int32(models.count)
        control[9] = Int32(bitPattern: Float(1).bitPattern)
        control[19] = 24
        record { bytes += Array("CORD".utf8); control.forEach(int32) }
        let line = Array((title.unicodeScalars.filter(\.isASCII).map(String.init).joined().prefix(80) + String(repeating: " ", count: 80)).utf8.prefix(80))
        record { int32(1); bytes += line }
        record { int32(Int32(atoms / 3)) }
        for m in models {
            for axis in 0..<3 {
                record { for i in 0..<(atoms / 3) { withUnsafeBytes(of: Float(m[3 * i + axis]).bitPattern.littleEndian) { bytes += $0 } } }
            }
        }
        try AtomicFile.write(Data(bytes), to: path, op: "write_dcd")
    }
}
