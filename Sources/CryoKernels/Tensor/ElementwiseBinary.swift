import Foundation

extension Tensor {
    /// Applies `f` elementwise over the broadcast of `a` and `b` (not recorded: no gradient), with fast paths for equal shapes,
    /// scalars and trailing-axis (bias-like) broadcasts, and in parallel for large outputs.
    public static func mapBinary(_ a: Tensor, _ b: Tensor, op: String, _ f: @escaping (Float, Float) -> Float) throws -> Tensor {
        try combine(a, b, op: op, ClosureCombiner(f: f))
    }

    /// The elementwise loop shared by every binary op, generic over the combiner so that the arithmetic
    /// operators are specialised, inlined and vectorised.
    @inline(__always)
    static func combine<C: Combiner>(_ a: Tensor, _ b: Tensor, op: String, _ f: C) throws -> Tensor {
        let shape = try Broadcasting.shape(a.shape, b.shape, op: op)
        let n = shape.reduce(1, *)
        // An empty result (a zero-length axis): nothing to compute, and the block paths below would divide by 0.
        if n == 0 { return Tensor(uncheckedShape: shape, storage: []) }
        let an = a.count, bn = b.count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            let o = SharedPointer(base: buffer.baseAddress!)
            a.storage.withUnsafeBufferPointer { ab in
                b.storage.withUnsafeBufferPointer { bb in
                    let x = ab.baseAddress!, y = bb.baseAddress!
                    if an == n && bn == n && a.shape == b.shape {
                        Parallel.forRanges(n, grain: 1 << 15) { r in for i in r { o.base[i] = f(x[i], y[i]) } }
                    } else if bn == 1 && an == n {
                        let s = y[0]
                        Parallel.forRanges(n, grain: 1 << 15) { r in for i in r { o.base[i] = f(x[i], s) } }
                    } else if an == 1 && bn == n {
                        let s = x[0]
                        Parallel.forRanges(n, grain: 1 << 15) { r in for i in r { o.base[i] = f(s, y[i]) } }
                    } else if an == n && isTrailingBlock(b.shape, of: shape) {
                        Parallel.forRanges(n / bn, grain: Swift.max(1, (1 << 15) / bn)) { rows in
                            for row in rows { let base = row * bn; for k in 0..<bn { o.base[base + k] = f(x[base + k], y[k]) } }
                        }
                    } else if bn == n && isTrailingBlock(a.shape, of: shape) {
                        Parallel.forRanges(n / an, grain: Swift.max(1, (1 << 15) / an)) { rows in
                            for row in rows { let base = row * an; for k in 0..<an { o.base[base + k] = f(x[k], y[base + k]) } }
                        }
                    } else {
                        let sa = Broadcasting.strides(of: a.shape, broadcastTo: shape)
                        let sb = Broadcasting.strides(of: b.shape, broadcastTo: shape)
                        Broadcasting.walkRows(shape, sa, sb) { out, j, k, length, ia, ib in
                            let (dst, xa, yb) = (o.base + out, x + j, y + k)
                            if ia == 1 && ib == 1 {
                                for m in 0..<length { dst[m] = f(xa[m], yb[m]) }
                            } else if ia == 1 && ib == 0 {
                                let c = yb[0]
                                for m in 0..<length { dst[m] = f(xa[m], c) }
                            } else if ia == 0 && ib == 1 {
                                let c = xa[0]
                                for m in 0..<length { dst[m] = f(c, yb[m]) }
                            } else {
                                for m in 0..<length { dst[m] = f(xa[m * ia], yb[m * ib]) }
                            }
                        }
                    }
                }
            }
            initialized = n
        }
        return Tensor(uncheckedShape: shape, storage: out)
    }

    /// True when `small`, with leading 1s dropped, equals the trailing axes of `shape` (so it repeats as a block).
    private static func isTrailingBlock(_ small: [Int], of shape: [Int]) -> Bool {
        let trimmed = Array(small.drop(while: { $0 == 1 }))
        return !trimmed.isEmpty && trimmed.count <= shape.count && Array(shape.suffix(trimmed.count)) == trimmed
    }

    /// Elementwise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try combine(a, b, op: "add", Add())
        let (sa, sb, da, db) = (a.shape, b.shape, a.requiresGrad, b.requiresGrad)
        Tape.recordIfNeeded(out, inputs: [a, b]) { g in [da ? try g.sum(toShape: sa) : nil, db ? try g.sum(toShape: sb) : nil] }
        return out
    }

    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try combine(a, b, op: "sub", Subtract())
        let (sa, sb, da, db) = (a.shape, b.shape, a.requiresGrad, b.requiresGrad)
        Tape.recordIfNeeded(out, inputs: [a, b]) { g in [da ? try g.sum(toShape: sa) : nil, db ? try g.negated().sum(toShape: sb) : nil] }
        return out
    }

    /// Elementwise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try combine(a, b, op: "mul", Multiply())
        Tape.recordIfNeeded(out, inputs: [a, b]) { g in
            [a.requiresGrad ? try (g * b).sum(toShape: a.shape) : nil,
             b.requiresGrad ? try (g * a).sum(toShape: b.shape) : nil]
        }
        return out
    }

    /// Elementwise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try combine(a, b, op: "div", Divide())
        Tape.recordIfNeeded(out, inputs: [a, b]) { g in
            [a.requiresGrad ? try (g / b).sum(toShape: a.shape) : nil,
             b.requiresGrad ? try mapBinary(try g * out, b, op: "div") { -$0 / $1 }.sum(toShape: b.shape) : nil]
        }
        return out
    }

    /// Elementwise power `a ** b` with broadcasting; the derivative in `b` uses log(a) (NaN for a < 0).
    public static func pow(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let out = try mapBinary(a, b, op: "pow") { Foundation.pow($0, $1) }
        Tape.recordIfNeeded(out, inputs: [a, b]) { g in
            [a.requiresGrad ? try (g * mapBinary(a, b, op: "pow") { $1 * Foundation.pow($0, $1 - 1) }).sum(toShape: a.shape) : nil,
             b.requiresGrad ? try (g * out * a.log()).sum(toShape: b.shape) : nil]
        }
        return out
    }

    /// Elementwise larger of `a` and `b`; the gradient goes to `a` on ties.
    public static func maximum(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let out = try mapBinary(a, b, op: "maximum") { Swift.max($0, $1) }
        Tape.recordIfNeeded(out, inputs: [a, b]) { g in
            let takeA = try mapBinary(a, b, op: "maximum") { $0 >= $1 ? 1 : 0 }
            return [try (g * takeA).sum(toShape: a.shape), try (g * (1 - takeA)).sum(toShape: b.shape)]
        }
        return out
    }

    /// Elementwise smaller of `a` and `b`; the gradient goes to `a` on ties.
    public static func minimum(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try maximum(a.negated(), b.negated()).negated()
    }

    /// `a + s` for a scalar `s`.
    public static func + (a: Tensor, s: Float) throws -> Tensor { try a + Tensor(s) }
    /// `s + a` for a scalar `s`.
    public static func + (s: Float, a: Tensor) throws -> Tensor { try Tensor(s) + a }
    /// `a - s` for a scalar `s`.
    public static func - (a: Tensor, s: Float) throws -> Tensor { try a - Tensor(s) }
    /// `s - a` for a scalar `s`.
    public static func - (s: Float, a: Tensor) throws -> Tensor { try Tensor(s) - a }
    /// `a * s` for a scalar `s`.
    public static func * (a: Tensor, s: Float) throws -> Tensor { try a * Tensor(s) }
    /// `s * a` for a scalar `s`.
    public static func * (s: Float, a: Tensor) throws -> Tensor { try Tensor(s) * a }
    /// `a / s` for a scalar `s`.
    public static func / (a: Tensor, s: Float) throws -> Tensor { try a / Tensor(s) }
    /// `s / a` for a scalar `s`.
    public static func / (s: Float, a: Tensor) throws -> Tensor { try Tensor(s) / a }
}

/// An elementwise binary function as a type, so loops generic over it are specialised per operation.
protocol Combiner: Sendable {
    func callAsFunction(_ a: Float, _ b: Float) -> Float
}

struct Add: Combiner { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b } }
struct Subtract: Combiner { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b } }
struct Multiply: Combiner { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b } }
struct Divide: Combiner { @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b } }

/// Any closure as a combiner (for the less frequent ops: comparisons, powers, extrema).
struct ClosureCombiner: Combiner, @unchecked Sendable {
    let f: (Float, Float) -> Float
    @inline(__always) func callAsFunction(_ a: Float, _ b: Float) -> Float { f(a, b) }
}
