import CryoKernels

/// Conversions between language values and kernel types.
enum ValueConversion {
    /// A tensor from a tensor, a number (rank 0) or a rectangular nested list of numbers.
    static func tensor(_ value: Value) throws -> Tensor {
        switch value {
        case .tensor(let t): return t
        case .number(let x): return Tensor(Float(x))
        case .bool(let b): return Tensor(b ? 1 : 0)
        case .list(let items):
            if items.isEmpty { return Tensor([Float]()) }
            if items.allSatisfy({ if case .number = $0 { return true } else { return false } }) {
                return Tensor(items.map { if case .number(let x) = $0 { return Float(x) } else { return 0 } })
            }
            _ = try elementCount(leadingShape(value), op: "tensor")  // before building 2^depth rows of [x, x]
            let rows = try items.map(tensor)
            guard let first = rows.first, rows.allSatisfy({ $0.shape == first.shape }) else {
                throw ScriptFailure(message: "nested list is not rectangular")
            }
            return try Tensor.stack(rows, axis: 0)
        case .range(let lo, let hi):
            _ = try elementCount([max(0, hi - lo)], op: "tensor")
            return Tensor((lo..<max(lo, hi)).map { Float($0) })
        default:
            throw ScriptFailure(message: "cannot make a tensor from a \(value.typeName)")
        }
    }

    /// The shape a nested list would have if it is rectangular, read along its first elements.
    private static func leadingShape(_ value: Value) -> [Int] {
        var shape: [Int] = [], current = value
        while true {
            switch current {
            case .list(let items):
                shape.append(items.count)
                guard let first = items.first else { return shape }
                current = first
            case .tensor(let t): return shape + t.shape
            default: return shape
            }
        }
    }

    /// The tensors of a list or record of tensors (in order), and a function that rebuilds the same
    /// structure around replacement tensors (for `grad` results).
    static func tensorLeaves(_ value: Value) throws -> (tensors: [Tensor], rebuild: ([Tensor]) -> Value) {
        switch value {
        case .tensor(let t):
            return ([t], { .tensor($0[0]) })
        case .list(let items):
            var all: [Tensor] = [], builders: [(Int, ([Tensor]) -> Value)] = []
            for item in items {
                let (ts, rebuild) = try tensorLeaves(item)
                builders.append((ts.count, rebuild))
                all += ts
            }
            return (all, { replacements in
                var offset = 0
                return .list(builders.map { count, rebuild in
                    defer { offset += count }
                    return rebuild(Array(replacements[offset..<(offset + count)]))
                })
            })
        case .record(let record):
            var all: [Tensor] = [], builders: [(String, Int, ([Tensor]) -> Value)] = []
            for (key, item) in record.fields {
                let (ts, rebuild) = try tensorLeaves(item)
                builders.append((key, ts.count, rebuild))
                all += ts
            }
            return (all, { replacements in
                var offset = 0
                return .record(Record(builders.map { key, count, rebuild in
                    defer { offset += count }
                    return (key, rebuild(Array(replacements[offset..<(offset + count)])))
                }))
            })
        case .object(let o):
            if let model = o as? ParameterHolder { return try tensorLeaves(model.parameterValue) }
            throw ScriptFailure(message: "expected tensors (a tensor, or a list or record of them), got \(o.typeName)")
        default:
            throw ScriptFailure(message: "expected tensors (a tensor, or a list or record of them), got \(value.typeName)")
        }
    }
}

/// An object that owns trainable tensors (a model); `grad`, `adam` and `sgd` accept it in place of its params.
public protocol ParameterHolder: ScriptObject {
    /// The parameters as a record or list of tensors.
    var parameterValue: Value { get }
}
