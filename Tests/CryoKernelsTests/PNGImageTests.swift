import CZlib
import XCTest
@testable import CryoKernels

/// PNG output decodes back to the pixels written: signature, chunk CRCs, the zlib stream and the row filter.
final class PNGImageTests: XCTestCase {
    /// The chunks of a PNG file as (type, body), checking each CRC.
    static func chunks(_ bytes: [UInt8]) throws -> [(String, [UInt8])] {
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var out: [(String, [UInt8])] = []
        var i = 8
        while i + 12 <= bytes.count {
            let length = bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) }
            let typed = Array(bytes[(i + 4)..<(i + 8 + length)])
            let stored = bytes[(i + 8 + length)..<(i + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            XCTAssertEqual(stored, UInt32(crc32(0, typed, uInt(typed.count))), "CRC of chunk at byte \(i)")
            out.append((String(decoding: typed.prefix(4), as: UTF8.self), Array(typed.dropFirst(4))))
            i += 12 + length
        }
        XCTAssertEqual(i, bytes.count, "trailing bytes")
        return out
    }

    /// Reads a PNG written by PNGImage and undoes zlib and the Sub filter: its size, channels and pixels.
    private func decode(_ path: String) throws -> (width: Int, height: Int, channels: Int, pixels: [UInt8], fileSize: Int) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let parts = try Self.chunks(bytes)
        XCTAssertEqual(parts.map(\.0), ["IHDR", "IDAT", "IEND"])
        let header = parts[0].1
        let width = header[0..<4].reduce(0) { $0 << 8 | Int($1) }, height = header[4..<8].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(header[8], 8)
        XCTAssertEqual(Array(header[10...]), [0, 0, 0])
        let channels = header[9] == 2 ? 3 : 1
        let row = width * channels
        var raw = [UInt8](repeating: 0, count: (row + 1) * height)
        var length = uLongf(raw.count)
        XCTAssertEqual(uncompress(&raw, &length, parts[1].1, uLong(parts[1].1.count)), Z_OK)
        XCTAssertEqual(Int(length), raw.count)
        var decoded: [UInt8] = []
        for y in 0..<height {
            XCTAssertEqual(raw[y * (row + 1)], 1, "filter type of row \(y)")
            for x in 0..<row {
                let filtered = raw[y * (row + 1) + 1 + x]
                decoded.append(x < channels ? filtered : filtered &+ decoded[y * row + x - channels])
            }
        }
        return (width, height, channels, decoded, bytes.count)
    }

    private func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cryo-png-\(UUID().uuidString).png").path
    }

    /// Writes an image and decodes the file.
    private func roundTrip(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws -> (pixels: [UInt8], fileSize: Int) {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PNGImage.write(path, width: width, height: height, channels: channels, pixels: pixels, op: "test")
        let image = try decode(path)
        XCTAssertEqual([image.width, image.height, image.channels], [width, height, channels])
        return (image.pixels, image.fileSize)
    }

    func testHeatmapDecodesWithDivergingColours() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        // 4×4 cells of 100 px: −2 at (0,0), +2 at (3,3), zeros elsewhere.
        var values = [Double](repeating: 0, count: 16)
        values[0] = -2
        values[15] = 2
        try Heatmap.write(path, values: values, rows: 4, columns: 4, title: "test", xLabel: "i", yLabel: "j")
        let image = try decode(path)
        XCTAssertEqual(image.channels, 3)
        XCTAssertEqual([image.width, image.height], [60 + 400 + 110, 34 + 400 + 50])
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(image.pixels[((y * image.width + x) * 3)..<((y * image.width + x) * 3 + 3)]) }
        XCTAssertEqual(pixel(60 + 50, 34 + 50), [59, 76, 192], "the most negative cell is the blue end")
        XCTAssertEqual(pixel(60 + 350, 34 + 350), [180, 4, 38], "the most positive cell is the red end")
        XCTAssertEqual(pixel(60 + 150, 34 + 50), [255, 255, 255], "zero is white")
        XCTAssertThrowsError(try Heatmap.write(path, values: [1, 2, 3], rows: 2, columns: 2, title: "", xLabel: "", yLabel: "")) { error in
            XCTAssertTrue("\(error)".contains("3 values for a 2×2 matrix"), "\(error)")
        }
    }

    func testPixelsSurviveTheRoundTrip() throws {
        var generator = SeededGenerator(seed: 4)
        let rgb = (0..<(13 * 7 * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        XCTAssertEqual(try roundTrip(width: 13, height: 7, channels: 3, pixels: rgb).pixels, rgb)
        let gray = (0..<(5 * 300)).map { UInt8($0 % 251) }
        XCTAssertEqual(try roundTrip(width: 300, height: 5, channels: 1, pixels: gray).pixels, gray)
    }

    func testAPlotLikeImageCompressesWell() throws {
        var pixels = [UInt8](repeating: 255, count: 640 * 420 * 3)
        for x in 0..<640 { for c in 0..<3 { pixels[(210 * 640 + x) * 3 + c] = 0 } }
        let (decoded, size) = try roundTrip(width: 640, height: 420, channels: 3, pixels: pixels)
        XCTAssertEqual(decoded, pixels)
        XCTAssertLessThan(size, pixels.count / 50, "a white image with one line should compress by far more than 50×")
    }

    func testBadShapesAreClearErrors() {
        XCTAssertThrowsError(try PNGImage.write("/tmp/never.png", width: 2, height: 2, channels: 2, pixels: [0, 0, 0, 0, 0, 0, 0, 0], op: "plot")) { error in
            XCTAssertTrue("\(error)".contains("invalid image of 2×2×2"), "\(error)")
        }
    }
}
