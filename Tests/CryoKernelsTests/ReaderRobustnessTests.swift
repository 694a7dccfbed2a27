import Foundation
import XCTest
@testable import CryoKernels

/// Every reader of the field's formats fed thousands of seeded mutations of a valid file (bytes and header words
/// overwritten, lines deleted, repeated or swapped, values replaced by NaN, huge, negative or malformed ones, the
/// file cut short) either reads it or throws a `KernelError` that names a file: a user's damaged file never traps
/// the process, hangs or asks for unbounded memory.
final class ReaderRobustnessTests: XCTestCase {
    private var folder: TemporaryFolder!

    override func setUpWithError() throws { folder = try TemporaryFolder("cryo-mutants") }

    override func tearDownWithError() throws {
        folder?.remove()
        folder = nil
    }

    /// Values that break naive parsers: empty, non-numeric, non-finite, huge, negative, zero, half a list.
    private static let hostileTokens = ["", "nan", "-nan", "inf", "-inf", "1e40", "-1e40", "9223372036854775807", "-1", "0", "-0",
                                        "abc", "[1,2", "[]", "[", "]", "1@", "@", "0@stack.mrcs", "99999999@stack.mrcs", "-3@stack.mrcs",
                                        "\"", "'", "_rlnImageName", "data_", "loop_", "#", "2147483648", "1.5", "4294967297"]

    /// Reads `mutants` seeded mutations of `original` (written to a file named `name` in the folder) with `read`;
    /// returns how many read without error. Any error other than a `KernelError` naming a file fails the test.
    private func survive(_ name: String, _ original: Data, mutants: Int, seed: UInt64, text: Bool,
                         file: StaticString = #filePath, line: UInt = #line, read: (String) throws -> Void) throws -> Int {
        var g = SeededGenerator(seed: seed)
        let path = folder.path(name)
        try original.write(to: URL(fileURLWithPath: path))
        try read(path)
        var readable = 0
        for _ in 0..<mutants {
            let mutant = text ? Self.mutateText(original, using: &g) : Self.mutateBinary(original, using: &g)
            try mutant.write(to: URL(fileURLWithPath: path))
            do {
                try read(path)
                readable += 1
            } catch let error as KernelError {
                XCTAssertTrue(error.message.contains(folder.url.lastPathComponent) || error.message.contains(name),
                              "the error names no file: \(error)", file: file, line: line)
            }
        }
        return readable
    }

    /// One to three edits of text lines: delete, repeat or swap lines, replace a token, insert garbage, cut short.
    static func mutateText(_ data: Data, using g: inout SeededGenerator) -> Data {
        var lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
        for _ in 0..<Int.random(in: 1...3, using: &g) where !lines.isEmpty {
            let i = Int.random(in: 0..<lines.count, using: &g)
            switch Int.random(in: 0..<6, using: &g) {
            case 0: lines.remove(at: i)
            case 1: lines.insert(lines[i], at: i)
            case 2: lines.swapAt(i, Int.random(in: 0..<lines.count, using: &g))
            case 3:
                var tokens = lines[i].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                if !tokens.isEmpty { tokens[Int.random(in: 0..<tokens.count, using: &g)] = hostileTokens.randomElement(using: &g)! }
                lines[i] = tokens.joined(separator: " ")
            case 4: lines.insert(String((0..<Int.random(in: 1...40, using: &g)).map { _ in Character(UnicodeScalar(UInt8.random(in: 32...126, using: &g))) }), at: i)
            default:
                let cut = Int.random(in: 0...lines[i].count, using: &g)
                lines[i] = String(lines[i].prefix(cut))
                lines.removeSubrange((i + 1)...)
            }
        }
        return Data(lines.joined(separator: "\n").utf8)
    }

