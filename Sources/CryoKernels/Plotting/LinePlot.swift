import Foundation

/// PNG charts: line plots of one or more named series and scatter plots, with axes, ticks, a title and a legend.
public enum LinePlot {
    /// One named series of (x, y) points; `marker` > 0 draws each point as a white disc of that radius (px) with
    /// a black outline and its 1-based number beside it, to mark a few special points (e.g. cluster centres).
    public struct Series: Sendable {
        public let name: String
        public let x: [Double], y: [Double]
        public let marker: Int
        public init(name: String, x: [Double], y: [Double], marker: Int = 0) { self.name = name; self.x = x; self.y = y; self.marker = marker }
    }

    static let palette: [(UInt8, UInt8, UInt8)] = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189), (140, 86, 75),
                                                   (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]

    /// A 640×420 chart; `lines` joins the points of each series, otherwise they are drawn as dots.
    public static func write(_ path: String, series: [Series], title: String, xLabel: String, yLabel: String, lines: Bool, logY: Bool = false) throws {
        let points = series.flatMap { s in zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite && (!logY || $0.1 > 0) } }
        guard !points.isEmpty else { throw KernelError("plot", "nothing to plot (no finite points)") }
        let (w, h) = (640, 420), (left, right, top, bottom) = (70, 20, 34, 50)
        var canvas = Canvas(width: w, height: h)
        func ty(_ v: Double) -> Double { logY ? Foundation.log10(v) : v }
        let xs = points.map(\.0), ys = points.map { ty($0.1) }
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 - x0 < 1e-12 { x0 -= 1; x1 += 1 }
        if y1 - y0 < 1e-12 { y0 -= 1; y1 += 1 }
        let pad = (y1 - y0) * 0.05
        (y0, y1) = (y0 - pad, y1 + pad)
        func px(_ x: Double) -> Int { left + Int((x - x0) / (x1 - x0) * Double(w - left - right)) }
        func py(_ y: Double) -> Int { h - bottom - Int((ty(y) - y0) / (y1 - y0) * Double(h - top - bottom)) }
        for k in 0...4 {
            let fy = y0 + (y1 - y0) * Double(k) / 4, fx = x0 + (x1 - x0) * Double(k) / 4
            let yPixel = h - bottom - Int(Double(h - top - bottom) * Double(k) / 4)
            canvas.line(left, yPixel, w - right, yPixel, (230, 230, 230))
            canvas.text(label(logY ? Foundation.pow(10, fy) : fy), right: left - 6, y: yPixel - 3)
            let xPixel = left + Int(Double(w - left - right) * Double(k) / 4)
            canvas.text(label(fx), centre: xPixel, y: h - bottom + 8)
        }
        canvas.line(left, top, left, h - bottom, (0, 0, 0))
        canvas.line(left, h - bottom, w - right, h - bottom, (0, 0, 0))
        canvas.text(title, centre: w / 2, y: 12)
        canvas.text(xLabel, centre: (left + w - right) / 2, y: h - 20)
        canvas.text(yLabel, right: left - 6, y: top - 14)
        for (k, s) in series.enumerated() {
            let colour = palette[k % palette.count]
            let valid = zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite && (!logY || $0.1 > 0) }
            for (i, p) in valid.enumerated() {
                if lines, i > 0 { canvas.line(px(valid[i - 1].0), py(valid[i - 1].1), px(p.0), py(p.1), colour, thick: true) }
                if s.marker > 0 {
                    canvas.dot(px(p.0), py(p.1), (0, 0, 0), radius: s.marker + 1)
                    canvas.dot(px(p.0), py(p.1), (255, 255, 255), radius: s.marker)
                    canvas.text("\(i + 1)", left: px(p.0) + s.marker + 3, y: py(p.1) - 3)
                } else if !lines || valid.count < 40 {
                    canvas.dot(px(p.0), py(p.1), colour, radius: lines ? 2 : 1)
                }
            }
            if series.count > 1 || !s.name.isEmpty {
                let ly = top + 6 + 12 * k
                canvas.line(w - right - 130, ly + 3, w - right - 112, ly + 3, colour, thick: true)
                canvas.text(s.name, left: w - right - 106, y: ly)
            }
        }
        try PNGImage.write(path, width: w, height: h, channels: 3, pixels: canvas.pixels, op: "plot")
    }

    /// A compact tick label.
    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = Swift.abs(v)
        if a >= 1e4 || a < 1e-2 { return String(format: "%.1e", v) }
        if a >= 100 { return String(format: "%.0f", v) }
        if a >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.2f", v)
    }

    /// An RGB raster with lines, dots and 5×7 text.
    struct Canvas {
        let width: Int, height: Int
        var pixels: [UInt8]

        init(width: Int, height: Int) {
            self.width = width
            self.height = height
            pixels = [UInt8](repeating: 255, count: width * height * 3)
        }

        mutating func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            let k = (y * width + x) * 3
            pixels[k] = c.0; pixels[k + 1] = c.1; pixels[k + 2] = c.2
        }

        mutating func line(_ xa: Int, _ ya: Int, _ xb: Int, _ yb: Int, _ c: (UInt8, UInt8, UInt8), thick: Bool = false) {
            let steps = Swift.max(Swift.abs(xb - xa), Swift.abs(yb - ya), 1)
            for s in 0...steps {
                let x = xa + (xb - xa) * s / steps, y = ya + (yb - ya) * s / steps
                set(x, y, c)
                if thick { set(x, y + 1, c); set(x + 1, y, c) }
            }
        }

        mutating func dot(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8), radius: Int) {
            for dy in -radius...radius { for dx in -radius...radius where dx * dx + dy * dy <= radius * radius + 1 { set(x + dx, y + dy, c) } }
        }

        mutating func text(_ s: String, left x: Int, y: Int) {
            for (i, ch) in s.enumerated() {
                let rows = PlotFont.glyph(ch)
                for (r, bits) in rows.enumerated() { for b in 0..<5 where bits & (16 >> b) != 0 { set(x + 6 * i + b, y + r, (40, 40, 40)) } }
            }
        }

        mutating func text(_ s: String, right x: Int, y: Int) { text(s, left: x - 6 * s.count, y: y) }
        mutating func text(_ s: String, centre x: Int, y: Int) { text(s, left: x - 3 * s.count, y: y) }
    }
}
