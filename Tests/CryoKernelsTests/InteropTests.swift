import XCTest
@testable import CryoKernels

/// Files written by CryoScript open in the field's own Python libraries (mrcfile, starfile, gemmi) with the same
/// values, and files they write open in CryoScript. The libraries live in `.venv-interop`, made by
/// `Scripts/setup.sh --interop` (CI does this); elsewhere the test is skipped with that hint.
final class InteropTests: XCTestCase {
    private var interop: InteropPython!

    override func setUpWithError() throws { interop = try InteropPython() }

    override func tearDownWithError() throws {
        interop?.remove()
        interop = nil  // XCTest keeps every test case object for the whole run
    }

    private func runPython(_ code: String) throws -> String { try interop.run(code) }

    private func path(_ name: String) -> String { interop.path(name) }

    func testOurFilesOpenInTheirLibraries() throws {
        var g = SeededGenerator(seed: 3)
        let images = Tensor.randn([4, 6, 6], using: &g)
        try MRCFile.write(path("ours.mrcs"), images: images, pixel: 1.7)
        let rotations = (0..<4).map { _ in Rotation.random(using: &g) }
        let dataset = try ParticleDataset(images: images, rotations: rotations, shifts: [1, 2, 3, 4, 5, 6, 7, 8],
                                          ctf: (0..<4).map { CTFParameters(defocusU: 12000 + Double($0), defocusV: 11000, astigmatismAngle: 5) },
                                          pixel: 1.7, size: 6)
        try ParticleSTARWriter.write(path("ours.star"), dataset: dataset, stack: "ours.mrcs")
        let structure = Structure(atoms: [Structure.Atom(name: "CA", residueName: "GLY", residueNumber: 1),
                                          Structure.Atom(name: "CA", residueName: "TRP", residueNumber: 2, chain: "B")],
                                  models: [[1, 2, 3, 4, 5, 6], [1.5, 2.5, 3.5, -4.25, 5, 6]], origin: "test")
        try PDBFile.write(path("ours.pdb"), models: structure.models, like: structure)
        let report = try runPython("""
        import mrcfile, starfile, gemmi, numpy as np
        with mrcfile.open('ours.mrcs') as m:
            assert m.is_image_stack() and m.data.shape == (4, 6, 6), m.data.shape
            print('%.6f %.6f %.4f' % (m.data[2, 3, 1], m.data.sum(), m.voxel_size.x))
        s = starfile.read('ours.star')
        p = s['particles']
        print(p['rlnImageName'][2], '%.4f %.4f %.4f %.3f %.1f' % (p['rlnAngleRot'][1], p['rlnAngleTilt'][1], p['rlnAnglePsi'][1], p['rlnOriginYAngst'][3], p['rlnDefocusU'][3]))
        st = gemmi.read_structure('ours.pdb')
        a = st[1][0][0][0]
        print(len(st), st[1].count_atom_sites(), st[0][1].name, st[0][1][0].name, '%.3f' % a.pos.x, '%.3f' % st[1][1][0][0].pos.x)
        """)
        let lines = report.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, report)
        let mrc = lines[0].split(separator: " ").compactMap { Double($0) }
        XCTAssertEqual(mrc[0], Double(images.storage[2 * 36 + 3 * 6 + 1]), accuracy: 1e-5)
        XCTAssertEqual(mrc[1], Double(images.storage.reduce(0, +)), accuracy: 1e-3)
        XCTAssertEqual(mrc[2], 1.7, accuracy: 1e-4)
        let star = lines[1].split(separator: " ").map(String.init)
        XCTAssertEqual(star[0], "000003@ours.mrcs")
        let (rot, tilt, psi) = rotations[1].euler
        XCTAssertEqual(Double(star[1]) ?? 0, rot, accuracy: 1e-3)
        XCTAssertEqual(Double(star[2]) ?? 0, tilt, accuracy: 1e-3)
        XCTAssertEqual(Double(star[3]) ?? 0, psi, accuracy: 1e-3)
        XCTAssertEqual(Double(star[4]) ?? 0, 8, accuracy: 1e-3)
        XCTAssertEqual(Double(star[5]) ?? 0, 12003, accuracy: 1e-3)
        XCTAssertEqual(lines[2], "2 2 B TRP 1.500 -4.250")
    }

    func testTheirFilesOpenInOurs() throws {
        _ = try runPython("""
        import mrcfile, starfile, gemmi, numpy as np, pandas as pd
        data = (np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4) - 7) / 3
        with mrcfile.new('theirs.mrcs', overwrite=True) as m:
            m.set_data(data)
            m.set_image_stack()
            m.voxel_size = 2.5
        with mrcfile.new('theirs16.mrc', overwrite=True) as m:
            m.set_data(np.array([[1, -2], [300, 4]], dtype=np.int16))
        optics = pd.DataFrame({'rlnOpticsGroup': [1], 'rlnVoltage': [200.0], 'rlnSphericalAberration': [2.0], 'rlnAmplitudeContrast': [0.07],
                               'rlnImagePixelSize': [2.5], 'rlnImageSize': [4]})
        particles = pd.DataFrame({'rlnImageName': ['2@theirs.mrcs', '1@theirs.mrcs'], 'rlnAngleRot': [10.0, 0.0], 'rlnAngleTilt': [20.0, 90.0],
                                  'rlnAnglePsi': [30.0, 45.0], 'rlnOriginXAngst': [1.5, 0.0], 'rlnOriginYAngst': [-2.0, 0.0],
                                  'rlnDefocusU': [15000.0, 9000.0], 'rlnDefocusV': [14000.0, 9000.0], 'rlnDefocusAngle': [33.0, 0.0],
                                  'rlnOpticsGroup': [1, 1]})
        starfile.write({'optics': optics, 'particles': particles}, 'theirs.star')
        st = gemmi.Structure()
        model = gemmi.Model('1')
        chain = gemmi.Chain('A')
        for i, (name, x) in enumerate([('LYS', 1.25), ('ASP', -3.5)]):
            r = gemmi.Residue(); r.name = name; r.seqid = gemmi.SeqId(i + 1, ' ')
            a = gemmi.Atom(); a.name = 'CA'; a.element = gemmi.Element('C'); a.pos = gemmi.Position(x, 2.0, 3.0)
            r.add_atom(a); chain.add_residue(r)
        model.add_chain(chain)
        st.add_model(model)
        st.setup_entities()
        st.write_pdb('theirs.pdb')
        """)
        let stack = try MRCFile(path: path("theirs.mrcs"))
        XCTAssertEqual([stack.nx, stack.ny, stack.nz], [4, 4, 2])
        XCTAssertEqual(stack.pixel, 2.5, accuracy: 1e-5)
        XCTAssertEqual(try stack.tensor().storage[9], (9 - 7) / 3, accuracy: 1e-6)
        XCTAssertEqual(try MRCFile(path: path("theirs16.mrc")).tensor().storage, [1, -2, 300, 4])
        let d = try ParticleSTARReader.read(path("theirs.star")).dataset
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.images?.storage[0], (16 - 7) / 3, "first particle is image 2")
        XCTAssertLessThan(d.rotations[0].angle(to: Rotation(rot: 10, tilt: 20, psi: 30)), 1e-4)
        XCTAssertEqual(d.shifts[0], 1.5)
        XCTAssertEqual(d.shifts[1], -2)
        XCTAssertEqual(d.ctf[0].voltage, 200)
        XCTAssertEqual(d.ctf[0].amplitudeContrast, 0.07, accuracy: 1e-9)
        XCTAssertEqual(d.ctf[0].astigmatismAngle, 33)
        let s = try PDBFile.read(path("theirs.pdb"))
        XCTAssertEqual(s.atoms.map(\.residueName), ["LYS", "ASP"])
        XCTAssertEqual(s.models[0][3], -3.5, accuracy: 1e-6)
    }

    /// RELION's shift rule: the particle sits at the box centre minus (rlnOriginXAngst, rlnOriginYAngst). One atom at
    /// the model origin, rendered with origin (6, −4) Å at 1 Å/px in a 32-px box, must peak at column 16 − 6 and
    /// row 16 + 4, and write_star must write that origin as RELION reads it (checked with starfile and mrcfile).
    func testShiftSignFollowsRELION() throws {
        let geometry = try Projector.Geometry(size: 32, pixel: 1, sigma: [1.2], weight: [1])
        let image = try Projector.project(coords: Tensor(shape: [1, 3], storage: [0, 0, 0]), rotations: Rotation.tensor([.identity]),
                                          shifts: Tensor(shape: [1, 2], storage: [6, -4]), geometry: geometry)
        try MRCFile.write(path("one.mrcs"), images: image, pixel: 1)
        let dataset = try ParticleDataset(images: image, rotations: [.identity], shifts: [6, -4], ctf: [CTFParameters(defocusU: 10000)], pixel: 1, size: 32)
        try ParticleSTARWriter.write(path("one.star"), dataset: dataset, stack: "one.mrcs")
        let report = try runPython("""
        import starfile, mrcfile, numpy as np
        p = starfile.read('one.star')['particles']
        image = mrcfile.read('one.mrcs')[0] if mrcfile.read('one.mrcs').ndim == 3 else mrcfile.read('one.mrcs')
        row, column = np.unravel_index(np.argmax(image), image.shape)
        ox, oy = float(p.rlnOriginXAngst[0]), float(p.rlnOriginYAngst[0])
        print(int(column), int(row), ox, oy, int(round(16 - ox)), int(round(16 - oy)))
        """)
        let v = report.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(v.count, 6, report)
        XCTAssertEqual(v[2], 6, accuracy: 1e-6)
        XCTAssertEqual(v[3], -4, accuracy: 1e-6)
        XCTAssertEqual(v[0], v[4], "peak column = box centre − rlnOriginXAngst / pixel")
        XCTAssertEqual(v[1], v[5], "peak row = box centre − rlnOriginYAngst / pixel")
        XCTAssertEqual([v[0], v[1]], [10, 20])
    }

    /// The mmCIF writer's `_atom_site` loop opens in gemmi with every model, chain, residue, coordinate and
    /// B-factor, and the states' multi-model PDB agrees with it.
    func testOurMMCIFOpensInGemmi() throws {
        let structure = Structure(atoms: [Structure.Atom(name: "CA", residueName: "GLY", residueNumber: 5),
                                          Structure.Atom(name: "CA", residueName: "TRP", residueNumber: 6),
                                          Structure.Atom(name: "CA", residueName: "LYS", residueNumber: 1, chain: "B")],
                                  models: [[1, 2, 3, 4, 5, 6, 7, 8, 9]], origin: "test")
        let models: [[Double]] = [[1, 2, 3, 4, 5, 6, 7, 8, 9], [1.5, 2.5, 3.5, -4.25, 5, 6, 7, 8, 90.125]]
        try MMCIFFile.write(path("ours.cif"), models: models, like: structure, bFactors: [0.5, 1.25, 12])
        try PDBFile.write(path("ours.pdb"), models: models, like: structure, bFactors: [0.5, 1.25, 12])
        let report = try runPython("""
        import gemmi
        for name in ['ours.cif', 'ours.pdb']:
            st = gemmi.read_structure(name)
            st.setup_entities()
            rows = []
            for model in st:
                for chain in model:
                    for residue in chain:
                        for atom in residue:
                            rows.append('%s:%s%d%s:%.3f,%.3f,%.3f:%.2f' % (chain.name, residue.name, residue.seqid.num, atom.name, atom.pos.x, atom.pos.y, atom.pos.z, atom.b_iso))
            print(len(st), ' '.join(rows))
        """)
        let lines = report.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, report)
        XCTAssertEqual(lines[0], lines[1], "the mmCIF and the PDB describe the same atoms")
        XCTAssertTrue(lines[0].hasPrefix("2 A:GLY5CA:1.000,2.000,3.000:0.50 A:TRP6CA:4.000,5.000,6.000:1.25 B:LYS1CA:7.000,8.000,9.000:12.00 "), lines[0])
        XCTAssertTrue(lines[0].hasSuffix("B:LYS1CA:7.000,8.000,90.125:12.00"), lines[0])
        let read = try MMCIFFile.read(path("ours.cif"))
        XCTAssertEqual(read.models, models, "our reader reads our writer's models back")
        XCTAssertEqual(read.atoms, structure.atoms)
    }

    /// An optics table written by starfile with what RELION records of the images: group 1 phase-flipped with
    /// antisymmetric aberrations (rlnOddZernike, rlnBeamTiltX/Y), group 2 CTF-premultiplied. The flags reach every
    /// particle's CTF; group 1's images come back corrected as NumPy corrects them from RELION's definitions (spectrum
    /// times e^{−iφ}, φ = Σ cᵢ·Zᵢ(s) with the beam tilt inserted as RELION's TiltHelper does), group 2's untouched;
    /// invert: true negates every CTF; both flags on one group is an error naming the file.
    func testOpticsTableFlagsAndAntisymmetricAberrations() throws {
        let report = try runPython("""
        import mrcfile, starfile, numpy as np, pandas as pd
        d, pixel = 32, 1.5
        rng = np.random.default_rng(7)
        f = np.fft.rfft2(rng.normal(size=(4, d, d)))
        fy, fx = np.meshgrid(np.fft.fftfreq(d, pixel), np.fft.rfftfreq(d, pixel), indexing='ij')
        f[:, np.hypot(fx, fy) >= 0.25] = 0
        images = np.fft.irfft2(f, s=(d, d)).astype(np.float32)
        with mrcfile.new('optics.mrcs', overwrite=True) as m:
            m.set_data(images); m.set_image_stack(); m.voxel_size = pixel
        odd, tilt, cs, kv = [0.4, -0.3, 20.0, 8.0, -12.0, 15.0], (0.9, -0.6), 2.7, 300.0
        lam = 12.2643247 / np.sqrt(kv * 1e3 * (1 + kv * 1e3 * 0.978466e-6))
        k = cs * 20000 * lam * lam * np.pi
        z3x, z3y = -k * tilt[0] / 3, -k * tilt[1] / 3
        c = list(odd); c[1] += 2 * z3x; c[0] += 2 * z3y; c[4] += z3x; c[3] += z3y
        r2, phi = fx**2 + fy**2, np.arctan2(fy, fx)
        rho = np.sqrt(r2)
        zernike = [fy, fx, rho**3 * np.sin(3 * phi), (3 * r2 - 2) * fy, (3 * r2 - 2) * fx, rho**3 * np.cos(3 * phi)]
        phase = sum(ci * z for ci, z in zip(c, zernike))
        corrected = np.fft.irfft2(np.fft.rfft2(images[:2]) * np.exp(-1j * phase), s=(d, d))
        with mrcfile.new('expected.mrcs', overwrite=True) as m:
            m.set_data(corrected.astype(np.float32)); m.set_image_stack()
        optics = pd.DataFrame({'rlnOpticsGroup': [1, 2], 'rlnOpticsGroupName': ['flipped', 'premultiplied'], 'rlnVoltage': [kv, kv],
                               'rlnSphericalAberration': [cs, cs], 'rlnAmplitudeContrast': [0.1, 0.1], 'rlnImagePixelSize': [pixel, pixel],
                               'rlnImageSize': [d, d], 'rlnImageDimensionality': [2, 2], 'rlnCtfDataArePhaseFlipped': [1, 0],
                               'rlnCtfDataAreCtfPremultiplied': [0, 1], 'rlnOddZernike': ['[' + ','.join(repr(v) for v in odd) + ']', '[0,0,0,0,0,0]'],
                               'rlnBeamTiltX': [tilt[0], 0.0], 'rlnBeamTiltY': [tilt[1], 0.0]})
        particles = pd.DataFrame({'rlnImageName': ['%d@optics.mrcs' % (i + 1) for i in range(4)], 'rlnOpticsGroup': [1, 1, 2, 2],
                                  'rlnDefocusU': [15000.0] * 4, 'rlnDefocusV': [15000.0] * 4, 'rlnDefocusAngle': [0.0] * 4})
        starfile.write({'optics': optics, 'particles': particles}, 'optics.star')
        both = optics.copy(); both['rlnCtfDataAreCtfPremultiplied'] = [1, 1]
        starfile.write({'optics': both, 'particles': particles}, 'both.star')
        print(float(np.abs(images[:2] - corrected).max()), float(np.abs(images).max()))
        """)
        let change = report.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(change.count, 2, report)
        let (d, summary) = try ParticleSTARReader.read(path("optics.star"), options: .init(projectDirectory: interop.folder.url.path))
        XCTAssertEqual(d.ctf.map { $0.optics?.phaseFlipped ?? false }, [true, true, false, false])
        XCTAssertEqual(d.ctf.map { $0.optics?.premultiplied ?? false }, [false, false, true, true])
        let plain = CTFParameters(defocusU: 15000)
        for s in [0.03, 0.08, 0.12] {
            XCTAssertEqual(d.ctf[0].value(sx: s, sy: 0), abs(plain.value(sx: s, sy: 0)), accuracy: 1e-9)
            XCTAssertEqual(d.ctf[2].value(sx: s, sy: 0), pow(plain.value(sx: s, sy: 0), 2), accuracy: 1e-9)
        }
        XCTAssertTrue(summary.contains("optics group flipped: images phase-flipped"), summary)
        XCTAssertTrue(summary.contains("optics group premultiplied: images CTF-premultiplied"), summary)
        XCTAssertTrue(summary.contains("optics group flipped: antisymmetric aberrations (_rlnOddZernike, _rlnBeamTiltX/Y) corrected in every image read"), summary)
        // Group 1's images as NumPy corrects them, group 2's as stored.
        let expected = try MRCFile(path: path("expected.mrcs")).tensor().storage
        let images = try XCTUnwrap(d.images).storage
        let error = zip(images.prefix(2 * 32 * 32), expected).map { abs($0 - $1) }.max() ?? 1
        XCTAssertLessThan(Double(error), 1e-4 * change[1], "corrected as NumPy corrects them")
        XCTAssertGreaterThan(change[0], 0.1 * change[1], "the aberrations move the images visibly")
        let stored = try MRCFile(path: path("optics.mrcs")).tensor().storage
        XCTAssertEqual(Array(images.suffix(2 * 32 * 32)), Array(stored.suffix(2 * 32 * 32)), "group 2 has nothing to correct")
        let streamed = try ParticleSTARReader.read(path("optics.star"), options: .init(stream: true, projectDirectory: interop.folder.url.path)).dataset
        XCTAssertEqual(try streamed.imageRows([1]).storage, Array(images[(32 * 32)..<(2 * 32 * 32)]), "streamed reads correct the same way")
        let inverted = try ParticleSTARReader.read(path("optics.star"), options: .init(projectDirectory: interop.folder.url.path, invert: true))
        XCTAssertEqual(inverted.dataset.ctf[2].value(sx: 0.05, sy: 0), -d.ctf[2].value(sx: 0.05, sy: 0), accuracy: 1e-12)
        XCTAssertTrue(inverted.summary.contains("invert: true"), inverted.summary)
        // Images rewritten from the dataset were corrected on reading: their STAR file carries no antisymmetric terms.
        try MRCFile.write(path("rewritten.mrcs"), images: try XCTUnwrap(d.images), pixel: 1.5)
        try ParticleSTARWriter.write(path("rewritten.star"), dataset: d, stack: "rewritten.mrcs")
        let (again, againSummary) = try ParticleSTARReader.read(path("rewritten.star"), options: .init(projectDirectory: interop.folder.url.path))
        XCTAssertEqual(try XCTUnwrap(again.images).storage, images, "not corrected twice")
        XCTAssertFalse(againSummary.contains("antisymmetric"), againSummary)
        XCTAssertEqual(again.ctf.map { $0.optics?.phaseFlipped ?? false }, [true, true, false, false], "the images are still phase-flipped")
        XCTAssertThrowsError(try ParticleSTARReader.read(path("both.star"), options: .init(projectDirectory: interop.folder.url.path))) { error in
            XCTAssertTrue("\(error)".contains("both.star") && "\(error)".contains("both phase-flipped"), "\(error)")
        }
    }
}