    /// One to three edits of bytes: a byte, a 32-bit word of the first 1,024 bytes (a header) set to a hostile
    /// value, a float set to NaN or infinity, or the file cut short.
    static func mutateBinary(_ data: Data, using g: inout SeededGenerator) -> Data {
        var bytes = [UInt8](data)
        for _ in 0..<Int.random(in: 1...3, using: &g) where bytes.count >= 8 {
            switch Int.random(in: 0..<4, using: &g) {
            case 0: bytes[Int.random(in: 0..<bytes.count, using: &g)] = UInt8.random(in: 0...255, using: &g)
            case 1:
                let words: [UInt32] = [0, 1, 2, 3, 12, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x8000_0000, 1 << 16, 1 << 20, 1 << 30, 0x0001_0001]
                let at = 4 * Int.random(in: 0..<(Swift.min(bytes.count, 1024) / 4), using: &g)
                withUnsafeBytes(of: words.randomElement(using: &g)!.littleEndian) { for (k, b) in $0.enumerated() { bytes[at + k] = b } }
            case 2:
                let at = 4 * Int.random(in: 0..<(bytes.count / 4), using: &g)
                withUnsafeBytes(of: [Float.nan, .infinity, -.infinity, 1e38].randomElement(using: &g)!.bitPattern.littleEndian) {
                    for (k, b) in $0.enumerated() { bytes[at + k] = b }
                }
            default: bytes.removeSubrange(Int.random(in: 0..<bytes.count, using: &g)...)
            }
        }
        return Data(bytes)
    }

    /// A topology whose file holds exactly the atoms DCD frames carry (the Cα atoms of FormatTests' PDB).
    private func caTopology() throws -> Structure {
        let all = try PDBFile.parse(FormatTests.pdb, name: "template.pdb")
        try PDBFile.write(folder.path("ca.pdb"), models: [all.models[0]], like: all)
        return try PDBFile.read(folder.path("ca.pdb"))
    }

    private func stack(_ name: String, images: Int = 4, size: Int = 16) throws {
        let values = (0..<(images * size * size)).map { Float(sin(Double($0) * 0.37)) }
        try MRCFile.write(folder.path(name), images: try Tensor(shape: [images, size, size], storage: values), pixel: 2)
    }

    /// A RELION 3.1+ particle file with CtfRefine's optics terms over a 4-image stack, read in memory and streamed.
    func testParticleSTARMutants() throws {
        try stack("stack.mrcs")
        let star = """
        # version 30001

        data_optics

        loop_
        _rlnOpticsGroup #1
        _rlnOpticsGroupName #2
        _rlnImagePixelSize #3
        _rlnImageSize #4
        _rlnVoltage #5
        _rlnSphericalAberration #6
        _rlnAmplitudeContrast #7
        _rlnBeamTiltX #8
        _rlnBeamTiltY #9
        _rlnOddZernike #10
        _rlnEvenZernike #11
        _rlnMagMat00 #12
        _rlnMagMat01 #13
        _rlnMagMat10 #14
        _rlnMagMat11 #15
        1 opticsGroup1 2.000000 16 300.000000 2.700000 0.100000 0.1 -0.2 [0.1,0.2,0.3,0.4,0.5,0.6] [1,2,3,4,5,6,7,8,9] 1.01 0.002 0.001 0.99

        # version 30001

        data_particles

        loop_
        _rlnImageName #1
        _rlnOpticsGroup #2
        _rlnDefocusU #3
        _rlnDefocusV #4
        _rlnDefocusAngle #5
        _rlnAngleRot #6
        _rlnAngleTilt #7
        _rlnAnglePsi #8
        _rlnOriginXAngst #9
        _rlnOriginYAngst #10
        _rlnRandomSubset #11
        _rlnClassNumber #12
        _rlnPhaseShift #13
        _rlnCtfBfactor #14
        _rlnCtfScalefactor #15
        1@stack.mrcs 1 15000 14000 30 10 20 30 1.5 -2.0 1 1 0 0 1
        2@stack.mrcs 1 16000 15500 -40 40 50 60 -0.5 0.5 2 2 0 0 1
        3@stack.mrcs 1 17000 16500 10 70 80 90 0 0 1 1 0 0 1
        4@stack.mrcs 1 18000 17500 0 100 110 120 2 2 2 2 0 0 1

        """
        let original = Data(star.utf8)
        let project = folder.url.path
        let read = try survive("particles.star", original, mutants: 1500, seed: 1, text: true) { path in
            _ = try ParticleSTARReader.read(path, options: .init(projectDirectory: project))
            let (streamed, _) = try ParticleSTARReader.read(path, options: .init(stream: true, size: 8, projectDirectory: project))
            _ = try streamed.streamed?.read(Array(0..<streamed.count))
        }
        XCTAssertGreaterThan(read, 100, "most edits of values leave a readable file")
    }

