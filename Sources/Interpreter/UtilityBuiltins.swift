import CryoKernels
import Foundation

/// General-purpose builtins: printing, help, lists, statistics, assertions and timing.
enum UtilityBuiltins {
    static let topic = "utilities"
    /// Process start, for `clock()`.
    private static let start = Date()

    static var all: [Builtin] {
        [
            builtin("print", topic: topic, [required("values"), optional("all", .bool(false))], variadic: true,
                    doc: "Prints values separated by spaces. Under MPI only rank 0 prints; all: true prints on every rank, prefixed with [rank r].",
                    example: "print(\"loss\", l)") { a in
                let text = try a.list("values").map(ValueFormatter.display).joined(separator: " ")
                if try a.bool("all"), World.size > 1 {
                    FileHandle.standardOutput.write(Data("[rank \(World.rank)] \(text)\n".utf8))
                } else {
                    a.interpreter.output(text)
                }
                return .null
            },
            builtin("world", topic: topic, [optional("writes", .null)],
                    doc: "The MPI world this script runs in (mpirun -np K cryorepl script.cryo): {rank, size, allreduce_seconds, allreduce_calls (time in and number of float allreduces so far)}; a plain run is a world of one. Files are written by rank 0 only; writes: \"all\" lets every rank write (\"root\" restores the default).",
                    example: "let w = world(); if w.rank == 0 { print(\"ranks:\", w.size) }") { a in
                if !a.isNull("writes") {
                    switch try a.string("writes") {
                    case "all": AtomicFile.everyRankWrites = true
                    case "root": AtomicFile.everyRankWrites = false
                    default: throw a.fail("writes", "\"all\" or \"root\"", a["writes"])
                    }
                }
                return .record(Record([("rank", .number(Double(World.rank))), ("size", .number(Double(World.size))),
                                       ("allreduce_seconds", .number(World.collectiveSeconds)), ("allreduce_calls", .number(Double(World.collectiveCalls)))]))
            },
            builtin("help", topic: topic, [optional("name", .null)],
                    doc: "Lists builtins by topic, or shows one builtin's signature, description and example.",
                    example: "help(\"segment_sum\")") { a in
                a.interpreter.output(try HelpText.text(for: a.isNull("name") ? nil : a.string("name"), registry: a.interpreter.registry))
                return .null
            },
            builtin("len", topic: topic, [required("x")], doc: "Length of a list, string, record or range, or extent of a tensor's first axis.",
                    example: "len([1, 2, 3])") { a in
                switch a["x"] {
                case .list(let items): return .number(Double(items.count))
                case .string(let s): return .number(Double(s.count))
                case .record(let r): return .number(Double(r.keys.count))
                case .range(let lo, let hi): return .number(Double(Swift.max(0, hi - lo)))
                case .tensor(let t) where t.rank >= 1: return .number(Double(t.shape[0]))
                case let v: throw a.fail("x", "a list, string, record, range or tensor of rank ≥ 1", v)
                }
            },
            builtin("updated", topic: topic, [required("record"), required("changes")],
                    doc: "A copy of record with the fields of the record changes put in: a field it has keeps its place and takes the new value, a new one is added at the end; the rest (a dataset's ctf, optics, truth…) is kept.",
                    example: "let realigned = updated(data, {rotations: found.rotations, shifts: found.shifts})") { a in
                var record = try a.record("record")
                for (key, value) in try a.record("changes").fields { record[key] = value }
                return .record(record)
            },
            builtin("range", topic: topic, [required("start"), optional("end", .null)],
                    doc: "The integers start..end-1 (range(n) is 0..n-1).", example: "for i in range(10) { print(i) }") { a in
                a.isNull("end") ? .range(0, try a.int("start")) : .range(try a.int("start"), try a.int("end"))
            },
            builtin("type", topic: topic, [required("x")], doc: "The type name of a value.", example: "type(1.5)  # \"number\"") { a in
                .string(a["x"].typeName)
            },
            builtin("str", topic: topic, [required("x")], doc: "A value as text.", example: "\"epoch \" + str(e)") { a in
                .string(ValueFormatter.display(a["x"]))
            },
            builtin("number", topic: topic, [required("x")], doc: "A number from text (e.g. a script argument) or a one-element tensor.",
                    example: "let epochs = if len(args) > 0 { number(args[0]) } else { 100 }") { a in
                if case .string(let s) = a["x"] {
                    guard let x = Double(s.trimmingCharacters(in: .whitespaces)) else { throw a.fail("x", "text holding a number", a["x"]) }
                    return .number(x)
                }
                return .number(try a.number("x"))
            },
            builtin("sort", topic: topic, [required("x")], doc: "The values of a tensor or list of numbers in ascending order (a rank-1 tensor).",
                    example: "sort(angular_error(est.rotations, data.rotations))") { a in
                .tensor(Tensor(try a.tensor("x").storage.sorted()))
            },
            builtin("median", topic: topic, [required("x")], doc: "Median of a tensor's or list's values.", example: "median(errors)") { a in
                .number(try percentile(a, 50))
            },
            builtin("percentile", topic: topic, [required("x"), required("q")],
                    doc: "q-th percentile (0–100, linear interpolation) of a tensor's or list's values.", example: "percentile(errors, 90)") { a in
                .number(try percentile(a, try a.number("q")))
            },
            builtin("seed", topic: topic, [required("n")], doc: "Resets the generator that random builtins called without seed: draw from (randn, uniform, random_rotations, add_noise, randomize_phases).", example: "seed(42)") { a in
                a.interpreter.generator = SeededGenerator(seed: UInt64(bitPattern: Int64(try a.int("n"))))
                return .null
            },
            builtin("assert", topic: topic, [required("condition"), optional("message", .string("assertion failed"))],
                    doc: "Stops the script with message unless condition is true.", example: "assert(loss < 0.1, \"did not converge\")") { a in
                guard try a.bool("condition") else { throw ScriptFailure(message: try a.string("message")) }
                return .null
            },
            builtin("file_exists", topic: topic, [required("path")], doc: "Whether a file exists at path.",
                    example: "assert(file_exists(\"data/adk/adk_dims.dcd\"), \"run Scripts/fetch_adk.sh first\")") { a in
                .bool(FileManager.default.fileExists(atPath: try a.string("path")))
            },
            builtin("clock", topic: topic, [], doc: "Seconds since the process started (for timing).", example: "let t0 = clock()") { _ in
                .number(Date().timeIntervalSince(start))
            },
            builtin("peak_memory", topic: topic, [], doc: "The process's peak resident memory so far, in MB (getrusage).",
                    example: "print(peak_memory(), \"MB\")") { _ in
                var usage = rusage()
                getrusage(RUSAGE_SELF.rawValue, &usage)
                return .number(Double(usage.ru_maxrss) / 1024)
            },
            builtin("profile", topic: topic, [required("f"), optional("quiet", .bool(false))],
                    doc: "Runs f() and shows where its time went: exclusive wall time per builtin or model call, and per op backward pass (label \"… (backward)\"); time outside any builtin (operators, indexing, control flow) is the \"script\" row. Returns {value, total_ms, rows: [{label, calls, ms, share}]}.",
                    example: "profile(|| opt.step(grad(loss, p)))") { a in
                let f = try a.callable("f")
                let profiler = Profiler()
                let t0 = Date()
                let value = try profiler.measure { try profiler.timing("script") { try a.interpreter.callValue(f, []) } }
                let total = Date().timeIntervalSince(t0)
                if !(try a.bool("quiet")) { a.interpreter.output(profiler.table(total: total) + String(format: "\ntotal %.2f ms", total * 1000)) }
                let rows = profiler.entries.sorted { $0.value.seconds > $1.value.seconds }.map { label, e in
                    Value.record(Record([("label", .string(label)), ("calls", .number(Double(e.calls))), ("ms", .number(e.seconds * 1000)),
                                         ("share", .number(total > 0 ? e.seconds / total : 0))]))
                }
                return .record(Record([("value", value), ("total_ms", .number(total * 1000)), ("rows", .list(rows))]))
            },
            builtin("map", topic: topic, [required("xs"), required("f")], doc: "f applied to every element of a list.",
                    example: "map([1, 2, 3], |x| x * x)") { a in
                let f = try a.callable("f")
                return .list(try a.list("xs").map { try a.interpreter.callValue(f, [$0]) })
            },
            builtin("describe", topic: topic, [required("x")],
                    doc: "A one-line summary: a tensor's shape, min, max, mean and std; other values as printed.", example: "describe(w)") { a in
                guard case .tensor(let t) = a["x"], t.count > 0 else { return .string(ValueFormatter.repr(a["x"])) }
                var sum = 0.0, squares = 0.0
                for v in t.storage { sum += Double(v); squares += Double(v) * Double(v) }
                let n = Double(t.count), mean = sum / n
                let std = Swift.max(0, squares / n - mean * mean).squareRoot()
                let text = "tensor \(formatShape(t.shape)) min \(ValueFormatter.number(Double(t.storage.min() ?? 0))) "
                    + "max \(ValueFormatter.number(Double(t.storage.max() ?? 0))) mean \(ValueFormatter.number(mean)) std \(ValueFormatter.number(std))"
                return .string(text)
            },
        ]
    }

    private static func percentile(_ a: Arguments, _ q: Double) throws -> Double {
        let values = try a.tensor("x").storage.map(Double.init)
        guard !values.isEmpty else { throw ScriptFailure(message: "\(a.callee) of an empty collection") }
        guard q >= 0 && q <= 100 else { throw a.fail("q", "a percentile between 0 and 100", a["q"]) }
        return ReconstructionMetrics.percentile(values, q)
    }
}
