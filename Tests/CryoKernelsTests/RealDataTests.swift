import XCTest
@testable import CryoKernels

/// Every real file in `../shared/real` (STAR files, stacks and maps from the test suites of cryoDRGN, cryoJAX,
/// starfile and mrcfile) read by CryoScript and compared with what the field's Python readers (starfile, mrcfile
/// in `.venv-interop`) give for the same file, with RELION's conventions applied on the Python side by hand:
/// per-particle optics merged from the optics table (particle columns first), pixel = 10000·detector/magnification
/// for RELION 3.0, origins in Å (pixels × pixel for 3.0), rlnCtfBfactor and rlnCtfScalefactor.
/// Skipped (visibly) where `../shared/real` or the venv is absent; failing instead when CI=true.
final class RealDataTests: XCTestCase {
    private var interop: InteropPython!
    private var real: String!

    override func setUpWithError() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shared = root.deletingLastPathComponent().appendingPathComponent("shared/real").path
        guard FileManager.default.fileExists(atPath: shared) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("CI runs beside ../shared/real, which is missing") }
            throw XCTSkip("no ../shared/real: the real-file tests need the shared fixtures beside the repository")
        }
        interop = try InteropPython()
        real = shared
    }

    override func tearDownWithError() throws {
        interop?.remove()
        interop = nil  // XCTest keeps every test case object for the whole run
    }

    /// Runs `code` with the venv's Python in `../shared/real`; returns its standard output.
    private func runPython(_ code: String) throws -> String {
        try interop.run(code, in: URL(fileURLWithPath: real))
    }

    /// Per-particle values of `file` as starfile reads them, RELION's rules applied by hand.
    private func expected(_ file: String) throws -> [[String: Double]] {
        let json = try runPython("""
        import json, starfile, pandas as pd
        blocks = starfile.read('\(file)', always_dict=True)
        particles = next(df for name, df in blocks.items() if name == 'particles' and 'rlnImageName' in df) \\
            if any(name == 'particles' for name in blocks) else next(df for df in blocks.values() if 'rlnImageName' in df)
        optics = blocks.get('optics')
        rows = []
        for i in range(len(particles)):
            p = particles.iloc[i]
            o = optics[optics.rlnOpticsGroup == p.rlnOpticsGroup].iloc[0] if optics is not None and 'rlnOpticsGroup' in p else None
            def get(label, default=None):
                if label in p: return float(p[label])
                if o is not None and label in o: return float(o[label])
                return default
            pixel = get('rlnImagePixelSize')
            if pixel is None and 'rlnMagnification' in p: pixel = 1e4 * float(p.rlnDetectorPixelSize) / float(p.rlnMagnification)
            if 'rlnOriginXAngst' in p: ox, oy = float(p.rlnOriginXAngst), float(p.rlnOriginYAngst)
            elif 'rlnOriginX' in p: ox, oy = float(p.rlnOriginX) * pixel, float(p.rlnOriginY) * pixel
            else: ox, oy = 0.0, 0.0
            rows.append(dict(pixel=pixel or 0.0, voltage=get('rlnVoltage', 300.0), cs=get('rlnSphericalAberration', 2.7),
                             amplitude=get('rlnAmplitudeContrast', 0.1), ox=ox, oy=oy, du=get('rlnDefocusU'),
                             dv=get('rlnDefocusV', get('rlnDefocusU')), angle=get('rlnDefocusAngle', 0.0), phase=get('rlnPhaseShift', 0.0),
                             bfactor=get('rlnCtfBfactor', 0.0), scale=get('rlnCtfScalefactor', 1.0), rot=get('rlnAngleRot', 0.0),
                             tilt=get('rlnAngleTilt', 0.0), psi=get('rlnAnglePsi', 0.0)))
        print(json.dumps(rows))
        """)
        return try JSONDecoder().decode([[String: Double]].self, from: Data(json.utf8))
    }

    /// Reads `file` (metadata only, or with images) and compares every particle with starfile's values.
    private func checkAgainstStarfile(_ file: String, images: Bool = false) throws -> ParticleDataset {
        let (dataset, summary) = try ParticleSTARReader.read(real + "/" + file, options: .init(loadImages: images, projectDirectory: images ? nil : real))
        let rows = try expected(file)
        XCTAssertEqual(dataset.count, rows.count, file)
        XCTAssertTrue(summary.contains("\(rows.count) particles"), summary)
        for (i, row) in rows.enumerated() where i < dataset.count {
            let c = dataset.ctf[i], message = "\(file) particle \(i + 1)"
            if (row["pixel"] ?? 0) > 0 { XCTAssertEqual(Double(dataset.optics[dataset.opticsGroup[i]].pixel), row["pixel"] ?? 0, accuracy: 1e-5, message) }
            XCTAssertEqual(c.voltage, row["voltage"] ?? 0, accuracy: 1e-9, message)
            XCTAssertEqual(c.sphericalAberration, row["cs"] ?? 0, accuracy: 1e-9, message)
            XCTAssertEqual(c.amplitudeContrast, row["amplitude"] ?? 0, accuracy: 1e-9, message)
            XCTAssertEqual(Double(dataset.shifts[2 * i]), row["ox"] ?? 0, accuracy: 1e-4, message)
            XCTAssertEqual(Double(dataset.shifts[2 * i + 1]), row["oy"] ?? 0, accuracy: 1e-4, message)
            XCTAssertEqual(c.defocusU, row["du"] ?? 0, accuracy: 1e-6, message)
            XCTAssertEqual(c.defocusV, row["dv"] ?? 0, accuracy: 1e-6, message)
            XCTAssertEqual(c.astigmatismAngle, row["angle"] ?? 0, accuracy: 1e-9, message)
            XCTAssertEqual(c.phaseShift, row["phase"] ?? 0, accuracy: 1e-9, message)
            XCTAssertEqual(c.bFactor, row["bfactor"] ?? 0, accuracy: 1e-9, message)
            XCTAssertEqual(c.scaleFactor, row["scale"] ?? 0, accuracy: 1e-9, message)
            let truth = Rotation(rot: row["rot"] ?? 0, tilt: row["tilt"] ?? 0, psi: row["psi"] ?? 0)
            XCTAssertLessThan(dataset.rotations[i].angle(to: truth), 1e-6, message)
        }
        return dataset
    }

    /// Each particle's image as mrcfile reads it from its stack (first value, sum), for files whose stacks ship.
    private func checkImages(_ file: String, _ dataset: ParticleDataset) throws {
        let report = try runPython("""
        import starfile, mrcfile, os
        blocks = starfile.read('\(file)', always_dict=True)
        particles = blocks['particles'] if 'particles' in blocks else next(df for df in blocks.values() if 'rlnImageName' in df)
        folder = os.path.dirname('\(file)')
        for name in particles.rlnImageName:
            index, stack = name.split('@')
            with mrcfile.mmap(os.path.join(folder, stack), permissive=True) as m:
                image = m.data[int(index) - 1]
                print('%.6g %.6g' % (image[0, 0], image.astype('float64').sum()))
        """)
        guard let images = dataset.images else { return XCTFail("\(file): no images read") }
        let d2 = dataset.size * dataset.size
        for (i, line) in report.split(separator: "\n").enumerated() {
            let values = line.split(separator: " ").compactMap { Double($0) }
            let image = images.storage[(i * d2)..<((i + 1) * d2)]
            XCTAssertEqual(Double(image.first ?? 0), values[0], accuracy: 1e-4 * max(1, abs(values[0])), "\(file) image \(i + 1)")
            XCTAssertEqual(image.reduce(0.0) { $0 + Double($1) }, values[1], accuracy: 1e-3 * max(1, abs(values[1])), "\(file) image \(i + 1)")
        }
    }

    func testRELION31WithStacks() throws {
        for file in ["cryodrgn/relion31.star", "cryodrgn/relion31.v2.star", "cryojax/test_starfile.star"] {
            let d = try checkAgainstStarfile(file, images: true)
            try checkImages(file, d)
        }
    }

    /// cryoJAX rendered its test particles with the origins in its STAR file: each image's centre of mass lies on
    /// the side of the box centre opposite to the origin (RELION's rule), wherever the origin exceeds a pixel.
    func testPeerImagesSitAtBoxCentreMinusOrigin() throws {
        let d = try checkAgainstStarfile("cryojax/test_starfile.star", images: true)
        guard let images = d.images else { return XCTFail("no images") }
        let size = d.size, pixel = Double(d.pixel)
        var checked = 0
        for b in 0..<d.count {
            let image = Array(images.storage[(b * size * size)..<((b + 1) * size * size)])
            let median = image.sorted()[image.count / 2]
            var (mass, mx, my) = (0.0, 0.0, 0.0)
            for k in 0..<(size * size) {
                let w = abs(Double(image[k] - median))
                mass += w; mx += w * Double(k % size - size / 2); my += w * Double(k / size - size / 2)
            }
            for (centre, origin) in [(mx / mass, Double(d.shifts[2 * b]) / pixel), (my / mass, Double(d.shifts[2 * b + 1]) / pixel)] where abs(origin) > 1 {
                XCTAssertLessThan(centre * origin, 0, "particle \(b + 1): centre of mass \(centre) px, origin \(origin) px")
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 4)
    }

    func testSixOpticsGroupsKeepTheirPixelsPerParticle() throws {
        let d = try checkAgainstStarfile("cryodrgn/relion31.6opticsgroups.star")
        XCTAssertEqual(d.optics.count, 6)
        XCTAssertEqual(Set(d.optics.map(\.pixel)), [1.25, 1.24])
        XCTAssertEqual(Set(d.optics.map(\.sphericalAberration)), [2.7, 2.6])
        // Origins reach tens of Å in real refinements: the sign decides where every particle is rendered.
        XCTAssertGreaterThan(d.shifts.map { abs($0) }.max() ?? 0, 20)
        // The halves RELION's gold-standard refinement kept apart, particle by particle as starfile reads them.
        let halves = try XCTUnwrap(try d.metadata?.randomSubsets())
        let expected = try runPython("""
        import starfile
        print(' '.join(str(int(v)) for v in starfile.read('cryodrgn/relion31.6opticsgroups.star', always_dict=True)['particles']['rlnRandomSubset']))
        """).split(separator: " ").compactMap { Int($0) }
        XCTAssertEqual(halves, expected)
        XCTAssertEqual(halves.filter { $0 == 1 }.count, 74)
    }

    /// The optics tables of the two real RELION 3.1+ files that carry CtfRefine's results: every group's symmetric
    /// aberrations and magnification as starfile reads them, in every particle's CTF; the premultiplied flag (0 there);
    /// and the antisymmetric aberrations named in the summary with the phase their correction takes out.
    func testCtfRefineTermsOfTheOpticsTable() throws {
        for file in ["cryodrgn/relion31.6opticsgroups.star", "cryodrgn/toy_datadir/relion5.star"] {
            let (d, summary) = try ParticleSTARReader.read(real + "/" + file, options: .init(loadImages: false))
            let lines = try runPython("""
            import starfile
            o = starfile.read('\(file)', always_dict=True)['optics']
            for _, g in o.iterrows():
                even = [float(v) for v in str(g.rlnEvenZernike).strip('[]').split(',')]
                print(int(g.rlnOpticsGroup), int(g.rlnCtfDataAreCtfPremultiplied), ' '.join(repr(v) for v in even),
                      '|', ' '.join(repr(float(g[k])) for k in ['rlnMagMat00', 'rlnMagMat01', 'rlnMagMat10', 'rlnMagMat11']))
            """).split(separator: "\n")
            XCTAssertEqual(lines.count, d.optics.count, file)
            for line in lines {
                let halves = line.split(separator: "|").map { $0.split(separator: " ").compactMap { Double($0) } }
                let group = try XCTUnwrap(d.optics.first { $0.number == Int(halves[0][0]) }, "group \(halves[0][0]) of \(file)")
                XCTAssertEqual(group.terms.premultiplied, halves[0][1] == 1)
                XCTAssertEqual(group.terms.evenZernike, Array(halves[0].dropFirst(2)), "\(file), \(group.name)")
                XCTAssertEqual(group.terms.magnification, halves[1], "\(file), \(group.name)")
                for i in d.opticsGroup.indices where d.optics[d.opticsGroup[i]].number == group.number {
                    XCTAssertEqual(d.ctf[i].optics, group.terms, "particle \(i + 1) of \(file) carries its group's terms")
                }
            }
            XCTAssertTrue(summary.contains("symmetric aberrations (_rlnEvenZernike) and anisotropic magnification"), summary)
            XCTAssertTrue(summary.contains("antisymmetric aberrations (_rlnOddZernike, _rlnBeamTiltX/Y) to be corrected in the images when they are read"), summary)
        }
    }

    func testRELION30WithoutOptics() throws {
        let (d, summary) = try ParticleSTARReader.read(real + "/cryodrgn/FinalRefinement-OriginalParticles-PfCRT.star", options: .init(loadImages: false))
        _ = try checkAgainstStarfile("cryodrgn/FinalRefinement-OriginalParticles-PfCRT.star")
        XCTAssertEqual(d.optics.first?.pixel ?? 0, 1.035, accuracy: 1e-6, "10000 · rlnDetectorPixelSize / rlnMagnification")
        XCTAssertEqual(d.ctf[0].sphericalAberration, 0.001, accuracy: 1e-12, "per-particle Cs, not a default")
        XCTAssertTrue(summary.contains("no optics table"), summary)
    }

    func testDataImagesBlockWithPhaseShiftAndExtraColumn() throws {
        for file in ["cryodrgn/toy_projections.star", "cryodrgn/toy_datadir/toy_projections_dir.star"] {
            let d = try checkAgainstStarfile(file, images: true)
            try checkImages(file, d)
            XCTAssertEqual(d.ctf[0].phaseShift, 90)
        }
        let (_, summary) = try ParticleSTARReader.read(real + "/cryodrgn/toy_projections.star")
        XCTAssertTrue(summary.contains("pixel size 1 Å from the header"), "the pixel size is assumed, and said so: \(summary)")
        let (metadata, metadataSummary) = try ParticleSTARReader.read(real + "/cryodrgn/toy_projections.star", options: .init(loadImages: false))
        XCTAssertEqual(metadata.pixel, 0)
        XCTAssertTrue(metadataSummary.contains("pixel size unknown: the file gives none and the images' headers were not read (images: false); give pixel:"), metadataSummary)
        _ = try checkAgainstStarfile("cryodrgn/toy_projections_13.star")
        let (_, summary13) = try ParticleSTARReader.read(real + "/cryodrgn/toy_projections_13.star", options: .init(loadImages: false))
        XCTAssertTrue(summary13.contains("particle-level _rlnSphericalAberration overrides"), summary13)
        // Its optics table says 300 px; the stack holds 30 px images.
        XCTAssertThrowsError(try ParticleSTARReader.read(real + "/cryodrgn/toy_projections_13.star")) { error in
            XCTAssertTrue("\(error)".contains("says the box is 300 px"), "\(error)")
        }
    }

    func testOpticsBoxThatContradictsTheStacksIsAnError() throws {
        XCTAssertThrowsError(try ParticleSTARReader.read(real + "/cryodrgn/toy_datadir/relion5.star")) { error in
            XCTAssertTrue("\(error)".contains("optics group opticsGroup1 says the box is 448 px"), "\(error)")
        }
        _ = try checkAgainstStarfile("cryodrgn/toy_datadir/relion5.star")
    }

    func testNotAParticleFileNamesTheMissingColumn() throws {
        XCTAssertThrowsError(try ParticleSTARReader.read(real + "/starfile/rln3.1_data_style.star")) { error in
            XCTAssertTrue("\(error)".contains("lacks the required column _rlnDefocusU"), "\(error)")
        }
    }

    /// write_star of a real file, metadata only, keeps every block, column and image name; values CryoScript
    /// owns come back equal (starfile reads both).
    func testWriteStarPreservesEveryColumn() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-real-\(UUID().uuidString).star").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        for file in ["cryodrgn/relion31.6opticsgroups.star", "cryodrgn/FinalRefinement-OriginalParticles-PfCRT.star", "cryodrgn/toy_projections.star"] {
            let (d, _) = try ParticleSTARReader.read(real + "/" + file, options: .init(loadImages: false, pixel: 1))
            try ParticleSTARWriter.write(out, dataset: d, stack: nil)
            let report = try runPython("""
            import starfile, numpy as np, pandas as pd
            a = starfile.read('\(file)', always_dict=True); b = starfile.read('\(out)', always_dict=True)
            assert list(a) == list(b), (list(a), list(b))
            for name in a:
                for column in a[name].columns:
                    assert column in b[name].columns, (name, column)
                    x, y = a[name][column], b[name][column]
                    if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
                        assert np.allclose(x.astype(float), y.astype(float), atol=1e-3), (name, column)
                    else:
                        assert (x.astype(str) == y.astype(str)).all(), (name, column)
            print('ok')
            """)
            XCTAssertEqual(report.trimmingCharacters(in: .whitespacesAndNewlines), "ok", file)
        }
    }

    func testEMDBMapHeadersAgreeWithMrcfile() throws {
        for file in ["mrcfile/EMD-3197.map", "mrcfile/EMD-3001.map"] {
            let header = try MRCMapHeader(path: real + "/" + file)
            let report = try runPython("""
            import mrcfile
            with mrcfile.mmap('\(file)', permissive=True) as m:
                h = m.header
                axes = [int(h.mapc), int(h.mapr), int(h.maps)]
                n = [int(h.nx), int(h.ny), int(h.nz)]; start = [int(h.nxstart), int(h.nystart), int(h.nzstart)]
                size = [0, 0, 0]; first = [0, 0, 0]
                for k in range(3): size[axes[k] - 1] = n[k]; first[axes[k] - 1] = start[k]
                v = [float(m.voxel_size.x), float(m.voxel_size.y), float(m.voxel_size.z)]
                o = [float(h.origin.x), float(h.origin.y), float(h.origin.z)]
                origin = o if any(o) else [first[k] * v[k] for k in range(3)]
                print(*size, *v, *origin)
            """)
            let values = report.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            XCTAssertEqual(header.size, values[0..<3].map { Int($0) }, file)
            for k in 0..<3 {
                XCTAssertEqual(Double(header.spacing[k]), values[3 + k], accuracy: 1e-5, file)
                XCTAssertEqual(Double(header.origin[k]), values[6 + k], accuracy: 1e-3, file)
                XCTAssertEqual(Double(header.centre[k]), values[6 + k] + Double(header.size[k] / 2) * values[3 + k], accuracy: 1e-3, file)
            }
        }
    }

    /// EMD-3001 stores its columns along z, rows along x and sections along y (mapc/mapr/maps 3, 1, 2) with
    /// non-cubic voxels: read into x, y, z order and written back as an x, y, z volume, mrcfile reads the values
    /// NumPy's transpose of the original gives, with the same voxel size and origin.
    func testAMapStoredAlongOtherAxesReadsAndWritesInXYZOrder() throws {
        let map = try MRCMapHeader(path: real + "/mrcfile/EMD-3001.map").map()
        XCTAssertEqual(map.size, [43, 25, 73])
        let written = interop.path("emd3001_xyz.mrc")
        try MRCFile.write(written, map: map)
        let report = try runPython("""
        import mrcfile, numpy as np
        with mrcfile.open('mrcfile/EMD-3001.map', permissive=True) as m:
            h = m.header
            ids = [int(h.maps), int(h.mapr), int(h.mapc)]          # the axis each stored array axis runs along
            xyz = np.transpose(m.data, [ids.index(3), ids.index(2), ids.index(1)])
            v = [float(m.voxel_size.x), float(m.voxel_size.y), float(m.voxel_size.z)]
            start = [0, 0, 0]
            for k, s in zip([int(h.mapc), int(h.mapr), int(h.maps)], [int(h.nxstart), int(h.nystart), int(h.nzstart)]): start[k - 1] = s
        with mrcfile.open('\(written)') as w:
            assert w.data.shape == xyz.shape, (w.data.shape, xyz.shape)
            assert np.array_equal(w.data, xyz.astype(np.float32))
            assert int(w.header.ispg) == 1 and [int(w.header.mapc), int(w.header.mapr), int(w.header.maps)] == [1, 2, 3]
            assert np.allclose([w.voxel_size.x, w.voxel_size.y, w.voxel_size.z], v, rtol=1e-5)
            assert np.allclose([w.header.origin.x, w.header.origin.y, w.header.origin.z], [start[k] * v[k] for k in range(3)], atol=1e-3)
        print('ok')
        """)
        XCTAssertEqual(report, "ok")
    }

    /// The FSC of EMDB's EMD-3197 (20³ voxels of 11.4 Å) against a noisy copy that mrcfile writes, shell by shell
    /// and at 0.5 and 0.143, against the same definition in NumPy (shells by rounded radius, up to Nyquist; the
    /// crossing interpolated linearly in frequency).
    func testFSCMatchesNumPyOnARealMap() throws {
        let noisy = interop.path("emd3197_noisy.mrc")
        let reference = try runPython("""
        import mrcfile, numpy as np
        with mrcfile.open('mrcfile/EMD-3197.map', permissive=True) as m:
            a = m.data.astype(np.float64); voxel = float(m.voxel_size.x); origin = m.header.origin; start = [int(m.header.nxstart), int(m.header.nystart), int(m.header.nzstart)]
        rng = np.random.default_rng(7)
        b = a + 0.6 * a.std() * rng.standard_normal(a.shape)
        with mrcfile.new('\(noisy)', overwrite=True) as w:
            w.set_data(b.astype(np.float32)); w.voxel_size = voxel
            w.header.nxstart, w.header.nystart, w.header.nzstart = start
        n = a.shape[0]
        fa, fb = np.fft.rfftn(a), np.fft.rfftn(b.astype(np.float32).astype(np.float64))
        k = np.fft.fftfreq(n) * n; kx = np.arange(n // 2 + 1)
        r = np.rint(np.sqrt(k[:, None, None] ** 2 + k[None, :, None] ** 2 + kx[None, None, :] ** 2)).astype(int)
        w = np.where((kx == 0) | (kx == n // 2), 1.0, 2.0)[None, None, :] * np.ones_like(r)
        shells = n // 2 + 1
        def total(x): return np.array([np.sum((w * x)[r == s]) for s in range(shells)])
        fsc = total(np.real(fa * np.conj(fb))) / np.sqrt(total(np.abs(fa) ** 2) * total(np.abs(fb) ** 2))
        f = np.arange(shells) / (n * voxel)
        def resolution(t):
            below = [s for s in range(1, shells) if fsc[s] < t]
            if not below: return 0.0
            s = below[0]
            if s == 1: return 1 / f[1]
            return 1 / (f[s - 1] + (fsc[s - 1] - t) / (fsc[s - 1] - fsc[s]) * (f[s] - f[s - 1]))
        print(*fsc, resolution(0.5), resolution(0.143))
        """).split(separator: " ").compactMap { Double($0) }
        let clean = try MRCMapHeader(path: real + "/mrcfile/EMD-3197.map").map(), copy = try MRCMapHeader(path: noisy).map()
        let curve = try FourierShellCorrelation(clean, copy)
        XCTAssertEqual(reference.count, curve.correlation.count + 2)
        for (s, c) in curve.correlation.enumerated() { XCTAssertEqual(Double(c), reference[s], accuracy: 1e-4, "shell \(s)") }
        for (t, expected) in zip([Float(0.5), 0.143], reference.suffix(2)) {
            XCTAssertEqual(Double(curve.resolution(at: t) ?? 0), expected, accuracy: 1e-3 * max(expected, 1), "resolution at \(t)")
        }
    }
}