    /// MRC stacks with their header words, data and length damaged, read whole and image by image.
    func testMRCMutants() throws {
        try stack("good.mrcs", images: 3, size: 12)
        let original = try Data(contentsOf: URL(fileURLWithPath: folder.path("good.mrcs")))
        let read = try survive("stack.mrcs", original, mutants: 3000, seed: 2, text: false) { path in
            let file = try MRCFile(path: path)
            _ = try file.tensor()
            _ = try file.images(0..<file.nz)
            _ = try MRCMapHeader(path: path).map()
        }
        XCTAssertGreaterThan(read, 100)
    }

    /// cryoSPARC `.cs` files (NumPy structured arrays) with their header text and records damaged.
    func testCryoSPARCMutants() throws {
        try stack("stack.mrcs", images: 2, size: 16)
        let original = Self.numpyRecords(count: 2)
        let project = folder.url.path
        let read = try survive("particles.cs", original, mutants: 1500, seed: 3, text: false) { path in
            _ = try ParticleSTARReader.read(path, options: .init(projectDirectory: project))
        }
        XCTAssertGreaterThan(read, 10)
    }

    /// PDB and mmCIF coordinate files, and DCD trajectories against a topology.
    func testStructureMutants() throws {
        let template = try caTopology()
        try PDBFile.write(folder.path("good.pdb"), models: [template.models[0], template.models[0].map { $0 + 0.5 }], like: template)
        try MMCIFFile.write(folder.path("good.cif"), models: [template.models[0]], like: template)
        try DCDFile.write(folder.path("good.dcd"), models: [template.models[0], template.models[0].map { $0 - 0.5 }])
        var readable = 0
        readable += try survive("model.pdb", try Data(contentsOf: URL(fileURLWithPath: folder.path("good.pdb"))), mutants: 1000, seed: 4, text: true) {
            _ = try PDBFile.read($0)
        }
        readable += try survive("model.cif", try Data(contentsOf: URL(fileURLWithPath: folder.path("good.cif"))), mutants: 1000, seed: 5, text: true) {
            _ = try MMCIFFile.read($0)
        }
        readable += try survive("traj.dcd", try Data(contentsOf: URL(fileURLWithPath: folder.path("good.dcd"))), mutants: 1500, seed: 6, text: false) {
            _ = try DCDFile.read($0, like: template)
        }
        XCTAssertGreaterThan(readable, 100)
    }

