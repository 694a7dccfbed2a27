import CryoKernels
import Foundation
import Interpreter

/// What a regulariser written in the language costs per training step against the same term built in: the paper's
/// GCN trained by `train_autodecoder` (214 residues, 320 images of D = 64 at 2 Å/px with the CTF, batch 32, 2 epochs,
/// reference weights otherwise) once with the built-in term and once with the term as a script record
/// `{weight, term, count}` computing the same values (the built-in's weight 0). Two terms: the bond term (a few small
/// ops) and the windowed log-distance term (window 8: gathers over 1,686 pairs). Runs alternate, 9 of each; the
/// figure is the median of `seconds` / steps (the epoch's bond check and conformations included, the same in both).
/// On a loaded machine step times swing by tens of percent between runs, so each term is also timed alone (value and
/// gradient on a [32,214,3] batch, as the trainer calls a script term), and the step ratio that difference implies is
/// printed beside the measured one.
enum ScriptTermBenchmark {
    static func run() throws -> [(String, Double)] {
        let interpreter = Interpreter()
        interpreter.output = { _ in }
        try interpreter.run("""
        let s = toy_protein(residues: 214, seed: 1)
        let data = simulate(s, images: 320, size: 64, pixel: 2, snr: 0.1, seed: 3)
        let g = residue_graph(s)
        fn consecutive(x) {
          let n = shape(x)[1]
          norm(slice(x, 1, n, axis: 1) - slice(x, 0, n - 1, axis: 1), axis: -1)
        }
        let bond0 = consecutive(reshape(s.coords, [1, 214, 3]))
        fn bond_term(x, ctx) = mean((consecutive(x) - bond0) ** 2)
        var first = []
        var second = []
        var weights = []
        for i in 0..214 {
          for j in (i + 1)..min(214, i + 9) {
            first = first + [i]
            second = second + [j]
            weights = weights + [exp(1 - (j - i) / 4)]
          }
        }
        let pairs = len(first)
        let i_idx = tensor(first)
        let j_idx = tensor(second)
        let w = reshape(tensor(weights), [pairs, 1])
        let t = s.coords
        let log_d0 = reshape(log(sum((t[i_idx] - t[j_idx]) ** 2, axis: -1)), [pairs, 1])
        fn log_distance_term(x, ctx) {
          let xn = permute(x, [1, 0, 2])
          let d = log(sum((xn[i_idx] - xn[j_idx]) ** 2, axis: -1) + 1e-6) - log_d0
          sum(d * d * w) / (pairs * shape(x)[0])
        }
        fn step_ms(reg) {
          let r = train_autodecoder(gnn(g, kind: "gcn", seed: 1), data, like: s, epochs: 2, batch: 32, quiet: true, seed: 4, reg: reg)
          1000 * r.seconds / 20
        }
        """, name: "scriptterm.cryo")
        var figures: [(String, Double)] = []
        let template = try ToyProtein.make(residues: 214, seed: 1).models[0]
        let regularizers = try Regularizers(template: Superposition.centred(template))
        var g = SeededGenerator(seed: 6)
        let noisy = (0..<32).flatMap { _ in template.map { Float($0 + 0.3 * g.normal()) } }
        let x = try Tensor(shape: [32, 214, 3], storage: noisy).asParameter()
        let ctx = Record([("latents", .tensor(Tensor.randn([32, 8], using: &g))),
                          ("template", .tensor(try Tensor(shape: [214, 3], storage: Superposition.centred(template).map(Float.init)))),
                          ("indices", .tensor(Tensor((0..<32).map(Float.init))))])
        let cases: [(name: String, builtin: String, script: String, native: () throws -> Tensor, function: String)] = [
            ("bond", "{bond: 5e-4}", "{bond: 0, script: {weight: 5e-4, term: bond_term, count: 213}}", { try regularizers.bond(x) }, "bond_term"),
            ("log_distance", "{log_distance: 1e-3}", "{script: {weight: 1e-3, term: log_distance_term, count: pairs}}",
             { try regularizers.logDistance(x, window: 8, decay: 4) }, "log_distance_term"),
        ]
        for c in cases {
            // The term alone, value and gradient, 50 calls per sample: built in, and called as the trainer calls a script term.
            let function = try interpreter.run(c.function) ?? .null
            let nativeTerm = try medianMilliseconds { for _ in 0..<50 { try gradient(c.native, x) } } / 50
            let scriptTerm = try medianMilliseconds {
                for _ in 0..<50 {
                    try gradient({
                        guard case .tensor(let t) = try interpreter.callValue(function, [.tensor(x), .record(ctx)]) else { throw KernelError("cryobench", "not a tensor") }
                        return t
                    }, x)
                }
            } / 50
            var builtinMs: [Double] = [], scriptMs: [Double] = []
            for _ in 0..<9 {
                builtinMs.append(try number(interpreter.run("step_ms(\(c.builtin))")))
                scriptMs.append(try number(interpreter.run("step_ms(\(c.script))")))
            }
            let (a, b) = (median(builtinMs), median(scriptMs))
            print(String(format: "%@ term, paper GCN step B32 N214 D64: built in %.2f ms, in the language %.2f ms (%.2f×; target ≤ 1.2×); the term alone (value and gradient) %.3f ms built in, %.3f ms in the language, so %.2f× the built-in step",
                         c.name, a, b, b / a, nativeTerm, scriptTerm, (a + scriptTerm - nativeTerm) / a))
            figures += [("script_term_\(c.name)_builtin_step_ms", a), ("script_term_\(c.name)_script_step_ms", b), ("script_term_\(c.name)_step_ratio", b / a),
                        ("script_term_\(c.name)_builtin_term_ms", nativeTerm), ("script_term_\(c.name)_script_term_ms", scriptTerm)]
        }
        return figures
    }

    /// The value of `f` and its gradient with respect to `x`, recorded as the trainer records a loss term.
    private static func gradient(_ f: () throws -> Tensor, _ x: Tensor) throws {
        let (value, tape) = try Tape.record(f)
        _ = try tape.gradients(of: value, wrt: [x])
    }

    private static func number(_ value: Value?) throws -> Double {
        guard case .number(let x)? = value else { throw KernelError("cryobench", "expected a number, got \(String(describing: value))") }
        return x
    }

    private static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
}
