import CryoKernels
import DSL
import Foundation

/// The meaning of the language's operators, indexing and member access on values.
enum Operators {
    /// `lhs op rhs` for the arithmetic and comparison operators (`and`/`or` short-circuit in the evaluator).
    static func binary(_ op: BinaryOperator, _ lhs: Value, _ rhs: Value) throws -> Value {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)):
            return try numeric(op, a, b)
        case (.tensor, _), (_, .tensor):
            return try tensorBinary(op, lhs, rhs)
        case (.string(let a), .string(let b)):
            switch op {
            case .add:
                try withinLimit(a.utf8.count + b.utf8.count, "a string of", "bytes")
                return .string(a + b)
            case .lt: return .bool(a < b)
            case .le: return .bool(a <= b)
            case .gt: return .bool(a > b)
            case .ge: return .bool(a >= b)
            default: break
            }
        case (.list(let a), .list(let b)) where op == .add:
            try withinLimit(a.count + b.count, "a list of", "items")
            return .list(a + b)
        default:
            break
        }
        if op == .eq { return .bool(equal(lhs, rhs)) }
        if op == .ne { return .bool(!equal(lhs, rhs)) }
        throw ScriptFailure(message: "operator '\(op.rawValue)' cannot combine \(lhs.typeName) and \(rhs.typeName)")
    }

    /// Refuses a list or string longer than `ElementLimit`, the most elements one tensor may have.
    static func withinLimit(_ count: Int, _ what: String, _ unit: String) throws {
        guard count <= ElementLimit.value else {
            throw ScriptFailure(message: "\(what) \(count) \(unit) is more than the \(ElementLimit.value) one value may hold here")
        }
    }

    private static func numeric(_ op: BinaryOperator, _ a: Double, _ b: Double) throws -> Value {
        switch op {
        case .add: return .number(a + b)
        case .sub: return .number(a - b)
        case .mul: return .number(a * b)
        case .div: return .number(a / b)
        case .mod:
            guard b != 0 else { throw ScriptFailure(message: "modulo by zero") }
            let r = a.truncatingRemainder(dividingBy: b)
            return .number(r != 0 && (r < 0) != (b < 0) ? r + b : r)
        case .pow: return .number(Foundation.pow(a, b))
        case .matmul: throw ScriptFailure(message: "operator '@' needs tensors, got two numbers")
        case .eq: return .bool(a == b)
        case .ne: return .bool(a != b)
        case .lt: return .bool(a < b)
        case .le: return .bool(a <= b)
        case .gt: return .bool(a > b)
        case .ge: return .bool(a >= b)
        case .and, .or: throw ScriptFailure(message: "internal: '\(op.rawValue)' reached arithmetic")
        }
    }

    private static func tensorBinary(_ op: BinaryOperator, _ lhs: Value, _ rhs: Value) throws -> Value {
        let a: Tensor, b: Tensor
        do {
            a = try ValueConversion.tensor(lhs)
            b = try ValueConversion.tensor(rhs)
        } catch {
            throw ScriptFailure(message: "operator '\(op.rawValue)' cannot combine \(lhs.typeName) and \(rhs.typeName)")
        }
        switch op {
        case .add: return .tensor(try a + b)
        case .sub: return .tensor(try a - b)
        case .mul: return .tensor(try a * b)
        case .div: return .tensor(try a / b)
        case .pow:
            if case .number(let p) = rhs { return .tensor(a.pow(Float(p))) }
            return .tensor(try Tensor.pow(a, b))
        case .matmul: return .tensor(try Tensor.matmul(a, b))
        case .eq, .ne:
            if case .tensor = lhs, case .tensor = rhs {
                let same = a.shape == b.shape && a.storage == b.storage
                return .bool(op == .eq ? same : !same)
            }
            return .bool(op == .ne)
        case .lt: return .tensor(try Tensor.mapBinary(a, b, op: "<") { $0 < $1 ? 1 : 0 })
        case .le: return .tensor(try Tensor.mapBinary(a, b, op: "<=") { $0 <= $1 ? 1 : 0 })
        case .gt: return .tensor(try Tensor.mapBinary(a, b, op: ">") { $0 > $1 ? 1 : 0 })
        case .ge: return .tensor(try Tensor.mapBinary(a, b, op: ">=") { $0 >= $1 ? 1 : 0 })
        case .mod, .and, .or:
            throw ScriptFailure(message: "operator '\(op.rawValue)' is not defined for tensors")
        }
    }

    /// Structural equality (tensors compare shape and values).
    static func equal(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)):
            // Lists share storage when one was built from the other ([x, x]): equal without a walk that could take
            // 2^depth steps.
            if x.withUnsafeBufferPointer({ a in y.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress && a.count == b.count } }) {
                return true
            }
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.record(let x), .record(let y)):
            return x.keys.sorted() == y.keys.sorted() && x.keys.allSatisfy { k in equal(x[k] ?? .null, y[k] ?? .null) }
        case (.tensor(let x), .tensor(let y)): return x.shape == y.shape && x.storage == y.storage
        case (.range(let a0, let a1), .range(let b0, let b1)): return a0 == b0 && a1 == b1
        case (.function(let x), .function(let y)): return x === y
        case (.builtin(let x), .builtin(let y)): return x === y
        case (.object(let x), .object(let y)): return x === y
        default: return false
        }
    }

    /// `-v`.
    static func negate(_ v: Value) throws -> Value {
        switch v {
        case .number(let x): return .number(-x)
        case .tensor(let t): return .tensor(t.negated())
        default: throw ScriptFailure(message: "unary '-' needs a number or tensor, got \(v.typeName)")
        }
    }

    /// A list index, allowing negative positions from the end.
    private static func position(_ index: Value, count: Int, of what: String) throws -> Int {
        guard case .number(let x) = index, x == x.rounded(), Swift.abs(x) < 1e15 else {
            throw ScriptFailure(message: "\(what) index must be a whole number, got \(index.typeName) \(ValueFormatter.brief(index))")
        }
        let i = Int(x) < 0 ? Int(x) + count : Int(x)
        guard i >= 0 && i < count else {
            throw ScriptFailure(message: "index \(Int(x)) out of range for \(what) of length \(count)")
        }
        return i
    }

    /// `container[index]`: list and tensor positions, tensor row gathers and ranges, record fields by name.
    static func index(_ container: Value, _ index: Value) throws -> Value {
        switch (container, index) {
        case (.list(let items), .range(let lo, let hi)):
            guard lo >= 0, lo <= hi, hi <= items.count else { throw ScriptFailure(message: "range \(lo)..\(hi) out of bounds for list of length \(items.count)") }
            return .list(Array(items[lo..<hi]))
        case (.list(let items), _):
            return items[try position(index, count: items.count, of: "list")]
        case (.string(let s), _):
            let chars = Array(s)
            return .string(String(chars[try position(index, count: chars.count, of: "string")]))
        case (.tensor(let t), .number):
            guard t.rank >= 1 else { throw ScriptFailure(message: "cannot index a scalar tensor") }
            return .tensor(try t.select(try position(index, count: t.shape[0], of: "tensor axis 0")))
        case (.tensor(let t), .tensor(let rows)):
            return .tensor(try t.gather(rows))
        case (.tensor(let t), .list):
            return .tensor(try t.gather(try ValueConversion.tensor(index)))
        case (.tensor(let t), .range(let lo, let hi)):
            return .tensor(try t.slice(axis: 0, start: lo, end: hi))
        case (.record(let r), .string(let key)):
            guard let v = r[key] else { throw ScriptFailure(message: "record has no field '\(key)' (fields: \(r.keys.joined(separator: ", ")))") }
            return v
        case (.range(let lo, let hi), _):
            return .number(Double(lo + (try position(index, count: Swift.max(0, hi - lo), of: "range"))))
        default:
            throw ScriptFailure(message: "cannot index \(container.typeName) with \(index.typeName)")
        }
    }

    /// `value.name`: record fields, tensor properties and object members.
    static func member(_ value: Value, _ name: String) throws -> Value {
        switch value {
        case .record(let r):
            guard let v = r[name] else {
                throw ScriptFailure(message: "record has no field '\(name)' (fields: \(r.keys.joined(separator: ", ")))")
            }
            return v
        case .tensor(let t):
            switch name {
            case "shape": return .list(t.shape.map { .number(Double($0)) })
            case "rank": return .number(Double(t.rank))
            case "count": return .number(Double(t.count))
            case "grad": return t.grad.map { .tensor($0) } ?? .null
            case "T": return .tensor(try t.transposed())
            default: throw ScriptFailure(message: "tensor has no member '\(name)' (members: shape, rank, count, grad, T)")
            }
        case .object(let o):
            guard let v = try o.member(name) else {
                throw ScriptFailure(message: "\(o.typeName) has no member '\(name)' (members: \(o.memberNames.joined(separator: ", ")))")
            }
            return v
        default:
            throw ScriptFailure(message: "\(value.typeName) has no member '\(name)'")
        }
    }
}
