import CryoKernels
import Interpreter

/// Interpreter overhead: a 1-element elementwise op through the language, and a 64-hidden-unit MLP
/// forward+backward on a [6848, 64] input written in the language vs the same computation called natively (the two
/// timed in alternation, so their ratio is taken over the same seconds).
enum InterpreterBenchmark {
    static func run() throws -> [(String, Double)] {
        let interpreter = Interpreter()
        try interpreter.run("""
        let a = tensor([1.5])
        let b = tensor([2.5])
        fn many_adds(n) { var i = 0; while i < n { a + b; a + b; a + b; a + b; a + b; a + b; a + b; a + b; a + b; a + b; i = i + 1 } }
        let x = randn([6848, 64], seed: 1)
        let p = {w1: param(randn([64, 64], std: 0.1, seed: 2)), b1: param(zeros([64])),
                 w2: param(randn([64, 64], std: 0.1, seed: 3)), b2: param(zeros([64]))}
        fn mlp_loss() = mean(relu(relu(x @ p.w1 + p.b1) @ p.w2 + p.b2) ** 2)
        """)
        let rounds = 2000
        let loopOnly = try medianMilliseconds(repeats: 5) {
            try interpreter.run("var j = 0\nwhile j < \(rounds) { j = j + 1 }")
        }
        let adds = try medianMilliseconds(repeats: 5) { try interpreter.run("many_adds(\(rounds))") }
        let perOpMicroseconds = (adds - loopOnly) * 1000 / Double(rounds * 10)

        var g = SeededGenerator(seed: 9)
        let x = Tensor.randn([6848, 64], using: &g)
        let w1 = Tensor.randn([64, 64], std: 0.1, using: &g), b1 = Tensor.zeros([64])
        let w2 = Tensor.randn([64, 64], std: 0.1, using: &g), b2 = Tensor.zeros([64])
        let (scripted, native) = try interleavedMedianMilliseconds({ try interpreter.run("grad(mlp_loss, p)") }, {
            _ = try valueAndGradient(wrt: [w1, b1, w2, b2]) {
                let h = try (Tensor.matmul(x, w1) + b1).relu()
                return try (Tensor.matmul(h, w2) + b2).relu().pow(2).mean()
            }
        })
        print(String(format: "interpreter: 1-element tensor add %.2f µs/op (target < 2); MLP fwd+bwd [6848,64] H64: language %.2f ms, native %.2f ms, ratio %.2f (target < 1.2)",
                     perOpMicroseconds, scripted, native, scripted / native))
        return [("interp_scalar_tensor_add_us", perOpMicroseconds), ("mlp_fwd_bwd_N6848_H64_language_ms", scripted),
                ("mlp_fwd_bwd_N6848_H64_native_ms", native)]
    }
}
