import CryoKernels

/// PNG charts.
enum PlotBuiltins {
    static let topic = "output"

    static var all: [Builtin] {
        [
            builtin("plot", topic: topic, [required("series"), required("path"), optional("title", .string("")), optional("x", .null),
                                           optional("xlabel", .string("")), optional("ylabel", .string("")), optional("log", .bool(false))],
                    doc: "Line plot PNG of a list/tensor of numbers or a record of named series (x: optional shared x values; log: log-scale y).",
                    example: "plot({gcn: r1.history, mlp: r2.history}, path: \"loss.png\", title: \"training loss\", xlabel: \"epoch\")") { a in
                try LinePlot.write(try a.string("path"), series: try series(a), title: try a.string("title"), xLabel: try a.string("xlabel"),
                                   yLabel: try a.string("ylabel"), lines: true, logY: try a.bool("log"))
                return .null
            },
            builtin("histogram", topic: topic, [required("series"), required("path"), optional("bins", .number(30)), optional("title", .string("")),
                                                optional("xlabel", .string("")), optional("max", .null)],
                    doc: "Histogram PNG of one list/tensor of values or a record of named ones (shared bins from 0, or the minimum, to max).",
                    example: "histogram({esl: err_esl, argmin: err_argmin}, path: \"errors.png\", bins: 36, max: 180)") { a in
                let named: [(String, [Double])]
                if case .record(let r) = a["series"] { named = try r.fields.map { ($0.0, try numbers($0.1, a, "series")) } } else { named = [("", try numbers(a["series"], a, "series"))] }
                let all = named.flatMap(\.1).filter(\.isFinite)
                guard let lowest = all.min(), let highest = all.max() else { throw ScriptFailure(message: "histogram: no finite values") }
                let bins = Swift.max(1, Swift.min(try a.int("bins"), 1000))
                let range = (Swift.min(0, lowest), try a.optionalNumber("max") ?? Swift.max(highest, lowest + 1))
                let series = named.map { name, values -> LinePlot.Series in
                    let (centres, counts) = histogram(values, bins: bins, range: range)
                    return LinePlot.Series(name: name, x: centres, y: counts)
                }
                try LinePlot.write(try a.string("path"), series: series, title: try a.string("title"), xLabel: try a.string("xlabel"), yLabel: "count", lines: true)
                return .null
            },
            builtin("scatter", topic: topic, [required("x"), required("y"), required("path"), optional("title", .string("")),
                                              optional("xlabel", .string("")), optional("ylabel", .string(""))],
                    doc: "Scatter plot PNG of y against x (y may be a record of named series).",
                    example: "scatter(data.conformation, pc1, path: \"latent_vs_frame.png\")") { a in
                let x = try numbers(a["x"], a, "x")
                var list: [LinePlot.Series] = []
                if case .record(let r) = a["y"] {
                    for (name, v) in r.fields { list.append(LinePlot.Series(name: name, x: x, y: try numbers(v, a, "y"))) }
                } else {
                    list = [LinePlot.Series(name: "", x: x, y: try numbers(a["y"], a, "y"))]
                }
                try LinePlot.write(try a.string("path"), series: list, title: try a.string("title"), xLabel: try a.string("xlabel"),
                                   yLabel: try a.string("ylabel"), lines: false)
                return .null
            },
        ]
    }

    /// Bin counts of `values` over [lo, hi] in `bins` equal bins (values outside are clamped into the end bins).
    static func histogram(_ values: [Double], bins: Int, range: (Double, Double)) -> (centres: [Double], counts: [Double]) {
        let width = (range.1 - range.0) / Double(bins)
        var counts = [Double](repeating: 0, count: bins)
        for v in values where v.isFinite {
            counts[Swift.max(0, Swift.min(bins - 1, Int(((v - range.0) / width).rounded(.down))))] += 1
        }
        return ((0..<bins).map { range.0 + (Double($0) + 0.5) * width }, counts)
    }

    private static func numbers(_ v: Value, _ a: Arguments, _ name: String) throws -> [Double] {
        do { return try ValueConversion.tensor(v).storage.map(Double.init) } catch { throw a.fail(name, "numbers (a list or tensor)", v) }
    }

    private static func series(_ a: Arguments) throws -> [LinePlot.Series] {
        let sharedX = a.isNull("x") ? nil : try numbers(a["x"], a, "x")
        func make(_ name: String, _ v: Value) throws -> LinePlot.Series {
            let y = try numbers(v, a, "series")
            return LinePlot.Series(name: name, x: sharedX ?? (0..<y.count).map(Double.init), y: y)
        }
        if case .record(let r) = a["series"] { return try r.fields.map { try make($0.0, $0.1) } }
        return [try make("", a["series"])]
    }
}
