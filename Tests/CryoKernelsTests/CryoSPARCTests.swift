import XCTest
@testable import CryoKernels

/// cryoSPARC `.cs` particle files (structured NumPy arrays written here by NumPy) → RELION 3.1 STAR blocks: every
/// converted column against values computed independently in the fixture script (the pose matrix by Rodrigues'
/// formula), and clear errors on bad files.
final class CryoSPARCTests: XCTestCase {
    private var interop: InteropPython!

    override func setUpWithError() throws { interop = try InteropPython() }

    override func tearDownWithError() throws {
        interop?.remove()
        interop = nil  // XCTest keeps every test case object for the whole run
    }

    private func assertThrows(_ fragment: String, _ file: String, line: UInt = #line) {
        XCTAssertThrowsError(try CryoSPARCParticles.starBlocks(path: interop.path(file)), line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks '\(fragment)'", line: line)
            XCTAssertTrue("\(error)".contains(file), "\(error) does not name \(file)", line: line)
        }
    }

    /// Five particles in two exposure groups, with poses, shifts and every CTF field; written as .npy 1.0, 2.0 and 3.0.
    func testConvertsEveryFieldAsPyemDoes() throws {
        let report = try interop.run("""
        import numpy as np
        dtype = [('uid', '<u8'), ('blob/path', '|S40'), ('blob/idx', '<u4'), ('blob/shape', '<u4', (2,)), ('blob/psize_A', '<f4'),
                 ('blob/sign', '<f4'), ('ctf/type', '|S9'), ('ctf/exp_group_id', '<u4'), ('ctf/accel_kv', '<f4'), ('ctf/cs_mm', '<f4'),
                 ('ctf/amp_contrast', '<f4'), ('ctf/df1_A', '<f4'), ('ctf/df2_A', '<f4'), ('ctf/df_angle_rad', '<f4'),
                 ('ctf/phase_shift_rad', '<f4'), ('ctf/bfactor', '<f8'), ('test/int', '<i4'), ('test/long', '<i8'), ('test/byte', '|u1'),
                 ('test/big', '>f4'), ('alignments3D/split', '<u4'), ('alignments3D/shift', '<f4', (2,)), ('alignments3D/pose', '<f4', (3,)),
                 ('alignments3D/psize_A', '<f4')]
        a = np.zeros(5, dtype=dtype)
        a['uid'] = [2**63 + 5, 1, 2, 3, 4]
        a['blob/path'] = [b'>J12/extract/mic_a.mrc', b'>J12/extract/mic_a.mrc', b'J12/extract/mic_b.mrc', b'>J12/extract/mic_b.mrc', b'stack.mrcs']
        a['blob/idx'] = [0, 7, 123455, 2, 999999]
        a['blob/shape'] = [[128, 128]] * 5
        a['blob/psize_A'] = 1.1
        a['ctf/type'] = b'ctffind4'
        a['ctf/exp_group_id'] = [0, 0, 1, 0, 1]
        a['ctf/accel_kv'] = [300, 300, 200, 300, 200]
        a['ctf/cs_mm'] = 2.7
        a['ctf/amp_contrast'] = 0.07
        a['ctf/df1_A'] = [15000.5, 12000.25, 9000, 20000, 18000.75]
        a['ctf/df2_A'] = [14000.5, 11000, 8900, 19000, 17000]
        a['ctf/df_angle_rad'] = [0.5, -1.2, 3.0, 0, 1.5707964]
        a['ctf/phase_shift_rad'] = [0, 0.1, 0, 1.0, 0]
        a['ctf/bfactor'] = [0, 10, 20, 30, 40]
        a['test/int'] = [-5, 4, 3, 2, 1]
        a['test/long'] = [-2**40, 0, 0, 0, 7]
        a['test/byte'] = [255, 0, 1, 2, 3]
        a['test/big'] = [1.5, -2.25, 0, 0, 0]
        a['alignments3D/shift'] = [[1.5, -2.0], [0, 0], [-3.25, 4.5], [10, -10], [0.125, 0.5]]
        a['alignments3D/pose'] = [[0.3, -0.2, 0.1], [0, 0, 0], [3.0, 0.5, -0.4], [0, 0, 2.0], [-1.1, 2.2, 0.7]]
        a['alignments3D/psize_A'] = 2.2
        for version in [(1, 0), (2, 0), (3, 0)]:
            with open('p%d.cs' % version[0], 'wb') as f:
                np.lib.format.write_array(f, a, version=version)
        def rodrigues(r):
            r = np.asarray(r, dtype=np.float64)
            theta = np.linalg.norm(r)
            if theta == 0:
                return np.eye(3)
            n = r / theta
            k = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
            return np.eye(3) + np.sin(theta) * k + (1 - np.cos(theta)) * k @ k
        for p in a:
            m = rodrigues(p['alignments3D/pose']).T
            print(' '.join('%.9f' % v for v in m.ravel()), '%.6f %.6f' % tuple(np.float64(p['alignments3D/shift']) * np.float64(np.float32(2.2))),
                  '%.6f %.6f %.6f %.6f %.6f' % (np.float64(p['ctf/df1_A']), np.float64(p['ctf/df2_A']), np.degrees(np.float64(p['ctf/df_angle_rad'])),
                                                np.degrees(np.float64(p['ctf/phase_shift_rad'])), p['ctf/bfactor']))
        """)
        let expected = report.split(separator: "\n").map { $0.split(separator: " ").compactMap { Double($0) } }
        XCTAssertEqual(expected.map(\.count), [Int](repeating: 16, count: 5), report)

        let records = try NPYRecords(path: interop.path("p1.cs"), op: "test")
        XCTAssertEqual(records.count, 5)
        func numbers(_ name: String) throws -> [Double] { try records.numbers(XCTUnwrap(records.field(name))) }
        XCTAssertEqual(try numbers("uid")[0], 0x1p63, "a u8 above 2^63 reads as unsigned (to Double precision)")
        XCTAssertEqual(try numbers("test/int"), [-5, 4, 3, 2, 1])
        XCTAssertEqual(try numbers("test/long"), [-1099511627776, 0, 0, 0, 7])
        XCTAssertEqual(try numbers("test/byte"), [255, 0, 1, 2, 3])
        XCTAssertEqual(try numbers("test/big").prefix(2), [1.5, -2.25])
        XCTAssertEqual(try records.strings(XCTUnwrap(records.field("ctf/type"))), [String](repeating: "ctffind4", count: 5))

        let blocks = try CryoSPARCParticles.starBlocks(path: interop.path("p1.cs"))
        for version in [2, 3] {
            let other = try CryoSPARCParticles.starBlocks(path: interop.path("p\(version).cs"))
            XCTAssertEqual(other.map(\.rows), blocks.map(\.rows), "format \(version).0 reads the same")
        }
        XCTAssertEqual(blocks.map(\.name), ["optics", "particles"])
        let optics = blocks[0], particles = blocks[1]
        XCTAssertEqual(optics.columns, ["rlnOpticsGroup", "rlnOpticsGroupName", "rlnAmplitudeContrast", "rlnSphericalAberration", "rlnVoltage",
                                        "rlnImagePixelSize", "rlnImageSize", "rlnImageDimensionality"])
        XCTAssertEqual(optics.rows, [["1", "opticsGroup1", "0.070000", "2.700000", "300.000000", "1.100000", "128", "2"],
                                     ["2", "opticsGroup2", "0.070000", "2.700000", "200.000000", "1.100000", "128", "2"]])
        XCTAssertEqual(particles.columns, ["rlnImageName", "rlnOpticsGroup", "rlnDefocusU", "rlnDefocusV", "rlnDefocusAngle", "rlnPhaseShift",
                                           "rlnCtfBfactor", "rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi", "rlnOriginXAngst", "rlnOriginYAngst"])
        XCTAssertEqual(particles.rows.map { $0[0] }, ["000001@J12/extract/mic_a.mrc", "000008@J12/extract/mic_a.mrc", "123456@J12/extract/mic_b.mrc",
                                                       "000003@J12/extract/mic_b.mrc", "1000000@stack.mrcs"])
        XCTAssertEqual(particles.rows.map { $0[1] }, ["1", "1", "2", "1", "2"])
        for (i, row) in particles.rows.enumerated() {
            let values = row.dropFirst(2).compactMap { Double($0) }
            XCTAssertEqual(values.count, 10, "\(row)")
            let e = expected[i]
            for (k, v) in values.prefix(5).enumerated() { XCTAssertEqual(v, e[11 + k], accuracy: 1e-6, "particle \(i) CTF value \(k)") }
            let rotation = Rotation(rot: values[5], tilt: values[6], psi: values[7])
            for k in 0..<9 { XCTAssertEqual(rotation.m[k], e[k], accuracy: 1e-6, "particle \(i) matrix entry \(k)") }
            XCTAssertGreaterThanOrEqual(values[6], 0)
            XCTAssertEqual(values[8], e[9], accuracy: 1e-6, "particle \(i) origin x uses alignments3D/psize_A")
            XCTAssertEqual(values[9], e[10], accuracy: 1e-6, "particle \(i) origin y")
        }
        XCTAssertEqual(particles.rows[1][7...9], ["0.000000", "0.000000", "0.000000"], "a zero rotation vector is the identity")
    }

