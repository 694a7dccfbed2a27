import CryoKernels

/// Builtins for trainable parameters, gradients and optimisers.
enum AutodiffBuiltins {
    static let topic = "autodiff"

    static var all: [Builtin] {
        [
            builtin("param", topic: topic, [required("x")],
                    doc: "Marks a tensor as a trainable leaf (gradients are taken with respect to it).",
                    example: "let w = param(randn([8, 10], std: 0.3, seed: 1))") { a in
                .tensor(try a.tensor("x").asParameter())
            },
            builtin("grad", topic: topic, [required("f"), required("params")],
                    doc: "Gradient of the scalar returned by the zero-argument function f, with the structure of params (a tensor, a list or record of them, or a model).",
                    example: "let g = grad(|| loss(p), p)") { a in
                try valueAndGrad(a).grads
            },
            builtin("value_and_grad", topic: topic, [required("f"), required("params")],
                    doc: "Like grad, but returns {value, grads}.",
                    example: "let r = value_and_grad(|| loss(p), p); opt.step(r.grads)") { a in
                let (value, grads) = try valueAndGrad(a)
                return .record(Record([("value", .tensor(value)), ("grads", grads)]))
            },
            builtin("adam", topic: topic, [required("params"), optional("lr", .number(1e-3)), optional("beta1", .number(0.9)),
                                           optional("beta2", .number(0.999)), optional("eps", .number(1e-8))],
                    doc: "Adam optimiser (bias-corrected) over params (a tensor, a list or record of them, or a model); use opt.step(grads).",
                    example: "let opt = adam(p, lr: 1e-3)") { a in
                let (tensors, _) = try leaves(a, "params")
                return .object(OptimizerObject(Adam(tensors, learningRate: Float(try a.number("lr")), beta1: Float(try a.number("beta1")),
                                                    beta2: Float(try a.number("beta2")), epsilon: Float(try a.number("eps"))), name: "adam"))
            },
            builtin("sgd", topic: topic, [required("params"), optional("lr", .number(1e-2)), optional("momentum", .number(0))],
                    doc: "SGD with optional momentum over params (a tensor, a list or record of them, or a model); use opt.step(grads).",
                    example: "let opt = sgd(p, lr: 0.1, momentum: 0.9)") { a in
                let (tensors, _) = try leaves(a, "params")
                return .object(OptimizerObject(SGD(tensors, learningRate: Float(try a.number("lr")), momentum: Float(try a.number("momentum"))), name: "sgd"))
            },
            builtin("gradcheck", topic: topic, [required("f"), required("inputs"), optional("eps", .number(1e-2)), optional("tol", .number(1e-2))],
                    doc: "Checks the gradient of f(inputs...) against central finite differences of step eps; returns {passed, max_error}: max_error is the largest |analytic − numeric| / max(1, |numeric|), passed when it is at most tol.",
                    example: "gradcheck(|x, w| my_layer(x, w), [randn([4, 3]), randn([3, 3])])") { a in
                let inputs = try TensorBuiltins.tensors(a, "inputs")
                let f = try a.callable("f")
                let report = try GradientCheck.check(inputs, epsilon: Float(try a.number("eps")), tolerance: try a.number("tol")) { xs in
                    let out = try a.interpreter.callValue(f, xs.map { .tensor($0) })
                    return try ValueConversion.tensor(out)
                }
                return .record(Record([("passed", .bool(report.passed)), ("max_error", .number(report.maxScaledError))]))
            },
        ]
    }

    static func leaves(_ a: Arguments, _ name: String) throws -> ([Tensor], ([Tensor]) -> Value) {
        do { return try ValueConversion.tensorLeaves(a[name]) } catch let e as ScriptFailure {
            throw ScriptFailure(message: "\(a.callee): argument '\(name)': \(e.message)")
        }
    }

    private static func valueAndGrad(_ a: Arguments) throws -> (value: Tensor, grads: Value) {
        let f = try a.callable("f")
        let (params, rebuild) = try leaves(a, "params")
        let (value, grads) = try valueAndGradient(wrt: params) {
            let result = try a.interpreter.callValue(f, [])
            guard case .tensor(let t) = result, t.count == 1 else {
                throw ScriptFailure(message: "\(a.callee): f must return a one-element tensor (a loss), got \(result.typeName) \(ValueFormatter.brief(result))")
            }
            return t
        }
        return (value, rebuild(grads))
    }
}

/// An optimiser as scripts see it: `opt.step(grads)`, `opt.lr`, `opt.set_lr(x)`, `opt.steps`.
final class OptimizerObject: ScriptObject, @unchecked Sendable {
    let optimizer: Optimizer
    let name: String

    init(_ optimizer: Optimizer, name: String) {
        self.optimizer = optimizer
        self.name = name
    }

    var typeName: String { "optimizer" }
    var summary: String { "<\(name) over \(optimizer.params.count) tensors, lr \(optimizer.learningRate)>" }
    var memberNames: [String] { ["step", "lr", "set_lr", "params"] }

    func member(_ member: String) throws -> Value? {
        switch member {
        case "lr": return .number(Double(optimizer.learningRate))
        case "params": return .list(optimizer.params.map { .tensor($0) })
        case "step":
            return .builtin(builtin("step", topic: "autodiff", [required("grads")],
                                    doc: "Applies one update with gradients shaped like the params.", example: "opt.step(g)") { [optimizer] a in
                let (grads, _) = try AutodiffBuiltins.leaves(a, "grads")
                try optimizer.step(grads)
                return .null
            })
        case "set_lr":
            return .builtin(builtin("set_lr", topic: "autodiff", [required("lr")],
                                    doc: "Changes the learning rate.", example: "opt.set_lr(1e-4)") { [optimizer] a in
                optimizer.learningRate = Float(try a.number("lr"))
                return .null
            })
        default: return nil
        }
    }
}
