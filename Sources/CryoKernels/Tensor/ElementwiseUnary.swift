import Foundation

extension Tensor {
    /// Applies `f` to every element, in parallel for large tensors (not recorded: no gradient).
    public func mapUnary(_ f: @escaping (Float) -> Float) -> Tensor {
        apply(ClosureScalar(f: f))
    }

    /// a·x + b for every element x, in parallel for large tensors (not recorded: no gradient).
    public func affine(scale a: Float, offset b: Float) -> Tensor {
        apply(AffineScalar(a: a, b: b))
    }

    /// The elementwise loop shared by every unary op, generic over the function so it is specialised and inlined.
    @inline(__always)
    func apply<F: ScalarFunction>(_ f: F) -> Tensor {
        let n = count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            let o = SharedPointer(base: buffer.baseAddress!)
            storage.withUnsafeBufferPointer { xb in
                let x = xb.baseAddress!
                Parallel.forRanges(n, grain: 1 << 14) { r in for i in r { o.base[i] = f(x[i]) } }
            }
            initialized = n
        }
        return Tensor(uncheckedShape: shape, storage: out)
    }

    /// Runs the unary op `f` and records its VJP `g · f′(x, y)` where `y = f(x)` (computed in parallel), under the
    /// caller's line: each public function is its own op in the registry (`RecordingSite`).
    @inline(__always)
    private func unary<F: UnaryFunction>(_ f: F, line: Int = #line) -> Tensor {
        let out = apply(ValueOf(f))
        Tape.recordIfNeeded(out, inputs: [self], line: line) { [storage, shape] g in
            let n = storage.count
            let d = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
                let o = SharedPointer(base: buffer.baseAddress!)
                storage.withUnsafeBufferPointer { x in out.storage.withUnsafeBufferPointer { y in g.storage.withUnsafeBufferPointer { gp in
                    let (xb, yb, gb) = (x.baseAddress!, y.baseAddress!, gp.baseAddress!)
                    Parallel.forRanges(n, grain: 1 << 14) { r in for i in r { o.base[i] = gb[i] * f.derivative(xb[i], yb[i]) } }
                } } }
                initialized = n
            }
            return [Tensor(uncheckedShape: shape, storage: d)]
        }
        return out
    }

    /// A unary op from closures (for the less frequent functions).
    private func unary(_ value: @escaping (Float) -> Float, derivative: @escaping (Float, Float) -> Float, line: Int = #line) -> Tensor {
        unary(ClosureFunction(value: value, derivative: derivative), line: line)
    }

    /// −x.
    public func negated() -> Tensor { unary(Negate()) }
    /// eˣ.
    public func exp() -> Tensor { unary(Exponential()) }
    /// Natural logarithm (−inf at 0, NaN below).
    public func log() -> Tensor { unary({ Foundation.log($0) }, derivative: { x, _ in 1 / x }) }
    /// Base-10 logarithm (−inf at 0, NaN below).
    public func log10() -> Tensor { unary({ Foundation.log10($0) }, derivative: { x, _ in 1 / (x * Float(M_LN10)) }) }
    /// Square root; the derivative at 0 is +inf, as in PyTorch.
    public func sqrt() -> Tensor { unary({ $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }
    /// |x|, with derivative sign(x) (0 at 0).
    public func abs() -> Tensor { unary({ Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    /// xᵖ for a scalar exponent.
    public func pow(_ p: Float) -> Tensor {
        if p == 2 { return unary(Square()) }
        if p == 1 { return unary({ $0 }, derivative: { _, _ in 1 }) }
        return unary({ Foundation.pow($0, p) }, derivative: { x, _ in p * Foundation.pow(x, p - 1) })
    }
    /// max(x, 0).
    public func relu() -> Tensor { unary(ReLU()) }
    /// 1 / (1 + e⁻ˣ), computed without overflow.
    public func sigmoid() -> Tensor { unary(Sigmoid()) }
    /// x·sigmoid(x) (the SiLU or swish activation).
    public func silu() -> Tensor { unary(SiLU()) }
    /// sin(x) (radians).
    public func sin() -> Tensor { unary({ Foundation.sin($0) }, derivative: { x, _ in Foundation.cos(x) }) }
    /// cos(x) (radians).
    public func cos() -> Tensor { unary({ Foundation.cos($0) }, derivative: { x, _ in -Foundation.sin(x) }) }
    /// tanh(x).
    public func tanh() -> Tensor { unary(HyperbolicTangent()) }
    /// log(1 + eˣ), computed stably for large |x|.
    public func softplus() -> Tensor {
        unary({ Swift.max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) },
              derivative: { x, _ in FastMath.logistic(x) })
    }
}

/// A scalar function as a type, so loops generic over it are specialised per function.
protocol ScalarFunction: Sendable {
    func callAsFunction(_ x: Float) -> Float
}

/// A differentiable scalar function: its value and its derivative given x and y = f(x).
protocol UnaryFunction: Sendable {
    func value(_ x: Float) -> Float
    func derivative(_ x: Float, _ y: Float) -> Float
}

/// The value part of a unary function.
struct ValueOf<F: UnaryFunction>: ScalarFunction {
    let f: F
    init(_ f: F) { self.f = f }
    @inline(__always) func callAsFunction(_ x: Float) -> Float { f.value(x) }
}

struct Negate: UnaryFunction {
    @inline(__always) func value(_ x: Float) -> Float { -x }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { -1 }
}

struct Square: UnaryFunction {
    @inline(__always) func value(_ x: Float) -> Float { x * x }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 2 * x }
}

struct ReLU: UnaryFunction {
    @inline(__always) func value(_ x: Float) -> Float { Swift.max(x, 0) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : 0 }
}

struct Exponential: UnaryFunction {
    @inline(__always) func value(_ x: Float) -> Float { FastMath.exp(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { y }
}

struct Sigmoid: UnaryFunction {
    @inline(__always) func value(_ x: Float) -> Float { FastMath.logistic(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { y * (1 - y) }
}

struct SiLU: UnaryFunction {
    @inline(__always) func value(_ x: Float) -> Float { x * FastMath.logistic(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        let s = FastMath.logistic(x)
        return s * (1 + x * (1 - s))
    }
}

struct HyperbolicTangent: UnaryFunction {
    @inline(__always) func value(_ x: Float) -> Float { 2 * FastMath.logistic(2 * x) - 1 }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 - y * y }
}

/// Any pair of closures as a unary function.
struct ClosureFunction: UnaryFunction, @unchecked Sendable {
    let valueClosure: (Float) -> Float
    let derivativeClosure: (Float, Float) -> Float
    init(value: @escaping (Float) -> Float, derivative: @escaping (Float, Float) -> Float) {
        valueClosure = value
        derivativeClosure = derivative
    }
    @inline(__always) func value(_ x: Float) -> Float { valueClosure(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { derivativeClosure(x, y) }
}

/// x ↦ a·x + b (for `affine`, which records no derivative).
struct AffineScalar: ScalarFunction {
    let a, b: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x * a + b }
}

/// Any closure as a scalar function (for `mapUnary`, which records no derivative).
struct ClosureScalar: ScalarFunction, @unchecked Sendable {
    let f: (Float) -> Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { f(x) }
}
