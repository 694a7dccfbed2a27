import XCTest
@testable import CryoKernels

/// Resampling on read: the Fourier interpolation against closed forms (the projector's analytic render at the
/// target pixel), against `downsample`, and end to end through `read_star` with two optics groups, `size:`,
/// streaming, masks and RELION's project-relative stack paths.
final class ResamplingTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-resample-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
        directory = nil  // XCTest keeps every test case object for the whole run
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Smooth test images: a few wide Gaussians (band-limited well inside every Nyquist used here), off-centre.
    /// Each pixel integrates the density over its area, a box blur of variance pixel²/12 per axis; `blurOf`
    /// renders at `pixel` as if integrated over pixels of that size instead (σ² + (blurOf² − pixel²)/12), which is
    /// what band-limited resampling of an image taken at `blurOf` gives.
    private func render(size: Int, pixel: Float, origins: [Float], blurOf: Float? = nil) throws -> Tensor {
        let coords = try Tensor(shape: [3, 3], storage: [4, -6, 1, -9, 3, 0, 2, 8, -3])
        let extra = ((blurOf ?? pixel) * (blurOf ?? pixel) - pixel * pixel) / 12
        let geometry = try Projector.Geometry(size: size, pixel: pixel, sigma: [4, 5, 4.5].map { ($0 * $0 + extra).squareRoot() }, weight: [1, 0.7, 1.2])
        let b = origins.count / 2
        return try Projector.project(coords: coords, rotations: Rotation.tensor(Array(repeating: .identity, count: b)),
                                     shifts: Tensor(shape: [b, 2], storage: origins), geometry: geometry)
    }

    func testFourierCropEqualsDownsample() throws {
        let fine = try render(size: 64, pixel: 1, origins: [3, -2, 0, 0])
        let resampled = ImageResampler(from: 64, pixel: 1, to: 32, pixel: 2).apply(fine.storage, count: 2)
        let cropped = try FourierFilter.downsample(fine, to: 32)
        for (a, b) in zip(resampled, cropped.storage) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testResamplingBetweenPixelSizesMatchesTheAnalyticRender() throws {
        // 1.25 Å in a 96 box and 1.0 Å in a 120 box (the same 120 Å field) both to 2.5 Å in a 48 box, and a
        // 1.24 Å / 96 group, whose field (119 Å) is not a whole number of target pixels.
        for (size, pixel) in [(96, Float(1.25)), (120, Float(1.0)), (96, Float(1.24))] {
            let target = try render(size: 48, pixel: 2.5, origins: [3, -2], blurOf: pixel)
            let source = try render(size: size, pixel: pixel, origins: [3, -2])
            let out = ImageResampler(from: size, pixel: pixel, to: 48, pixel: 2.5).apply(source.storage, count: 1)
            let peak = target.storage.map(abs).max() ?? 1
            let error = zip(out, target.storage).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(error, 2e-3 * peak, "\(size) px at \(pixel) Å")
            XCTAssertEqual(Double(out.reduce(0, +)), Double(target.storage.reduce(0, +)), accuracy: 1e-2, "the integrated density is kept")
        }
        XCTAssertTrue(ImageResampler(from: 48, pixel: 2.5, to: 48, pixel: 2.5).isIdentity)
        let padded = ImageResampler(from: 32, pixel: 2.5, to: 48, pixel: 2.5).apply(try render(size: 32, pixel: 2.5, origins: [0, 0]).storage, count: 1)
        XCTAssertEqual(padded[0], 0, "outside the source box is zero")
    }

    func testMaskIsSoftAndCircular() throws {
        let ones = [Float](repeating: 1, count: 32 * 32)
        let masked = ImageResampler(from: 32, pixel: 1, to: 32, pixel: 1, maskRadius: 8).apply(ones, count: 1)
        XCTAssertEqual(masked[16 * 32 + 16], 1)
        XCTAssertEqual(masked[16 * 32 + 16 + 10], 0.5 * (1 + cosf(.pi * 2 / 5)), accuracy: 1e-6)
        XCTAssertEqual(masked[0], 0)
    }

    /// A RELION project: stacks under Extract/, the STAR under Refine3D/ naming them relative to the project;
    /// two optics groups at different pixels and boxes. Read from the project directory (or with project_dir:),
    /// at size 48, in memory and streamed: both groups land on one grid and match the analytic render there.
    func testTwoOpticsGroupsInARELIONProjectReadAtOneGrid() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: path("Extract/job012"), withIntermediateDirectories: true)
        try fm.createDirectory(atPath: path("Refine3D/job025"), withIntermediateDirectories: true)
        try MRCFile.write(path("Extract/job012/a.mrcs"), images: try render(size: 96, pixel: 1.25, origins: [3, -2, -4, 1]), pixel: 1.25)
        try MRCFile.write(path("Extract/job012/b.mrcs"), images: try render(size: 120, pixel: 1.0, origins: [1, 5]), pixel: 1.0)
        let star = """
        data_optics
        loop_
        _rlnOpticsGroup #1
        _rlnOpticsGroupName #2
        _rlnImagePixelSize #3
        _rlnImageSize #4
        _rlnVoltage #5
        _rlnSphericalAberration #6
        _rlnAmplitudeContrast #7
        1 fine 1.25 96 300 2.7 0.1
        2 finer 1.0 120 200 2.0 0.07
        data_particles
        loop_
        _rlnImageName #1
        _rlnOpticsGroup #2
        _rlnOriginXAngst #3
        _rlnOriginYAngst #4
        _rlnDefocusU #5
        _rlnMicrographName #6
        000001@Extract/job012/a.mrcs 1 3 -2 10000 mic1.mrc
        000001@Extract/job012/b.mrcs 2 1 5 12000 mic2.mrc
        000002@Extract/job012/a.mrcs 1 -4 1 11000 mic1.mrc
        """
        try star.write(toFile: path("Refine3D/job025/run_data.star"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ParticleSTARReader.read(path("Refine3D/job025/run_data.star"), options: .init(projectDirectory: path("Elsewhere")))) { error in
            XCTAssertTrue("\(error)".contains("stack 'Extract/job012/a.mrcs' not found; tried \(path("Elsewhere/Extract/job012/a.mrcs")) and \(path("Refine3D/job025/Extract/job012/a.mrcs"))"), "\(error)")
        }
        XCTAssertThrowsError(try ParticleSTARReader.read(path("Refine3D/job025/run_data.star"), options: .init(resample: false, projectDirectory: path("")))) { error in
            XCTAssertTrue("\(error)".contains("optics groups differ in pixel size or box"), "\(error)")
        }
        let expected = Tensor(uncheckedShape: [3, 48, 48], storage: try render(size: 48, pixel: 2.5, origins: [3, -2], blurOf: 1.25).storage
                                + render(size: 48, pixel: 2.5, origins: [1, 5], blurOf: 1.0).storage + render(size: 48, pixel: 2.5, origins: [-4, 1], blurOf: 1.25).storage)
        for stream in [false, true] {
            let (d, summary) = try ParticleSTARReader.read(path("Refine3D/job025/run_data.star"), options: .init(stream: stream, size: 48, projectDirectory: path("")))
            XCTAssertEqual(d.size, 48)
            XCTAssertEqual(d.pixel, 2.5, accuracy: 1e-6)
            XCTAssertEqual(d.optics.map(\.pixel), [1.25, 1.0])
            XCTAssertEqual(d.ctf.map(\.voltage), [300, 200, 300])
            XCTAssertTrue(summary.contains("images resampled to 48 px at 2.5 Å"), summary)
            let images = try d.imageRows([0, 1, 2]).storage
            let peak = expected.storage.map(abs).max() ?? 1
            XCTAssertLessThan(zip(images, expected.storage).map { abs($0 - $1) }.max() ?? 1, 2e-3 * peak, "stream: \(stream)")
            XCTAssertEqual(stream, d.streamed != nil)
        }
        // The current directory stands for the project directory when none is given.
        let previous = fm.currentDirectoryPath
        fm.changeCurrentDirectoryPath(path(""))
        defer { fm.changeCurrentDirectoryPath(previous) }
        XCTAssertEqual(try ParticleSTARReader.read("Refine3D/job025/run_data.star", options: .init(size: 48)).dataset.count, 3)
    }
}
