import XCTest
@testable import CryoKernels

/// mmCIF reading: the same `Structure` as the PDB reader gives for a file gemmi converts, the same atoms as gemmi
/// reads from it, the label/auth fallbacks, text fields and quoted names of a hand-written file, and clear errors.
final class MMCIFTests: XCTestCase {
    private var folder: TemporaryFolder!

    override func setUpWithError() throws { folder = try TemporaryFolder("cryo-mmcif") }

    override func tearDownWithError() throws {
        folder?.remove()
        folder = nil  // XCTest keeps every test case object for the whole run
    }

    private func write(_ text: String, _ name: String) throws -> String {
        let path = folder.path(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func assertThrows(_ fragment: String, _ text: String, line: UInt = #line) throws {
        let path = try write(text, "bad.cif")
        XCTAssertThrowsError(try MMCIFFile.read(path, selection: .all), line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks '\(fragment)'", line: line)
            XCTAssertTrue("\(error)".contains("bad.cif"), "\(error) does not name the file", line: line)
        }
    }

    /// Two models, two chains, an alternate location, an insertion code and a water, in fixed PDB columns.
    private static let pdb: String = {
        var lines: [String] = []
        var serial = 0
        for model in 1...2 {
            lines.append(String(format: "MODEL     %4d", model))
            let atoms: [(String, String, String, String, Int, String, Double)] = [
                ("ATOM  ", " N  ", " ", "MET", 1, " ", 0), ("ATOM  ", " CA ", " ", "MET", 1, " ", 1.2), ("ATOM  ", " C  ", " ", "MET", 1, " ", 2.4),
                ("ATOM  ", " O  ", " ", "MET", 1, " ", 3.1), ("ATOM  ", " N  ", " ", "SER", 2, " ", 4.0), ("ATOM  ", " CA ", "A", "SER", 2, " ", 5.2),
                ("ATOM  ", " CA ", "B", "SER", 2, " ", 5.3), ("ATOM  ", " CB ", " ", "SER", 2, " ", 6.1), ("ATOM  ", " N  ", " ", "GLY", 2, "A", 7.0),
                ("ATOM  ", " CA ", " ", "GLY", 2, "A", 8.5), ("HETATM", " O  ", " ", "HOH", 101, " ", 9.9),
            ]
            for (k, (record, name, alt, residue, number, insertion, x)) in atoms.enumerated() {
                serial += 1
                let chain = k < 8 ? "A" : "B"
                let element = String(name.trimmingCharacters(in: .whitespaces).prefix(1))
                lines.append(record + String(format: "%5d", serial) + " " + name + alt + residue + " " + chain + String(format: "%4d", number) + insertion
                             + "   " + String(format: "%8.3f%8.3f%8.3f%6.2f%6.2f", x + Double(model) * 0.5, -x / 2, Double(k) * 1.25, 1.0, 0.0)
                             + "          " + " " + element)
            }
            lines.append("ENDMDL")
        }
        return lines.joined(separator: "\n") + "\nEND\n"
    }()

    func testGemmiConvertedFileReadsLikeThePDB() throws {
        let interop = try InteropPython()
        defer { interop.remove() }
        try Self.pdb.write(toFile: interop.path("t.pdb"), atomically: true, encoding: .utf8)
        let report = try interop.run("""
        import gemmi
        st = gemmi.read_structure('t.pdb')
        st.setup_entities()
        st.make_mmcif_document().write_file('t.cif')
        cif = gemmi.read_structure('t.cif')
        for model in cif:
            for chain in model:
                for residue in chain:
                    for atom in residue:
                        if atom.altloc not in ('\\0', 'A'):
                            continue
                        print(len(cif), chain.name, residue.name, residue.seqid.num, residue.seqid.icode.strip() or '-', atom.name,
                              '%.3f %.3f %.3f' % (atom.pos.x, atom.pos.y, atom.pos.z))
        """)
        let cifPath = interop.path("t.cif")
        let cifText = try String(contentsOfFile: cifPath, encoding: .utf8)
        XCTAssertTrue(cifText.contains("_atom_site.auth_seq_id"), "gemmi wrote an _atom_site loop")
        for selection in [PDBFile.Selection.ca, .backbone, .all] {
            let fromPDB = try PDBFile.read(interop.path("t.pdb"), selection: selection)
            let fromCIF = try MMCIFFile.read(cifPath, selection: selection)
            XCTAssertEqual(fromCIF.atoms, fromPDB.atoms, "\(selection)")
            XCTAssertEqual(fromCIF.models, fromPDB.models, "\(selection)")
            XCTAssertEqual(fromCIF.sourceIndices, fromPDB.sourceIndices, "\(selection)")
            XCTAssertEqual(fromCIF.sourceAtomCount, fromPDB.sourceAtomCount, "\(selection)")
        }
        let all = try MMCIFFile.read(cifPath, selection: .all)
        XCTAssertEqual(all.count, 10, "one of the two alternate CA atoms is kept")
        XCTAssertEqual(all.models.count, 2)
        let gemmiRows = report.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(gemmiRows.count, 2 * all.count, report)
        for (k, row) in gemmiRows.enumerated() {
            guard row.count == 9 else { XCTFail("unexpected gemmi line \(row)"); continue }
            let (m, i) = (k / all.count, k % all.count)
            let atom = all.atoms[i]
            XCTAssertEqual(row[0], "2")
            XCTAssertEqual([row[1], row[2], row[3], row[4], row[5]],
                           [atom.chain, atom.residueName, "\(atom.residueNumber)", atom.insertionCode.isEmpty ? "-" : atom.insertionCode, atom.name])
            for axis in 0..<3 { XCTAssertEqual(all.models[m][3 * i + axis], Double(row[6 + axis]) ?? .nan, accuracy: 1e-9) }
        }
    }

    func testLabelFallbacksTextFieldsAndQuotedNames() throws {
        let text = """
        data_TEST
        #
        _entry.id TEST
        _struct.title
        ;A title over two lines
        with 'quotes', loop_ and _fake.labels inside
        ;
        loop_
        _atom_site.group_PDB
        _atom_site.id
        _atom_site.type_symbol
        _atom_site.label_atom_id
        _atom_site.label_alt_id
        _atom_site.label_comp_id
        _atom_site.label_asym_id
        _atom_site.label_seq_id
        _atom_site.pdbx_PDB_ins_code
        _atom_site.Cartn_x
        _atom_site.Cartn_y
        _atom_site.Cartn_z
        _atom_site.auth_seq_id
        _atom_site.auth_asym_id
        _atom_site.pdbx_PDB_model_num
        ATOM   1 N N   . ALA A 1 ? 1.0  2.0 3.0 10 X 1
        ATOM   2 C CA  . ALA A 1 ? 1.5  2.5 3.5 10 X 1
        ATOM   3 C CA  A SER A 2 ? 4.0\t5.0 6.0 11 X 1
        ATOM   4 C CA  B SER A 2 ? 4.1  5.1 6.1 11 X 1
        ATOM   5 O "O5'" . DA B 3 A 7.0 8.0 9.0 ? ? 1
        HETATM 6 O O   . HOH C . ? -1 -2 -3 101 X 1
        ATOM   7 N N   . ALA A 1 ? 11.0 2.0 3.0 10 X 2
        ATOM   8 C CA  . ALA A 1 ? 11.5 2.5 3.5 10 X 2
        ATOM   9 C CA  A SER A 2 ? 14.0 5.0 6.0 11 X 2
        ATOM  10 O "O5'" . DA B 3 A 17.0 8.0 9.0 ? ? 2
        ATOM  11 O O   . HOH C . ? -11 -2 -3 101 X 2
        #
        loop_
        _pdbx_poly_seq_scheme.asym_id
        A
        B
        """
        let path = try write(text.replacingOccurrences(of: "\n", with: "\r\n"), "hand.cif")
        let ca = try MMCIFFile.read(path)
        XCTAssertEqual(ca.atoms.map(\.residueNumber), [10, 11])
        XCTAssertEqual(ca.atoms.map(\.chain), ["X", "X"])
        XCTAssertEqual(ca.models, [[1.5, 2.5, 3.5, 4, 5, 6], [11.5, 2.5, 3.5, 14, 5, 6]])
        let all = try MMCIFFile.read(path, selection: .all)
        XCTAssertEqual(all.atoms.map(\.name), ["N", "CA", "CA", "O5'", "O"])
        XCTAssertEqual(all.atoms[3], Structure.Atom(name: "O5'", residueName: "DA", residueNumber: 3, insertionCode: "A", chain: "B", element: "O"),
                       "auth_seq_id and auth_asym_id '?' fall back to the label columns")
        XCTAssertEqual(all.atoms[4].residueNumber, 101)
        XCTAssertEqual(all.sourceIndices, [0, 1, 2, 4, 5])
        XCTAssertEqual(all.sourceAtomCount, 6)
        XCTAssertEqual(all.models[1][9], 17)

        let single = try write("data_one\n_atom_site.label_atom_id CA\n_atom_site.label_comp_id GLY\n_atom_site.label_seq_id 5\n"
                               + "_atom_site.Cartn_x 1\n_atom_site.Cartn_y 2\n_atom_site.Cartn_z 3\n", "single.cif")
        let one = try MMCIFFile.read(single)
        XCTAssertEqual(one.atoms, [Structure.Atom(name: "CA", residueName: "GLY", residueNumber: 5, chain: "")])
        XCTAssertEqual(one.models, [[1, 2, 3]])
    }

    /// Real PDB entries in mmCIF that the MDAnalysisTests package ships (installed into data/.venv-mdatests by
    /// Scripts/fetch_adk.sh, which this test runs when CI=true and the venv is missing): every atom (first alternate location) and coordinate as
    /// gemmi reads them, and, where the package also ships the entry as PDB, the same structure as the PDB reader gives.
    func testRealEntriesFromMDAnalysisTests() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let lib = root.appendingPathComponent("data/.venv-mdatests/lib")
        if ProcessInfo.processInfo.environment["CI"] == "true", !FileManager.default.fileExists(atPath: lib.path) {
            let fetch = Process()
            fetch.executableURL = URL(fileURLWithPath: "/bin/bash")
            fetch.arguments = [root.appendingPathComponent("Scripts/fetch_adk.sh").path]
            try fetch.run()
            fetch.waitUntilExit()
            XCTAssertEqual(fetch.terminationStatus, 0, "Scripts/fetch_adk.sh failed")
        }
        guard let python = try? FileManager.default.contentsOfDirectory(atPath: lib.path).first(where: { $0.hasPrefix("python3") }) else {
            throw XCTSkip("no data/.venv-mdatests (run Scripts/fetch_adk.sh): the real mmCIF entries of MDAnalysisTests are not tested")
        }
        let source = lib.appendingPathComponent("\(python)/site-packages/MDAnalysisTests/data/mmcif").path
        let interop = try InteropPython()
        defer { interop.remove() }
        let entries = ["1YJP", "5PTI", "7ETN", "1BD2", "3PWP", "3KPR"]
        let report = try interop.run("""
        import gemmi, gzip, os, shutil
        source = \(String(reflecting: source))
        for entry in \(entries):
            for ext in ('cif', 'pdb'):
                plain, packed = os.path.join(source, entry + '.' + ext), os.path.join(source, entry + '.' + ext + '.gz')
                if os.path.exists(plain):
                    shutil.copy(plain, entry + '.' + ext)
                elif os.path.exists(packed):
                    with gzip.open(packed, 'rb') as f, open(entry + '.' + ext, 'wb') as out:
                        shutil.copyfileobj(f, out)
            st = gemmi.read_structure(entry + '.cif')
            seen, rows = set(), []
            for chain in st[0]:
                for residue in chain:
                    for atom in residue:
                        key = (chain.name, residue.seqid.num, residue.seqid.icode, atom.name)
                        if atom.altloc != '\\0' and key in seen:
                            continue
                        seen.add(key)
                        rows.append('%s|%s|%d|%s|%s|%.3f|%.3f|%.3f' % (chain.name, residue.name, residue.seqid.num, residue.seqid.icode.strip(),
                                                                    atom.name, atom.pos.x, atom.pos.y, atom.pos.z))
            print(entry, len(st), os.path.exists(entry + '.pdb'), ';'.join(rows))
        """)
        let lines = report.split(separator: "\n")
        XCTAssertEqual(lines.count, entries.count, report.prefix(2000).description)
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard parts.count == 4 else { XCTFail("unexpected line \(line.prefix(200))"); continue }
            let (entry, hasPDB) = (parts[0], parts[2] == "True")
            let structure = try MMCIFFile.read(interop.path(entry + ".cif"), selection: .all)
            // gemmi lists each chain's waters after its polymer; the reader keeps file order (as the PDB reader does),
            // so atoms are matched by identity.
            var expected: [String: [Double]] = [:]
            for row in parts[3].split(separator: ";") {
                let fields = row.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                expected[fields.prefix(5).joined(separator: "|")] = fields.dropFirst(5).compactMap { Double($0) }
            }
            XCTAssertEqual(structure.models.count, Int(parts[1]), entry)
            XCTAssertEqual(structure.count, parts[3].split(separator: ";").count, "\(entry): atoms")
            XCTAssertEqual(Set(expected.keys).count, structure.count, "\(entry): atom identities are unique")
            for (i, atom) in structure.atoms.enumerated() {
                let key = [atom.chain, atom.residueName, "\(atom.residueNumber)", atom.insertionCode, atom.name].joined(separator: "|")
                guard let xyz = expected[key], xyz.count == 3 else { XCTFail("\(entry): gemmi lacks atom \(key)"); continue }
                for axis in 0..<3 { XCTAssertEqual(structure.models[0][3 * i + axis], xyz[axis], accuracy: 5e-4, "\(entry) \(key)") }
            }
            XCTAssertGreaterThan(try MMCIFFile.read(interop.path(entry + ".cif")).count, 0, "\(entry) has Cα atoms")
            if hasPDB {
                for selection in [PDBFile.Selection.ca, .all] {
                    let pdb = try PDBFile.read(interop.path(entry + ".pdb"), selection: selection)
                    let cif = try MMCIFFile.read(interop.path(entry + ".cif"), selection: selection)
                    XCTAssertEqual(cif.atoms, pdb.atoms, "\(entry) \(selection): PDB and mmCIF atoms")
                    XCTAssertEqual(cif.models, pdb.models, "\(entry) \(selection): PDB and mmCIF coordinates")
                }
            }
        }
    }

