/// Fourier shell correlation curves against spatial frequency, with the threshold they are read at as a line.
public enum FSCPlot {
    /// Writes the PNG of `curves` (named) and the horizontal line at `threshold` to `path`.
    public static func write(_ path: String, curves: [(name: String, curve: FourierShellCorrelation)], threshold: Double, title: String) throws {
        let nyquist = Double(curves.map { $0.curve.frequency.last ?? 0 }.max() ?? 0)
        let series = curves.map { LinePlot.Series(name: $0.name, x: $0.curve.frequency.map(Double.init), y: $0.curve.correlation.map(Double.init)) }
            + [LinePlot.Series(name: "\(threshold)", x: [0, nyquist], y: [threshold, threshold])]
        try LinePlot.write(path, series: series, title: title, xLabel: "spatial frequency (1/A)", yLabel: "FSC", lines: true)
    }
}
