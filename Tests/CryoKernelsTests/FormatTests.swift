import XCTest
@testable import CryoKernels

/// PDB, DCD, MRC and STAR: round trips, and clear errors (never crashes) on malformed files.
final class FormatTests: XCTestCase {
    private var folder: TemporaryFolder!

    override func setUpWithError() throws { folder = try TemporaryFolder("cryo-formats") }

    override func tearDownWithError() throws {
        folder?.remove()
        folder = nil  // XCTest keeps every test case object for the whole run
    }

    private func path(_ name: String) -> String { folder.path(name) }

    private func assertThrows(_ fragment: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "expected '\(fragment)' in: \(error)", file: file, line: line)
        }
    }

    // MARK: PDB

    static let pdb = """
    HEADER    TEST
    MODEL        1
    ATOM      1  N   MET A   1      11.104   6.134  -6.504  1.00  0.00           N
    ATOM      2  CA  MET A   1      11.639   6.071  -5.147  1.00  0.00           C
    ATOM      3  CA AGLY A   2      12.000   7.000  -4.000  0.50  0.00           C
    ATOM      4  CA BGLY A   2      99.000  99.000  99.000  0.50  0.00           C
    ATOM      5  CA  ALA B   3      13.500   8.100  -2.900  1.00  0.00           C
    ENDMDL
    MODEL        2
    ATOM      1  N   MET A   1      11.000   6.000  -6.000  1.00  0.00           N
    ATOM      2  CA  MET A   1      11.500   6.000  -5.000  1.00  0.00           C
    ATOM      3  CA AGLY A   2      12.100   7.100  -4.100  0.50  0.00           C
    ATOM      4  CA BGLY A   2      99.000  99.000  99.000  0.50  0.00           C
    ATOM      5  CA  ALA B   3      13.600   8.200  -3.000  1.00  0.00           C
    ENDMDL
    END
    """

    func testPDBModelsAltLocsChainsAndRoundTrip() throws {
        let s = try PDBFile.parse(Self.pdb, name: "t.pdb", selection: .ca)
        XCTAssertEqual(s.count, 3, "first alternate location only")
        XCTAssertEqual(s.models.count, 2)
        XCTAssertEqual(s.atoms.map(\.residueName), ["MET", "GLY", "ALA"])
        XCTAssertEqual(s.atoms.map(\.chain), ["A", "A", "B"])
        XCTAssertEqual(s.models[1][3], 12.1, accuracy: 1e-9)
        XCTAssertEqual(s.sourceAtomCount, 5)
        XCTAssertEqual(s.sourceIndices, [1, 2, 4])
        try PDBFile.write(path("out.pdb"), models: s.models, like: s)
        let back = try PDBFile.read(path("out.pdb"))
        XCTAssertEqual(back.atoms, s.atoms)
        for (a, b) in zip(back.models.joined(), s.models.joined()) { XCTAssertEqual(a, b, accuracy: 1e-3) }
        XCTAssertEqual(try PDBFile.parse(Self.pdb, name: "t.pdb", selection: .backbone).count, 4)
    }

    /// A calcium ion is named CA and a water's oxygen O: neither is a residue's Cα or backbone atom, with the element
    /// column or (older files) without it; every atom still counts for a trajectory's atom order.
    func testCalciumAndWaterAreNotBackbone() throws {
        let model = """
        ATOM      1  N   MET A   1      11.104   6.134  -6.504  1.00  0.00           N
        ATOM      2  CA  MET A   1      11.639   6.071  -5.147  1.00  0.00           C
        ATOM      3  C   MET A   1      12.000   7.000  -4.000  1.00  0.00           C
        ATOM      4  O   MET A   1      12.500   7.500  -3.000  1.00  0.00           O
        HETATM    5 CA    CA A 101      20.000  20.000  20.000  1.00 20.00          CA
        HETATM    6 CA    CA A 102      21.000  20.000  20.000  1.00 20.00
        HETATM    7  O   HOH A 201      30.000  30.000  30.000  1.00 20.00           O
        END
        """
        let ca = try PDBFile.parse(model, name: "ions.pdb", selection: .ca)
        XCTAssertEqual(ca.atoms.map(\.residueName), ["MET"])
        XCTAssertEqual(try PDBFile.parse(model, name: "ions.pdb", selection: .backbone).atoms.map(\.name), ["N", "CA", "C", "O"])
        XCTAssertEqual(try PDBFile.parse(model, name: "ions.pdb", selection: .all).count, 7)
        XCTAssertEqual(ca.sourceAtomCount, 7)
    }

    func testMalformedPDBGivesLocatedErrors() throws {
        assertThrows("t.pdb:1: ATOM record is 41 characters long, needs at least 54") {
            _ = try PDBFile.parse("ATOM      2  CA  MET A   1      11.639   ", name: "t.pdb")
        }
        assertThrows("t.pdb:1: y coordinate 'abc' is not a number") {
            _ = try PDBFile.parse("ATOM      2  CA  MET A   1      11.639     abc  -5.147  1.00  0.00           C", name: "t.pdb")
        }
        assertThrows("no CA atoms") { _ = try PDBFile.parse("HEADER nothing\nEND\n", name: "t.pdb") }
        assertThrows("model 2 has 1 selected atoms, model 1 has 3") {
            _ = try PDBFile.parse(Self.pdb.replacingOccurrences(of: "ATOM      5  CA  ALA B   3      13.600", with: "ATOM      5  CB  ALA B   3      13.600")
                .replacingOccurrences(of: "ATOM      2  CA  MET A   1      11.500", with: "ATOM      2  CB  MET A   1      11.500"), name: "t.pdb")
        }
        assertThrows("no such file") { _ = try PDBFile.read(path("missing.pdb")) }
    }

    // MARK: DCD

    /// A hand-made CHARMM DCD with `frames` frames of `atoms` atoms (coordinate k of atom i in frame f is f·100 + i + k/10).
    private func makeDCD(atoms: Int, frames: Int, bigEndian: Bool, unitCell: Bool) -> Data {
        var data = Data()
        func int32(_ v: Int32) { withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian) { data.append(contentsOf: $0) } }
        func float32(_ v: Float) { withUnsafeBytes(of: bigEndian ? v.bitPattern.bigEndian : v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        int32(84); data.append(contentsOf: Array("CORD".utf8))
        var control = [Int32](repeating: 0, count: 20)
        control[0] = Int32(frames); control[10] = unitCell ? 1 : 0; control[19] = 24
        control.forEach(int32)
        int32(84)
        int32(84); int32(1); data.append(contentsOf: Array(String(repeating: "t", count: 80).utf8)); int32(84)
        int32(4); int32(Int32(atoms)); int32(4)
        for f in 0..<frames {
            if unitCell { int32(48); for _ in 0..<6 { withUnsafeBytes(of: bigEndian ? (1.0).bitPattern.bigEndian : (1.0).bitPattern.littleEndian) { data.append(contentsOf: $0) } }; int32(48) }
            for k in 0..<3 {
                int32(Int32(4 * atoms))
                for i in 0..<atoms { float32(Float(f * 100 + i) + Float(k) / 10) }
                int32(Int32(4 * atoms))
            }
        }
        return data
    }

    func testDCDBothEndiannessesWithTopologySelection() throws {
        let topology = try PDBFile.parse(Self.pdb, name: "t.pdb")
        for bigEndian in [false, true] {
            try makeDCD(atoms: 5, frames: 3, bigEndian: bigEndian, unitCell: !bigEndian).write(to: URL(fileURLWithPath: path("t.dcd")))
            let traj = try DCDFile.read(path("t.dcd"), like: topology)
            XCTAssertEqual(traj.models.count, 3)
            // Selected atoms are file atoms 1, 2 and 4.
            XCTAssertEqual(traj.models[2][0], 201, accuracy: 1e-4)
            XCTAssertEqual(traj.models[2][4], 202.1, accuracy: 1e-4)
            XCTAssertEqual(traj.models[1][8], 104.2, accuracy: 1e-4)
        }
    }

    func testDCDErrors() throws {
        let topology = try PDBFile.parse(Self.pdb, name: "t.pdb")
        try makeDCD(atoms: 7, frames: 2, bigEndian: false, unitCell: false).write(to: URL(fileURLWithPath: path("seven.dcd")))
        assertThrows("has 7 atoms per frame but the topology t.pdb has 5") { _ = try DCDFile.read(path("seven.dcd"), like: topology) }
        let full = makeDCD(atoms: 5, frames: 2, bigEndian: false, unitCell: false)
        try full.prefix(full.count - 10).write(to: URL(fileURLWithPath: path("cut.dcd")))
        assertThrows("truncated") { _ = try DCDFile.read(path("cut.dcd"), like: topology) }
        try Data("not a dcd file at all".utf8).write(to: URL(fileURLWithPath: path("junk.dcd")))
        assertThrows("not a CHARMM/NAMD DCD file") { _ = try DCDFile.read(path("junk.dcd"), like: topology) }
    }

    // MARK: MRC

    func testMRCRoundTripAndHeader() throws {
        var g = SeededGenerator(seed: 1)
        let images = Tensor.randn([3, 8, 6], using: &g)
        try MRCFile.write(path("s.mrcs"), images: images, pixel: 1.25)
        let m = try MRCFile(path: path("s.mrcs"))
        XCTAssertEqual([m.nx, m.ny, m.nz, m.mode], [6, 8, 3, 2])
        XCTAssertEqual(m.pixel, 1.25, accuracy: 1e-6)
        XCTAssertEqual(try m.tensor().storage, images.storage)
        XCTAssertEqual(try m.images(1..<2), Array(images.storage[48..<96]))
    }

    /// An MRC header for nx×ny×nz values of `mode`, optionally big-endian.
    private func header(nx: Int, ny: Int, nz: Int, mode: Int, bigEndian: Bool = false) -> Data {
        var h = Data(count: 1024)
        func put(_ v: Int32, _ offset: Int) {
            withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian) { h.replaceSubrange(offset..<(offset + 4), with: $0) }
        }
        put(Int32(nx), 0); put(Int32(ny), 4); put(Int32(nz), 8); put(Int32(mode), 12)
        h.replaceSubrange(208..<212, with: Array("MAP ".utf8))
        h.replaceSubrange(212..<216, with: bigEndian ? [0x11, 0x11, 0, 0] : [0x44, 0x44, 0, 0])
        return h
    }

    func testMRCInt16Float16AndBigEndian() throws {
        var int16 = header(nx: 2, ny: 1, nz: 1, mode: 1)
        for v: Int16 in [-300, 7] { withUnsafeBytes(of: v.littleEndian) { int16.append(contentsOf: $0) } }
        try int16.write(to: URL(fileURLWithPath: path("i16.mrc")))
        XCTAssertEqual(try MRCFile(path: path("i16.mrc")).tensor().storage, [-300, 7])
        var half = header(nx: 2, ny: 1, nz: 1, mode: 12)
        for v: Float16 in [1.5, -0.25] { withUnsafeBytes(of: v.bitPattern.littleEndian) { half.append(contentsOf: $0) } }
        try half.write(to: URL(fileURLWithPath: path("f16.mrc")))
        XCTAssertEqual(try MRCFile(path: path("f16.mrc")).tensor().storage, [1.5, -0.25])
        var big = header(nx: 2, ny: 1, nz: 1, mode: 2, bigEndian: true)
        for v: Float in [3.5, -1] { withUnsafeBytes(of: v.bitPattern.bigEndian) { big.append(contentsOf: $0) } }
        try big.write(to: URL(fileURLWithPath: path("be.mrc")))
        XCTAssertEqual(try MRCFile(path: path("be.mrc")).tensor().storage, [3.5, -1])
    }

    func testMalformedMRCGivesClearErrors() throws {
        try Data(count: 100).write(to: URL(fileURLWithPath: path("short.mrc")))
        assertThrows("shorter than the 1024-byte MRC header") { _ = try MRCFile(path: path("short.mrc")) }
        try (header(nx: 4, ny: 4, nz: 2, mode: 2) + Data(count: 40)).write(to: URL(fileURLWithPath: path("lies.mrc")))
        assertThrows("header promises 2 images of 4×4 mode-2 values (128 bytes after 1024 header bytes) but the file holds 1064 bytes") {
            _ = try MRCFile(path: path("lies.mrc"))
        }
        try (header(nx: 2, ny: 2, nz: 1, mode: 4) + Data(count: 64)).write(to: URL(fileURLWithPath: path("complex.mrc")))
        assertThrows("data mode 4 is not supported") { _ = try MRCFile(path: path("complex.mrc")) }
        try (header(nx: -3, ny: 2, nz: 1, mode: 2) + Data(count: 64)).write(to: URL(fileURLWithPath: path("negative.mrc")))
        assertThrows("not positive and plausible") { _ = try MRCFile(path: path("negative.mrc")) }
        assertThrows("no such file") { _ = try MRCFile(path: path("missing.mrcs")) }
    }

    // MARK: STAR

    func testParticleSTARRoundTrip() throws {
        var g = SeededGenerator(seed: 2)
        let m = 5
        let images = Tensor.randn([m, 8, 8], using: &g)
        let rotations = (0..<m).map { _ in Rotation.random(using: &g) }
        let ctf = (0..<m).map { k in CTFParameters(defocusU: 10000 + 1000 * Double(k), defocusV: 9500, astigmatismAngle: 12, bFactor: 20) }
        let dataset = try ParticleDataset(images: images, rotations: rotations, shifts: (0..<(2 * m)).map { Float($0) / 4 }, ctf: ctf,
                                          pixel: 1.5, size: 8, conformation: [0, 3, 1, 1, 2])
        try MRCFile.write(path("p.mrcs"), images: images, pixel: 1.5)
        try ParticleSTARWriter.write(path("p.star"), dataset: dataset, stack: "p.mrcs")
        let back = try ParticleSTARReader.read(path("p.star")).dataset
        XCTAssertEqual(back.images?.storage, images.storage)
        XCTAssertFalse(try String(contentsOfFile: path("p.star"), encoding: .utf8).contains("rlnCtfBFactor"), "RELION's label is rlnCtfBfactor")
        XCTAssertEqual(back.conformation ?? [], [0, 3, 1, 1, 2])
        XCTAssertEqual(back.pixel, 1.5)
        for (a, b) in zip(back.rotations, rotations) { XCTAssertLessThan(a.angle(to: b), 1e-4) }
        for (a, b) in zip(back.shifts, dataset.shifts) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        for (a, b) in zip(back.ctf, ctf) {
            XCTAssertEqual(a.defocusU, b.defocusU, accuracy: 1e-3)
            XCTAssertEqual(a.defocusV, b.defocusV, accuracy: 1e-3)
            XCTAssertEqual(a.astigmatismAngle, 12, accuracy: 1e-6)
            XCTAssertEqual(a.bFactor, 20, accuracy: 1e-6)
        }
        // A negative defocus is overfocus in RELION's sign: read as given, and said.
        let star = try String(contentsOfFile: path("p.star"), encoding: .utf8)
        try star.replacingOccurrences(of: "11000.000000", with: "-11000.000000").write(toFile: path("over.star"), atomically: true, encoding: .utf8)
        let (over, summary) = try ParticleSTARReader.read(path("over.star"))
        XCTAssertEqual(over.ctf[1].defocusU, -11000, accuracy: 1e-3)
        XCTAssertTrue(summary.contains("1 particle(s) with a negative defocus, read as overfocus"), summary)
        XCTAssertFalse(try ParticleSTARReader.read(path("p.star")).summary.contains("negative defocus"))
    }

    func testMalformedSTARGivesClearErrors() throws {
        let cases: [(name: String, text: String, error: String)] = [
            ("m.star", "data_particles\nloop_\n_rlnAngleRot #1\n_rlnDefocusU #2\n10 20000\n", "no table has the column _rlnImageName"),
            ("r.star", "data_particles\nloop_\n_rlnImageName #1\n_rlnDefocusU #2\n1@a.mrcs 20000\n2@a.mrcs\n", "r.star:6: row has 1 values for 2 columns"),
            ("n.star", "data_particles\nloop_\n_rlnImageName #1\n_rlnDefocusU #2\n1@a.mrcs abc\n", "column _rlnDefocusU: 'abc' is not a valid number"),
            ("s.star", "data_particles\nloop_\n_rlnImageName #1\n_rlnDefocusU #2\n1@nowhere.mrcs 20000\n", "stack 'nowhere.mrcs' not found; tried"),
            ("px.star", "data_particles\nloop_\n_rlnImageName #1\n_rlnDefocusU #2\n_rlnOriginX #3\n_rlnOriginY #4\n1@a.mrcs 20000 1 2\n",
             "origins are in pixels (_rlnOriginX/Y) but the file gives no pixel size"),
            ("g.star", "data_optics\nloop_\n_rlnOpticsGroup\n_rlnImagePixelSize\n1 1.5\ndata_particles\nloop_\n_rlnImageName\n_rlnDefocusU\n_rlnOpticsGroup\n1@a.mrcs 20000 2\n",
             "particle 1 is in optics group 2, which the data_optics table does not list"),
        ]
        for c in cases {
            try c.text.write(toFile: path(c.name), atomically: true, encoding: .utf8)
            assertThrows(c.error) { _ = try ParticleSTARReader.read(path(c.name)).dataset }
        }
    }
}