    /// Header sizes whose products pass every plausible bound alone but overflow together: an MRC stack of
    /// 65,536² × (2³¹ − 1) float32 values, a DCD record of 2⁶³ − 5 bytes (64-bit record markers).
    func testHeaderSizesBeyondAnyFileAreErrors() throws {
        var mrc = Data(count: 1088)
        for (k, word) in [Int32(65536), 65536, .max, 2].enumerated() {
            withUnsafeBytes(of: word.littleEndian) { mrc.replaceSubrange((4 * k)..<(4 * k + 4), with: $0) }
        }
        mrc.replaceSubrange(208..<216, with: Array("MAP ".utf8) + [0x44, 0x44, 0, 0])
        try mrc.write(to: URL(fileURLWithPath: folder.path("huge.mrcs")))
        XCTAssertThrowsError(try MRCFile(path: folder.path("huge.mrcs"))) { error in
            XCTAssertTrue("\(error)".contains("65536×65536×2147483647 describe more data than can exist"), "\(error)")
        }
        var dcd = Data()
        func int64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { dcd.append(contentsOf: $0) } }
        int64(84)
        dcd.append(contentsOf: Array("CORD".utf8) + [UInt8](repeating: 0, count: 80))
        int64(84)
        int64(.max - 4)
        dcd.append(contentsOf: [UInt8](repeating: 0, count: 16))
        try dcd.write(to: URL(fileURLWithPath: folder.path("huge.dcd")))
        XCTAssertThrowsError(try DCDFile.read(folder.path("huge.dcd"), like: try caTopology())) { error in
            XCTAssertTrue("\(error)".contains("while reading the title"), "\(error)")
        }
    }

    /// A DCD written with 8-byte record markers (some 64-bit Fortran compilers) reads as the same frames as with 4.
    func testDCDWithEightByteRecordMarkers() throws {
        let template = try caTopology()
        let frames = [template.models[0], template.models[0].map { $0 * 0.5 - 1 }]
        try DCDFile.write(folder.path("four.dcd"), models: frames)
        let four = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder.path("four.dcd"))))
        var eight: [UInt8] = [], offset = 0
        while offset < four.count {
            let length = Int(four[offset]) | Int(four[offset + 1]) << 8 | Int(four[offset + 2]) << 16 | Int(four[offset + 3]) << 24
            let marker = withUnsafeBytes(of: Int64(length).littleEndian, Array.init)
            eight += marker + four[(offset + 4)..<(offset + 4 + length)] + marker
            offset += length + 8
        }
        try Data(eight).write(to: URL(fileURLWithPath: folder.path("eight.dcd")))
        let read = try DCDFile.read(folder.path("eight.dcd"), like: template)
        XCTAssertEqual(read.models.count, 2)
        for (a, b) in zip(read.models.joined(), frames.joined()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    /// A NumPy 1.0 `.npy` file of `count` cryoSPARC particle records pointing at `stack.mrcs`.
    static func numpyRecords(count: Int) -> Data {
        // (name, NumPy type, sub-array shape) in record order, as the loop below writes each record.
        let fields = [("uid", "<u8", ""), ("blob/path", "|S16", ""), ("blob/idx", "<u4", ""), ("blob/psize_A", "<f4", ""),
                      ("blob/shape", "<u4", ", (2,)"), ("ctf/df1_A", "<f4", ""), ("ctf/df2_A", "<f4", ""), ("ctf/df_angle_rad", "<f4", ""),
                      ("ctf/accel_kv", "<f4", ""), ("ctf/cs_mm", "<f4", ""), ("ctf/amp_contrast", "<f4", ""),
                      ("alignments3D/pose", "<f4", ", (3,)"), ("alignments3D/shift", "<f4", ", (2,)")]
        let descr = fields.map { name, type, shape in "('\(name)', '\(type)'\(shape))" }.joined(separator: ", ")
        var header = "{'descr': [\(descr)], 'fortran_order': False, 'shape': (\(count),), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        func append<T>(_ value: T) { withUnsafeBytes(of: value) { out.append(contentsOf: $0) } }
        for i in 0..<count {
            append(UInt64(i).littleEndian)
            var path = Array("stack.mrcs".utf8)
            path += [UInt8](repeating: 0, count: 16 - path.count)
            out.append(contentsOf: path)
            append(UInt32(i).littleEndian)
            append(Float(2).bitPattern.littleEndian)
            append(UInt32(16).littleEndian)
            append(UInt32(16).littleEndian)
            for v: Float in [15000 + Float(i) * 100, 14000, 0.3, 300, 2.7, 0.1, 0.1, 0.2, 0.3, 1.5, -2.5] { append(v.bitPattern.littleEndian) }
        }
        return out
    }
}
