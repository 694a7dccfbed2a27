/// PNG heatmaps of a square or rectangular matrix with a diverging colour map (blue below zero, white at zero,
/// red above, symmetric about zero) and a labelled colour bar; for differences such as Δ distance matrices.
public enum Heatmap {
    /// The diverging colour of `t` in [−1, 1]: (59, 76, 192) at −1, white at 0, (180, 4, 38) at +1 (the end
    /// colours of Moreland's cool-warm map), linear in RGB on each side.
    public static func colour(_ t: Double) -> (UInt8, UInt8, UInt8) {
        let u = Swift.max(-1, Swift.min(1, t.isFinite ? t : 0))
        let end: (Double, Double, Double) = u < 0 ? (59, 76, 192) : (180, 4, 38)
        let a = Swift.abs(u)
        func mix(_ e: Double) -> UInt8 { UInt8((255 + (e - 255) * a).rounded()) }
        return (mix(end.0), mix(end.1), mix(end.2))
    }

    /// Writes `values` (rows × columns, row-major; row 0 at the top) as a heatmap of at most 400 px a side
    /// (each cell a whole number of pixels), with a title, axis labels and a colour bar from −max|v| to +max|v|.
    public static func write(_ path: String, values: [Double], rows: Int, columns: Int, title: String, xLabel: String, yLabel: String) throws {
        guard rows > 0, columns > 0, values.count == rows * columns else {
            throw KernelError("heatmap", "\(path): \(values.count) values for a \(rows)×\(columns) matrix")
        }
        let limit = values.filter(\.isFinite).map(Swift.abs).max() ?? 0
        let cell = Swift.max(1, 400 / Swift.max(rows, columns))
        let (left, top, right, bottom) = (60, 34, 110, 50)
        let w = left + cell * columns + right, h = top + cell * rows + bottom
        var canvas = LinePlot.Canvas(width: w, height: h)
        for r in 0..<rows { for c in 0..<columns {
            let colour = self.colour(limit > 0 ? values[r * columns + c] / limit : 0)
            for dy in 0..<cell { for dx in 0..<cell { canvas.set(left + c * cell + dx, top + r * cell + dy, colour) } }
        } }
        let (x1, y1) = (left + cell * columns, top + cell * rows)
        for (xa, ya, xb, yb) in [(left - 1, top - 1, x1, top - 1), (left - 1, y1, x1, y1), (left - 1, top - 1, left - 1, y1), (x1, top - 1, x1, y1)] {
            canvas.line(xa, ya, xb, yb, (0, 0, 0))
        }
        for k in 0...4 {
            let index = (Swift.max(columns, rows) - 1) * k / 4
            if index < columns { canvas.text("\(index + 1)", centre: left + index * cell + cell / 2, y: y1 + 6) }
            if index < rows { canvas.text("\(index + 1)", right: left - 6, y: top + index * cell + cell / 2 - 3) }
        }
        canvas.text(title, centre: w / 2, y: 12)
        canvas.text(xLabel, centre: left + cell * columns / 2, y: h - 20)
        canvas.text(yLabel, left: 4, y: top - 14)
        // The colour bar: +limit at the top, −limit at the bottom.
        let barX = x1 + 20, barHeight = cell * rows
        for y in 0..<barHeight {
            let colour = self.colour(1 - 2 * Double(y) / Double(Swift.max(barHeight - 1, 1)))
            for x in 0..<16 { canvas.set(barX + x, top + y, colour) }
        }
        canvas.text(LinePlot.label(limit), left: barX + 20, y: top)
        canvas.text("0", left: barX + 20, y: top + barHeight / 2 - 3)
        canvas.text(LinePlot.label(-limit), left: barX + 20, y: top + barHeight - 7)
        try PNGImage.write(path, width: w, height: h, channels: 3, pixels: canvas.pixels, op: "heatmap")
    }
}