    func testFilesWithoutPosesOrOptionalFieldsGiveFewerColumns() throws {
        _ = try interop.run("""
        import numpy as np
        a = np.zeros(2, dtype=[('ctf/df1_A', '<f4'), ('blob/idx', '<u4'), ('blob/path', '|S8')])
        a['ctf/df1_A'] = [10000, 11000.5]
        a['blob/idx'] = [3, 4]
        a['blob/path'] = [b'a.mrcs', b'>b.mrcs']
        with open('bare.cs', 'wb') as f:
            np.save(f, a)
        """)
        let blocks = try CryoSPARCParticles.starBlocks(path: interop.path("bare.cs"))
        XCTAssertEqual(blocks[0].columns, ["rlnOpticsGroup", "rlnOpticsGroupName", "rlnImageDimensionality"])
        XCTAssertEqual(blocks[0].rows, [["1", "opticsGroup1", "2"]])
        XCTAssertEqual(blocks[1].columns, ["rlnImageName", "rlnOpticsGroup", "rlnDefocusU", "rlnDefocusV", "rlnDefocusAngle"])
        XCTAssertEqual(blocks[1].rows, [["000004@a.mrcs", "1", "10000.000000", "10000.000000", "0.000000"],
                                        ["000005@b.mrcs", "1", "11000.500000", "11000.500000", "0.000000"]])
    }

