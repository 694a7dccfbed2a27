import CZlib
import XCTest

/// A small analysis end to end: simulate a toy dataset, train the GCN for 2 epochs, analyze, and open the
/// report in headless Chromium: the page loads, every <img> decodes (the page's own check sets
/// data-images="loaded" on <body>), and a screenshot is not one flat colour. Chromium comes from
/// `Scripts/setup.sh --deps-only --interop` (CI); elsewhere the browser part is skipped with that hint.
final class AnalysisReportTests: XCTestCase {
    /// Runs `executable` in `directory`; its exit status and its standard output and error, interleaved.
    private func run(_ executable: String, _ arguments: [String], in directory: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let pipe = Pipe()
        (process.standardOutput, process.standardError) = (pipe, pipe)
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    func testReportOpensInHeadlessChromium() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-analysis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let script = """
        let s = toy_protein(residues: 60, seed: 0)
        let traj = anm_trajectory(s, frames: 20, modes: 2, amplitude: 5, seed: 1)
        let sim = simulate(traj, images: 160, size: 48, pixel: 2, snr: 0.1, seed: 2)
        write_mrcs("data/particles.mrcs", sim.images, pixel: 2)
        write_star("data/particles.star", sim, stack: "particles.mrcs")
        let data = read_star("data/particles.star", project_dir: "data")
        let model = gnn(residue_graph(s), kind: "gcn", seed: 3)
        let r = train_autodecoder(model, data, like: s, epochs: 2, batch: 32, seed: 4, quiet: true)
        let a = analyze(r, data, like: s, k: 3, out: "analysis")
        print("sizes", a.state_sizes, "ari", a.ari, "stars", len(a.state_stars))
        """
        try script.write(to: work.appendingPathComponent("small.cryo"), atomically: true, encoding: .utf8)
        let analysis = try run(BinaryLocator.cryorepl.path, ["small.cryo"], in: work)
        XCTAssertEqual(analysis.status, 0, analysis.output)
        XCTAssertTrue(analysis.output.contains("stars 3"), analysis.output)
        let star = try String(contentsOf: work.appendingPathComponent("analysis/state_01.star"), encoding: .utf8)
        XCTAssertTrue(star.contains("_rlnClassNumber") && star.contains("data_optics"), "a state's subset keeps the STAR's blocks and columns")
        let report = work.appendingPathComponent("analysis/index.html")

        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first(where: FileManager.default.isExecutableFile) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("CI must install chromium (Scripts/setup.sh --deps-only --interop)") }
            throw XCTSkip("no chromium: install it (Scripts/setup.sh --deps-only --interop) to open the analysis report in a headless browser")
        }
        let flags = ["--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--virtual-time-budget=10000",
                     "--user-data-dir=\(work.appendingPathComponent("chromium-profile").path)"]
        let dom = try run(chromium, flags + ["--dump-dom", report.absoluteString], in: work)
        XCTAssertEqual(dom.status, 0, dom.output)
        XCTAssertTrue(dom.output.contains("data-images=\"loaded\""), "every image of the report must load:\n\(dom.output.prefix(600))")
        let shot = work.appendingPathComponent("shot.png")
        let screenshot = try run(chromium, flags + ["--window-size=1200,1600", "--screenshot=\(shot.path)", report.absoluteString], in: work)
        XCTAssertEqual(screenshot.status, 0, screenshot.output)
        let pixels = try decodePNG(shot)
        XCTAssertGreaterThan(Set(pixels).count, 20, "the screenshot must not be blank (it has \(Set(pixels).count) distinct colours)")
    }

    /// The RGB(A) pixels of an 8-bit, non-interlaced PNG (colour types 2 and 6; all five row filters), as
    /// packed 32-bit colours.
    private func decodePNG(_ url: URL) throws -> [UInt32] {
        let bytes = [UInt8](try Data(contentsOf: url))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        var (i, width, height, channels, idat) = (8, 0, 0, 0, [UInt8]())
        func be(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        while i + 8 <= bytes.count {
            let length = be(i), type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            if type == "IHDR" {
                (width, height) = (be(i + 8), be(i + 12))
                XCTAssertEqual(bytes[i + 16], 8, "bit depth")
                XCTAssertEqual(bytes[i + 20], 0, "interlace")
                channels = bytes[i + 17] == 6 ? 4 : 3
            }
            if type == "IDAT" { idat += bytes[(i + 8)..<(i + 8 + length)] }
            i += 12 + length
        }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: (stride + 1) * height)
        var length = uLongf(raw.count)
        XCTAssertEqual(uncompress(&raw, &length, idat, uLong(idat.count)), Z_OK)
        var image = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for x in 0..<stride {
                let v = raw[y * (stride + 1) + 1 + x]
                let a = x >= channels ? Int(image[y * stride + x - channels]) : 0, b = y > 0 ? Int(image[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(image[(y - 1) * stride + x - channels]) : 0
                let predictor: Int
                switch filter {
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: predictor = 0
                }
                image[y * stride + x] = v &+ UInt8(predictor)
            }
        }
        return (0..<(width * height)).map { p in (0..<3).reduce(UInt32(0)) { $0 << 8 | UInt32(image[p * channels + $1]) } }
    }
}
