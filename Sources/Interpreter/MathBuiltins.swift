import CryoKernels
import Foundation

/// Elementwise math, reductions and products; unary functions also accept plain numbers.
enum MathBuiltins {
    static let topic = "math"

    private static func unary(_ name: String, _ doc: String, _ tensorOp: @escaping (Tensor) -> Tensor,
                              _ numberOp: @escaping (Double) -> Double) -> Builtin {
        builtin(name, topic: topic, [required("x")], doc: doc, example: "\(name)(x)") { a in
            if case .number(let x) = a["x"] { return .number(numberOp(x)) }
            return .tensor(tensorOp(try a.tensor("x")))
        }
    }

    static var all: [Builtin] {
        [
            unary("relu", "max(x, 0) elementwise.", { $0.relu() }, { Swift.max($0, 0) }),
            unary("silu", "x·sigmoid(x) elementwise.", { $0.silu() }, { $0 / (1 + Foundation.exp(-$0)) }),
            unary("sigmoid", "1/(1+e^-x) elementwise.", { $0.sigmoid() }, { 1 / (1 + Foundation.exp(-$0)) }),
            unary("tanh", "tanh(x) elementwise.", { $0.tanh() }, { Foundation.tanh($0) }),
            unary("sin", "sin(x) elementwise (radians).", { $0.sin() }, { Foundation.sin($0) }),
            unary("cos", "cos(x) elementwise (radians).", { $0.cos() }, { Foundation.cos($0) }),
            unary("exp", "e^x elementwise.", { $0.exp() }, { Foundation.exp($0) }),
            unary("log", "Natural logarithm elementwise.", { $0.log() }, { Foundation.log($0) }),
            unary("log10", "Base-10 logarithm elementwise.", { $0.log10() }, { Foundation.log10($0) }),
            unary("sqrt", "Square root elementwise.", { $0.sqrt() }, { $0.squareRoot() }),
            unary("abs", "|x| elementwise.", { $0.abs() }, { Swift.abs($0) }),
            unary("softplus", "log(1+e^x) elementwise, stable for large x.", { $0.softplus() },
                  { Swift.max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) }),
            unary("floor", "Largest whole number ≤ x (not differentiable).", { $0.mapUnary { $0.rounded(.down) } }, { $0.rounded(.down) }),
            unary("ceil", "Smallest whole number ≥ x (not differentiable).", { $0.mapUnary { $0.rounded(.up) } }, { $0.rounded(.up) }),
            unary("round", "Nearest whole number (not differentiable).", { $0.mapUnary { $0.rounded() } }, { $0.rounded() }),
            builtin("sum", topic: topic, [required("x"), optional("axis", .null), optional("keepdims", .bool(false))],
                    doc: "Sum of all elements, or along one axis.", example: "sum(x, axis: -1)") { a in
                let x = try a.tensor("x")
                guard let axis = try a.optionalInt("axis") else { return .tensor(x.sum()) }
                return .tensor(try x.sum(axis: axis, keepDims: try a.bool("keepdims")))
            },
            builtin("mean", topic: topic, [required("x"), optional("axis", .null), optional("keepdims", .bool(false))],
                    doc: "Mean of all elements, or along one axis.", example: "mean((y - t) ** 2)") { a in
                let x = try a.tensor("x")
                guard let axis = try a.optionalInt("axis") else { return .tensor(try x.mean()) }
                return .tensor(try x.mean(axis: axis, keepDims: try a.bool("keepdims")))
            },
            builtin("norm", topic: topic, [required("x"), optional("axis", .null), optional("keepdims", .bool(false))],
                    doc: "Euclidean norm of all elements, or along one axis.", example: "norm(coords[1..n] - coords[0..n-1], axis: -1)") { a in
                .tensor(try a.tensor("x").norm(axis: try a.optionalInt("axis"), keepDims: try a.bool("keepdims")))
            },
            extremum("max", "Largest value: of a tensor (optionally along an axis), of a list, or of several numbers.", +1),
            extremum("min", "Smallest value: of a tensor (optionally along an axis), of a list, or of several numbers.", -1),
            builtin("maximum", topic: topic, [required("a"), required("b")], doc: "Elementwise larger of two tensors (broadcast).",
                    example: "maximum(x, 0)") { a in
                .tensor(try Tensor.maximum(try a.tensor("a"), try a.tensor("b")))
            },
            builtin("minimum", topic: topic, [required("a"), required("b")], doc: "Elementwise smaller of two tensors (broadcast).",
                    example: "minimum(d, 4.0)") { a in
                .tensor(try Tensor.minimum(try a.tensor("a"), try a.tensor("b")))
            },
            builtin("pow", topic: topic, [required("x"), required("p")], doc: "x to the power p elementwise (same as x ** p).",
                    example: "pow(d, 2)") { a in
                try Operators.binary(.pow, a["x"], a["p"])
            },
            builtin("pca", topic: topic, [required("x"), optional("k", .number(1))],
                    doc: "Projections [M,k] of the rows of x [M,L] onto their k leading principal axes.", example: "let pc = pca(r.latents, k: 2)") { a in
                let x = try a.tensor("x")
                guard x.rank == 2 else { throw a.fail("x", "a matrix [M,L]", a["x"]) }
                let k = Swift.max(1, Swift.min(try a.int("k"), x.shape[1]))
                return .tensor(try Tensor(shape: [x.shape[0], k], storage: PrincipalComponents.project(x.storage, dimension: x.shape[1], components: k)))
            },
            builtin("matmul", topic: topic, [required("a"), required("b")], doc: "Matrix product over the last two axes (same as a @ b).",
                    example: "matmul(h, w)") { a in
                .tensor(try Tensor.matmul(try a.tensor("a"), try a.tensor("b")))
            },
        ]
    }

    /// `max`/`min`: a tensor reduction, a list's extremum, or the extremum of several numbers.
    private static func extremum(_ name: String, _ doc: String, _ sign: Double) -> Builtin {
        builtin(name, topic: topic, [required("values"), optional("axis", .null), optional("keepdims", .bool(false))], variadic: true,
                doc: doc, example: "\(name)(x, axis: 0); \(name)(3, 7); \(name)([1, 5, 2])") { a in
            var items = try a.list("values")
            if items.count == 1, case .list(let inner) = items[0] { items = inner }
            if items.count == 1, case .tensor(let t) = items[0] {
                let s = Float(sign)
                let signed = sign > 0 ? t : t.negated()
                let reduced = try signed.max(axis: try a.optionalInt("axis"), keepDims: try a.bool("keepdims"))
                return .tensor(sign > 0 ? reduced : try reduced * s)
            }
            let numbers = try items.map { v -> Double in
                guard case .number(let x) = v else { throw a.fail("values", "numbers, a list of numbers or one tensor", v) }
                return x
            }
            guard let first = numbers.first else { throw ScriptFailure(message: "\(name) of no values") }
            return .number(numbers.dropFirst().reduce(first) { sign > 0 ? Swift.max($0, $1) : Swift.min($0, $1) })
        }
    }
}
