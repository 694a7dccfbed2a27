import CZlib
import Foundation

/// PNG output (8-bit grayscale or RGB, zlib-compressed by libz) and helpers to turn float images into pixels.
public enum PNGImage {
    /// Writes `pixels` (height×width×channels bytes, channels 1 or 3) to `path`.
    public static func write(_ path: String, width: Int, height: Int, channels: Int, pixels: [UInt8], op: String) throws {
        guard width > 0, height > 0, channels == 1 || channels == 3, pixels.count == width * height * channels else {
            throw KernelError(op, "invalid image of \(width)×\(height)×\(channels) with \(pixels.count) bytes")
        }
        // Each row starts with filter type 1 (Sub: every byte minus the one a pixel to its left), which turns the
        // flat areas of plots and montages into runs of zeros for the compressor.
        let row = width * channels
        var raw: [UInt8] = []
        raw.reserveCapacity((row + 1) * height)
        for y in 0..<height {
            raw.append(1)
            for x in 0..<row {
                let value = pixels[y * row + x]
                raw.append(x < channels ? value : value &- pixels[y * row + x - channels])
            }
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, channels == 1 ? 0 : 2, 0, 0, 0])
        png += chunk("IDAT", try compressed(raw, op: op))
        png += chunk("IEND", [])
        try AtomicFile.write(Data(png), to: path, op: op)
    }

    /// A zlib stream (header, deflate at level 9, Adler-32) of `bytes`.
    static func compressed(_ bytes: [UInt8], op: String) throws -> [UInt8] {
        var length = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let status = compress2(&out, &length, bytes, uLong(bytes.count), 9)
        guard status == Z_OK else { throw KernelError(op, "zlib could not compress the image (status \(status))") }
        return Array(out[0..<Int(length)])
    }

    /// Grayscale bytes of one float image, scaled between its 1st and 99th percentiles (robust to outliers).
    public static func grayscale(_ values: ArraySlice<Float>) -> [UInt8] {
        let sorted = values.filter(\.isFinite).sorted()
        guard let first = sorted.first else { return [UInt8](repeating: 0, count: values.count) }
        let lo = sorted[Int(Double(sorted.count - 1) * 0.01)], hi = sorted[Int(Double(sorted.count - 1) * 0.99)]
        let span = hi > lo ? hi - lo : Swift.max(1, Swift.abs(first))
        return values.map { v in v.isFinite ? UInt8(Swift.max(0, Swift.min(255, ((v - lo) / span * 255).rounded()))) : 0 }
    }

    /// Tiles images [B,H,W] into a grid `columns` wide (each image scaled on its own) and writes it.
    public static func montage(_ images: Tensor, path: String, columns: Int, gap: Int = 2) throws {
        guard images.rank == 3 || images.rank == 2, images.count > 0 else {
            throw KernelError.shape("montage", expected: "images [B,H,W] or one [H,W]", got: images.shape)
        }
        let b = images.rank == 3 ? images.shape[0] : 1
        let h = images.shape[images.rank - 2], w = images.shape[images.rank - 1]
        let cols = Swift.max(1, Swift.min(columns, b)), rows = (b + cols - 1) / cols
        let width = cols * w + (cols - 1) * gap, height = rows * h + (rows - 1) * gap
        var pixels = [UInt8](repeating: 255, count: width * height)
        for k in 0..<b {
            let tile = grayscale(images.storage[(k * h * w)..<((k + 1) * h * w)])
            let (r, c) = (k / cols, k % cols)
            for y in 0..<h { for x in 0..<w { pixels[(r * (h + gap) + y) * width + c * (w + gap) + x] = tile[y * w + x] } }
        }
        try write(path, width: width, height: height, channels: 1, pixels: pixels, op: "montage")
    }

    private static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return bigEndian(UInt32(body.count)) + typed + bigEndian(UInt32(crc32(0, typed, uInt(typed.count))))
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
}