    func testBadFilesGiveClearErrors() throws {
        let header = "data_x\nloop_\n_atom_site.label_atom_id\n_atom_site.label_seq_id\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n"
        try assertThrows("no _atom_site table", "data_x\n_entry.id X\nloop_\n_struct_asym.id\nA\n")
        try assertThrows("no _atom_site.Cartn_y column", "data_x\nloop_\n_atom_site.label_atom_id\n_atom_site.label_seq_id\n_atom_site.Cartn_x\n_atom_site.Cartn_z\nCA 1 0 0\n")
        try assertThrows("bad.cif:9: y coordinate 'abc' is not a number", header + "CA 1 0 0 0\nCA 2 1 abc 1\n")
        try assertThrows("bad.cif:8: residue number '?' is not an integer", header + "CA ? 0 0 0\n")
        try assertThrows("has 7 values for 5 columns, not a whole number of rows", header + "CA 1 0 0 0\nCA 2\n")
        try assertThrows("bad.cif:3: a ';' text field that no line starting with ';' closes", "data_x\n_struct.title\n;never closed\n")
        try assertThrows("bad.cif:8: unterminated quote", header + "'CA 1 0 0 0\n")
        try assertThrows("bad.cif:11: model 2 has 1 selected atoms, model 1 has 2",
                         header.replacingOccurrences(of: "_atom_site.Cartn_z\n", with: "_atom_site.Cartn_z\n_atom_site.pdbx_PDB_model_num\n")
                            + "N 1 0 0 0 1\nCA 1 0 0 0 1\nCA 1 0 0 0 2\n")
        let noCA = try write(header + "N 1 0 0 0\n", "bad.cif")
        XCTAssertThrowsError(try MMCIFFile.read(noCA)) { XCTAssertTrue("\($0)".contains("bad.cif: no CA atoms found in the _atom_site table"), "\($0)") }
        XCTAssertThrowsError(try MMCIFFile.read(folder.path("absent.cif"))) { error in
            XCTAssertTrue("\(error)".contains("absent.cif: no such file"), "\(error)")
        }
    }
}