    func testBadFilesGiveClearErrors() throws {
        _ = try interop.run("""
        import numpy as np
        good = np.zeros(3, dtype=[('blob/path', '|S8'), ('blob/idx', '<u4'), ('ctf/df1_A', '<f4'), ('alignments3D/pose', '<f4', (2,))])
        with open('good.cs', 'wb') as f:
            np.save(f, good)
        with open('nodf.cs', 'wb') as f:
            np.save(f, np.zeros(2, dtype=[('blob/path', '|S8'), ('blob/idx', '<u4')]))
        objects = np.zeros(2, dtype=[('blob/path', 'O'), ('blob/idx', '<u4'), ('ctf/df1_A', '<f4')])
        objects['blob/path'] = ['a', 'b']
        with open('objects.cs', 'wb') as f:
            np.save(f, objects, allow_pickle=True)
        with open('plain.cs', 'wb') as f:
            np.save(f, np.zeros(4, dtype='<f4'))
        with open('matrix.cs', 'wb') as f:
            np.save(f, np.zeros((2, 2), dtype=[('blob/idx', '<u4')]))
        with open('text.cs', 'w') as f:
            f.write('uid,blob/path\\n1,a.mrc\\n')
        """)
        let good = try Data(contentsOf: URL(fileURLWithPath: interop.path("good.cs")))
        try good.prefix(good.count - 5).write(to: URL(fileURLWithPath: interop.path("truncated.cs")))
        try good.prefix(40).write(to: URL(fileURLWithPath: interop.path("header.cs")))
        assertThrows("truncated?", "truncated.cs")
        assertThrows("truncated?", "header.cs")
        assertThrows("not a NumPy .npy file", "text.cs")
        assertThrows("no field 'ctf/df1_A'", "nodf.cs")
        assertThrows("field 'blob/path' has object type |O", "objects.cs")
        assertThrows("holds a plain <f4 array, not a structured array", "plain.cs")
        assertThrows("shape must be one dimension", "matrix.cs")
        assertThrows("field 'alignments3D/pose' has 2 values per particle, expected 3 (a rotation vector)", "good.cs")
        assertThrows("no such file", "absent.cs")
    }

    /// read_star takes a .cs file like a STAR file: its stack paths (a leading '>' stripped) resolve as RELION's
    /// do, the images are read, and shifts come out as RELION origins in Å.
    func testReadStarReadsACryoSPARCFileWithItsImages() throws {
        _ = try interop.run("""
        import numpy as np, mrcfile, os
        os.makedirs('J3/extract', exist_ok=True)
        images = np.arange(3 * 8 * 8, dtype=np.float32).reshape(3, 8, 8)
        with mrcfile.new('J3/extract/mic.mrc', overwrite=True) as m:
            m.set_data(images); m.voxel_size = 1.5
        dtype = [('blob/path', '|S20'), ('blob/idx', '<u4'), ('blob/shape', '<u4', (2,)), ('blob/psize_A', '<f4'), ('ctf/accel_kv', '<f4'),
                 ('ctf/cs_mm', '<f4'), ('ctf/amp_contrast', '<f4'), ('ctf/df1_A', '<f4'), ('ctf/df2_A', '<f4'), ('ctf/df_angle_rad', '<f4'),
                 ('alignments3D/shift', '<f4', (2,)), ('alignments3D/pose', '<f4', (3,)), ('blob/sign', '<f4'), ('ctf/anisomag', '<f4', (4,)),
                 ('ctf/tilt_A', '<f4', (2,))]
        a = np.zeros(2, dtype=dtype)
        a['blob/sign'] = [-1, 1]
        a['ctf/anisomag'] = [[0.01, 0, 0, -0.01]] * 2
        a['blob/path'] = b'>J3/extract/mic.mrc'
        a['blob/idx'] = [2, 0]
        a['blob/shape'] = [[8, 8]] * 2
        a['blob/psize_A'] = 1.5
        a['ctf/accel_kv'] = 300; a['ctf/cs_mm'] = 2.7; a['ctf/amp_contrast'] = 0.1
        a['ctf/df1_A'] = [10000, 12000]; a['ctf/df2_A'] = [9000, 12000]
        a['alignments3D/shift'] = [[2, -1], [0, 0]]
        with open('p.cs', 'wb') as f:
            np.save(f, a)
        """)
        let (d, summary) = try ParticleSTARReader.read(interop.path("p.cs"))
        XCTAssertEqual(d.count, 2)
        XCTAssertTrue(summary.contains("cryoSPARC .cs"), summary)
        XCTAssertEqual(d.pixel, 1.5)
        XCTAssertEqual(d.images?.storage[0], Float(2 * 64), "blob/idx 2 is the third image")
        XCTAssertEqual(d.shifts[0], 3, accuracy: 1e-6, "2 px × 1.5 Å")
        XCTAssertEqual(d.shifts[1], -1.5, accuracy: 1e-6)
        XCTAssertEqual(d.ctf[0].defocusV, 9000, accuracy: 1e-3)
        // What the conversion leaves out is said: a contrast sign other than cryoSPARC's usual −1, and the refined
        // aberrations that are not zero (ctf/tilt_A is, and is not named).
        XCTAssertTrue(summary.contains("blob/sign is not −1 for 1 particle(s)"), summary)
        XCTAssertTrue(summary.contains("cryoSPARC's global CTF refinement (ctf/anisomag) not converted"), summary)
    }
}
